"""The Prometheus rules `meshwatch export prometheus-rules` writes, read back as YAML: windows,
thresholds, padding, min_events, timing and what is said not to map (promtool runs them in
tests/integration/test_export_promtool.py)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import yaml

from monitor.contracts.model import DataProduct, Indicator, Objective, Owner, Port
from monitor.exports import ExportPolicy, prometheus_rules
from monitor.slo import AlertPolicy
from monitor.values.calendar import CalendarPeriod

API = Port("api", "http", interval=timedelta(minutes=1))
AVAILABILITY = Objective("api-availability", Indicator.AVAILABILITY, Decimal("0.999"), port="api")
ERRORS = Objective('say "hi"', Indicator.ERROR_RATE, Decimal("0.99"), port="api")
MONTHLY = Objective("monthly", Indicator.AVAILABILITY, Decimal("0.99"), port="api",
                    calendar=CalendarPeriod.MONTH)
ORDERS = DataProduct("checkout", "orders", Owner("checkout"), ports=(API,),
                     objectives=(AVAILABILITY, ERRORS, MONTHLY), start=date(2026, 1, 1))
SEL = '{product="checkout/orders",objective="api-availability"}'
POLICY = ExportPolicy(AlertPolicy(min_events=25), for_=timedelta(minutes=2),
                      keep_firing_for=timedelta(minutes=10))


def _groups(text: str) -> dict[str, dict]:
    return {group["name"]: group for group in yaml.safe_load(text)["groups"]}


def _rules(group: dict) -> dict[str, dict]:
    return {rule.get("record") or rule["alert"]: rule for rule in group["rules"]}


def test_a_30_day_objective_gets_the_workbook_windows_and_thresholds_with_min_events():
    rules = _rules(_groups(prometheus_rules([ORDERS], POLICY))[
        "meshwatch-slo:checkout/orders:api-availability"])
    records = [name for name in rules if name.startswith("meshwatch:slo_events:")]
    assert records == [f"meshwatch:slo_events:increase{w}" for w in ("5m", "30m", "1h", "6h", "3d", "30d")]
    fast = rules["MeshwatchFastBurn"]
    assert fast["expr"].splitlines() == [
        f"meshwatch:slo_error_ratio:increase1h{SEL} > 0.0144",
        f"and meshwatch:slo_error_ratio:increase5m{SEL} > 0.0144",
        f"and meshwatch:slo_events:increase1h{SEL} >= 25"]
    assert (fast["for"], fast["keep_firing_for"]) == ("2m", "10m")
    assert fast["labels"] == {"product": "checkout/orders", "objective": "api-availability",
                              "severity": "page", "condition": "fast_burn"}
    assert rules["MeshwatchSustainedBurn"]["expr"].startswith(
        f"meshwatch:slo_error_ratio:increase6h{SEL} > 0.006\n")
    assert rules["MeshwatchSlowBurn"]["labels"]["severity"] == "ticket"
    assert rules["MeshwatchBudgetExhausted"]["expr"].splitlines()[0] == \
        f"meshwatch:slo_error_ratio:increase30d{SEL} >= 0.001"


def test_one_event_per_probe_pads_a_window_to_the_events_it_holds_and_counted_requests_do_not():
    groups = _groups(prometheus_rules([ORDERS], POLICY))
    probed = _rules(groups["meshwatch-slo:checkout/orders:api-availability"])
    assert probed["meshwatch:slo_error_ratio:increase1h"]["expr"].splitlines()[-1] == \
        f"clamp_min(meshwatch:slo_events:increase1h{SEL}, 60)"
    counted = _rules(groups['meshwatch-slo:checkout/orders:say "hi"'])
    ratio = counted["meshwatch:slo_error_ratio:increase1h"]["expr"]
    assert "clamp_min" not in ratio
    assert 'objective="say \\"hi\\""' in ratio  # a quote in a name stays inside the matcher


def test_a_calendar_window_keeps_its_burn_alerts_and_says_why_its_budget_alert_is_left_out():
    text = prometheus_rules([ORDERS], POLICY)
    rules = _rules(_groups(text)["meshwatch-slo:checkout/orders:monthly"])
    assert "MeshwatchFastBurn" in rules and "MeshwatchBudgetExhausted" not in rules
    assert "meshwatch:slo_events:increase30d" not in rules
    assert "# not exported: budget_exhausted of the calendar window (month)" in text
    assert "# not exported: the contract's term (2026-01-01 to …)" in text


def test_no_timing_settings_no_for_and_an_empty_mesh_is_an_empty_rule_file():
    rules = _rules(_groups(prometheus_rules([ORDERS], ExportPolicy()))[
        "meshwatch-slo:checkout/orders:api-availability"])
    assert "for" not in rules["MeshwatchFastBurn"] and "keep_firing_for" not in rules["MeshwatchFastBurn"]
    assert yaml.safe_load(prometheus_rules([], ExportPolicy())) == {"groups": []}
