"""`meshwatch export sloth`: every spec and AlertWindows document valid by the schemas written
from Sloth's published spec (tests/fixtures/exports), with meshwatch's objectives in them."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import jsonschema
import yaml

from monitor.contracts.model import DataProduct, Indicator, Objective, Owner, Port
from monitor.exports import ExportPolicy, sloth_alert_windows, sloth_specs
from tests.support.repository import ROOT

SCHEMAS = ROOT / "tests" / "fixtures" / "exports"
API = Port("api", "http", interval=timedelta(minutes=1))
ORDERS = DataProduct("checkout", "orders", Owner("checkout"), ports=(API,), objectives=(
    Objective("api-availability", Indicator.AVAILABILITY, Decimal("0.999"), port="api"),
    Objective("weekly errors", Indicator.ERROR_RATE, Decimal("0.99"), port="api",
              window=timedelta(days=7))))


def _schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text())


def test_each_product_and_window_is_one_valid_spec_over_the_event_counter():
    specs = list(yaml.safe_load_all(sloth_specs([ORDERS], ExportPolicy())))
    for spec in specs:
        jsonschema.validate(spec, _schema("sloth-prometheus-v1.schema.json"))
    assert [(s["service"], [slo["name"] for slo in s["slos"]]) for s in specs] == [
        ("checkout-orders", ["weekly-errors"]), ("checkout-orders", ["api-availability"])]
    [slo] = specs[1]["slos"]
    assert slo["objective"] == 99.9
    assert slo["sli"]["events"]["error_query"] == ('sum(rate(meshwatch_slo_events_total{product='
                                                   '"checkout/orders",objective="api-availability",'
                                                   'outcome="bad"}[{{.window}}]))')
    assert slo["alerting"]["page_alert"]["labels"] == {"severity": "page"}


def test_the_spec_says_how_to_generate_it_and_what_sloth_leaves_out():
    text = sloth_specs([ORDERS], ExportPolicy())
    assert "# sloth generate --default-slo-period 7d --slo-period-windows-path DIR" in text
    assert "min_events" in text and "budget_exhausted" in text


def test_the_alert_windows_are_meshwatchs_rules_scaled_to_each_objective_window():
    documents = list(yaml.safe_load_all(sloth_alert_windows([ORDERS], ExportPolicy())))
    for document in documents:
        jsonschema.validate(document, _schema("sloth-alert-windows-v1.schema.json"))
    month = next(d["spec"] for d in documents if d["spec"]["sloPeriod"] == "30d")
    assert month["page"] == {"quick": {"errorBudgetPercent": 2.0, "shortWindow": "5m", "longWindow": "1h"},
                             "slow": {"errorBudgetPercent": 5.0, "shortWindow": "30m", "longWindow": "6h"}}
    assert month["ticket"]["quick"] == month["ticket"]["slow"] == {
        "errorBudgetPercent": 10.0, "shortWindow": "6h", "longWindow": "3d"}
    week = next(d["spec"] for d in documents if d["spec"]["sloPeriod"] == "7d")
    assert week["page"]["quick"]["longWindow"] == "14m"  # 1 h × 7/30
