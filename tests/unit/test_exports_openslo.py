"""`meshwatch export openslo`: every document valid by the schema written from the OpenSLO v1
specification (tests/fixtures/exports), every reference resolving to a document of the export."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import jsonschema
import yaml

from monitor.contracts.model import DataProduct, Indicator, Objective, Owner, Port
from monitor.exports import ExportPolicy, openslo_documents
from monitor.exports.openslo import rfc1123, shorthand
from monitor.values.calendar import CalendarPeriod
from tests.support.repository import ROOT

SCHEMA = json.loads((ROOT / "tests" / "fixtures" / "exports" / "openslo-v1.schema.json").read_text())
API = Port("api", "http", interval=timedelta(minutes=1))
ORDERS = DataProduct("checkout", "orders", Owner("checkout", "checkout@contoso.example"),
                     ports=(API,), objectives=(
    Objective("api-availability", Indicator.AVAILABILITY, Decimal("0.999"), port="api"),
    Objective("monthly", Indicator.AVAILABILITY, Decimal("0.99"), port="api",
              calendar=CalendarPeriod.MONTH, timezone="Europe/Amsterdam"),
    Objective("daily", Indicator.ERROR_RATE, Decimal("0.99"), port="api", window=timedelta(days=1))))


def _named(name: str) -> dict:
    return next(d for d in _documents() if d["metadata"]["name"] == name)


def _documents() -> list[dict]:
    return list(yaml.safe_load_all(openslo_documents([ORDERS], ExportPolicy())))


def test_every_document_is_valid_openslo_v1_and_every_reference_resolves():
    documents = _documents()
    for document in documents:
        jsonschema.validate(document, SCHEMA)
    names = {(d["kind"], d["metadata"]["name"]) for d in documents}
    assert len(names) == len(documents)
    for document in documents:
        spec = document["spec"]
        if document["kind"] == "SLO":
            assert ("Service", spec["service"]) in names
            assert all(("AlertPolicy", p["alertPolicyRef"]) in names for p in spec["alertPolicies"])
        if document["kind"] == "AlertPolicy":
            assert all(("AlertCondition", c["conditionRef"]) in names for c in spec["conditions"])
            assert all(("AlertNotificationTarget", t["targetRef"]) in names
                       for t in spec["notificationTargets"])
    kinds = [d["kind"] for d in documents]
    assert (kinds.count("Service"), kinds.count("SLO"), kinds.count("AlertPolicy"),
            kinds.count("AlertCondition")) == (1, 3, 9, 9)


def test_the_short_window_and_min_events_are_annotations_of_the_burn_rate_condition():
    fast = _named("checkout-orders-daily-fast-burn-condition")
    assert fast["spec"]["condition"] == {"kind": "burnrate", "op": "gt", "threshold": 14.4,
                                         "lookbackWindow": "2m", "alertAfter": "0m"}
    assert fast["metadata"]["annotations"] == {"meshwatch/short-window": "2m",
                                               "meshwatch/min-events": "10",
                                               "meshwatch/condition": "fast_burn"}
    slow = _named("checkout-orders-daily-slow-burn-condition")
    assert slow["spec"]["condition"]["lookbackWindow"] == "144m"  # one number, one unit


def test_a_calendar_month_is_a_calendar_aligned_window_in_its_time_zone():
    monthly = _named("checkout-orders-monthly")
    assert monthly["spec"]["timeWindow"] == [{"duration": "1M", "isRolling": False, "calendar": {
        "startTime": "2024-01-01 00:00:00", "timeZone": "Europe/Amsterdam"}}]
    assert "budget_exhausted" in monthly["metadata"]["annotations"]["meshwatch/not-exported"]


def test_names_are_rfc_1123_labels_and_durations_one_unit():
    assert rfc1123("Checkout/Orders", "API availability") == "checkout-orders-api-availability"
    long = rfc1123("d/" + "x" * 80)
    assert len(long) == 63 and long != rfc1123("d/" + "x" * 81)
    assert [shorthand(timedelta(minutes=m)) for m in (5, 60, 144, 1440, 4320)] == [
        "5m", "1h", "144m", "1d", "3d"]
