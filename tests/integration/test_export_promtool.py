"""`meshwatch export prometheus-rules` against the real promtool (Debian's `prometheus`): the
rules pass `promtool check rules`, and on the same events `promtool test rules` fires them at
exactly the minutes meshwatch's own evaluation (evaluate_mesh over a real store) finds each
condition — a fast-burn page, a sustained burn, a slow-burn ticket, an exhausted budget,
min_events keeping a low-traffic objective quiet, and each resolving."""

from __future__ import annotations

import shutil
import subprocess
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.config.loading import load_config
from monitor.evaluation.mesh import evaluate_mesh
from monitor.exports.objectives import COUNTER
from monitor.slo import ConditionName
from monitor.slo.conditions import alert_name
from monitor.store import open_store
from monitor.store.events import Event, record_events
from tests.support.daemon import write_config

PROMTOOL = shutil.which("promtool")
pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian package prometheus) "
                                                         "is needed; scripts/test installs it")
START = datetime(2026, 6, 1, tzinfo=UTC)  # promtool's time 0
MINUTES = 300
EXPORTED = (ConditionName.FAST_BURN, ConditionName.SUSTAINED_BURN, ConditionName.SLOW_BURN,
            ConditionName.BUDGET_EXHAUSTED)
SETTINGS = """\
    slo: {min_events: 10}
    alerting: {for: 0s, keep_firing_for: 0s}
    """
# a 1-day window scales the rules to: fast 2m/2m × 14.4, sustained 12m/2m × 6, slow 144m/12m × 1
SHOP = """\
    apiVersion: meshwatch/v1
    kind: DataProduct
    metadata: {domain: shop, name: api}
    owner: {team: shop}
    ports:
      - {name: api, type: heartbeat, token: a-long-enough-token, interval: 1m}
    objectives:
      - {name: requests, port: api, indicator: error_rate, target: 99%, window: 1d}
      - {name: availability, port: api, indicator: availability, target: 99%, window: 1d}
    """


def requests_per_minute(minute: int) -> tuple[int, int]:
    """(good, total) of the counted requests: 20 a minute; half fail for ten minutes (a fast
    burn), then 1 in 40 fails for two hours (a slow burn), then all is well again."""
    if 60 <= minute < 70:
        return 10, 20
    if 120 <= minute < 240 and minute % 2 == 0:
        return 19, 20
    return 20, 20


def availability_per_minute(minute: int) -> tuple[int, int]:
    """One probe a minute: down for the same ten minutes, then down one minute in ten. Two
    events in the fast-burn windows are fewer than min_events: it never pages on those."""
    down = 60 <= minute < 70 or (120 <= minute < 240 and minute % 10 == 0)
    return (0, 1) if down else (1, 1)


SCENARIO = {"requests": requests_per_minute, "availability": availability_per_minute}


def _events() -> list[Event]:
    return [Event("shop/api", objective, START + timedelta(minutes=minute), *counts(minute))
            for minute in range(1, MINUTES + 1) for objective, counts in SCENARIO.items()]


def meshwatch_conditions(config_dir: Path, tmp_path: Path) -> tuple[dict[int, set], dict]:
    """Per minute, the (objective, condition) pairs that hold in meshwatch's own evaluation of
    the scenario's events in a real store; and the evaluations, for the scenario's checks."""
    config = load_config(config_dir)
    engine = open_store(f"sqlite:///{tmp_path / 'meshwatch.db'}")
    with engine.begin() as connection:
        record_events(connection, _events())
    holding: dict[int, set] = {}
    evaluations: dict[tuple[int, str], object] = {}
    with engine.connect() as connection:
        for minute in range(1, MINUTES + 1):
            reports = evaluate_mesh(connection, config.registry.products.values(),
                                    START + timedelta(minutes=minute), config.settings.slo.policy())
            holding[minute] = {(r.objective.name, c.name) for r in reports
                               for c in r.evaluation.conditions if c.name in EXPORTED}
            evaluations.update({(minute, r.objective.name): r.evaluation for r in reports})
    engine.dispose()
    return holding, evaluations


def input_series() -> list[dict]:
    """The counter as a scrape every minute sees it: at minute t, the events up to t."""
    series = []
    for objective, counts in SCENARIO.items():
        for outcome in ("good", "bad"):
            values, total = [0], 0
            for minute in range(1, MINUTES + 1):
                good, all_ = counts(minute)
                total += good if outcome == "good" else all_ - good
                values.append(total)
            labels = (f'product="shop/api",objective="{objective}",indicator="'
                      f'{"error_rate" if objective == "requests" else "availability"}",'
                      f'outcome="{outcome}"')
            series.append({"series": f"{COUNTER}{{{labels}}}", "values": " ".join(map(str, values))})
    return series


def alert_tests(holding: dict[int, set], rules: dict, shift: int = 0) -> list[dict]:
    """promtool's expectations: at each minute, every exported alert firing exactly where
    meshwatch's condition holds (`shift`: expect them that many minutes late instead)."""
    annotations = {(r["alert"], r["labels"]["objective"]): r["annotations"]
                   for group in rules["groups"] for r in group["rules"] if "alert" in r}
    tests = []
    for minute in range(1, MINUTES + 1):
        for condition in EXPORTED:
            firing = sorted(o for o, c in holding.get(minute - shift, set()) if c == condition)
            tests.append({"eval_time": f"{minute}m", "alertname": alert_name(condition),
                          "exp_alerts": [{"exp_labels": {
                              "product": "shop/api", "objective": objective,
                              "severity": condition.severity.value, "condition": condition.value},
                              "exp_annotations": annotations[(alert_name(condition), objective)]}
                              for objective in firing]})
    return tests


def promtool(*args: str | Path) -> subprocess.CompletedProcess:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *map(str, args)], capture_output=True, text=True, timeout=300)


@pytest.fixture
def exported(tmp_path) -> tuple[Path, Path, dict]:
    config_dir = write_config(tmp_path / "config", {"shop.yaml": SHOP}, settings=SETTINGS)
    rules_file = tmp_path / "rules.yaml"
    result = CliRunner().invoke(app, ["export", "prometheus-rules", "--config", str(config_dir),
                                      "--output", str(rules_file)])
    assert result.exit_code == 0, result.output
    return config_dir, rules_file, yaml.safe_load(rules_file.read_text())


def test_promtool_accepts_the_exported_rules(exported):
    _, rules_file, rules = exported
    checked = promtool("check", "rules", rules_file)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # 2 objectives × (4 windows (2m, 12m, 2h24m, 1d) × 3 recording rules + 4 alerts)
    assert "SUCCESS: 32 rules found" in checked.stdout
    assert [group["interval"] for group in rules["groups"]] == ["1m", "1m"]


def test_promtool_fires_the_rules_at_the_minutes_meshwatch_finds_each_condition(exported, tmp_path):
    config_dir, rules_file, rules = exported
    holding, evaluations = meshwatch_conditions(config_dir, tmp_path)
    minutes = defaultdict(list)
    for minute, pairs in sorted(holding.items()):
        for pair in pairs:
            minutes[pair].append(minute)
    # the scenario shows what it says: each condition holds, for a while, then clears
    assert minutes[("requests", "fast_burn")] == list(range(60, 71))  # (t - 2m, t] held a bad one
    assert minutes[("requests", "slow_burn")][0] < 120 < 240 < minutes[("requests", "slow_burn")][-1]
    assert minutes[("requests", "slow_burn")][-1] < MINUTES
    assert minutes[("availability", "sustained_burn")]
    assert minutes[("availability", "budget_exhausted")]
    # availability's fast-burn windows burn above 14.4 while it is down, but hold 2 events: quiet
    assert evaluations[(62, "availability")].burn_rates[timedelta(minutes=2)] == 100.0
    assert ("availability", "fast_burn") not in minutes

    unit_tests = tmp_path / "rules_test.yaml"
    unit_tests.write_text(yaml.safe_dump({
        "rule_files": [rules_file.name], "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": input_series(),
                   "alert_rule_test": alert_tests(holding, rules)}]}, sort_keys=False))
    tested = promtool("test", "rules", unit_tests)
    assert tested.returncode == 0, (tested.stdout + tested.stderr)[-5_000:]
    assert "SUCCESS" in tested.stdout

    # and the comparison can fail: the same alerts a minute late are not what promtool fires
    unit_tests.write_text(yaml.safe_dump({
        "rule_files": [rules_file.name], "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": input_series(),
                   "alert_rule_test": alert_tests(holding, rules, shift=1)}]}, sort_keys=False))
    assert promtool("test", "rules", unit_tests).returncode != 0
