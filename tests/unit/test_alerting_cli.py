"""`meshwatch alerts`, `meshwatch silence …` and the alerting settings, as a user runs them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.alerting import process_evaluations
from monitor.cli.app import app
from monitor.config.loading import load_config
from monitor.config.settings import Settings, load_settings
from monitor.store import open_store
from tests.support.alerting import AVAILABILITY, FAST_BURN, product, report
from tests.support.repository import ROOT

CONTRACT = """\
apiVersion: meshwatch/v1
kind: DataProduct
metadata: {domain: checkout, name: orders}
owner:
  team: checkout
  notify: [{channel: ops-hook}]
ports:
  - {name: api, type: http, url: "http://127.0.0.1:9/x", interval: 1m, timeout: 5s}
objectives:
  - {name: api-availability, port: api, indicator: availability, target: 99.9%}
consumers:
  - team: marketing
    notify: [{email: marketing@contoso.example}, {channel: marketing-hook}]
"""


@pytest.fixture
def config_dir(tmp_path) -> Path:
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "orders.yaml").write_text(CONTRACT)
    (tmp_path / "meshwatch.yaml").write_text(
        f"database_url: sqlite:///{tmp_path / 'meshwatch.db'}\n"
        "channels:\n"
        "  ops-hook: {type: webhook, url: 'http://127.0.0.1:9/ops', secret: '${OPS_SECRET:-}'}\n"
        "  marketing-hook: {type: webhook, url: 'http://127.0.0.1:9/marketing'}\n")
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_the_example_configuration_is_valid_with_its_channels_and_smtp():
    result = CliRunner().invoke(app, ["validate", "--config", str(ROOT / "config")])
    assert result.exit_code == 0, result.output
    settings, problems = load_settings(ROOT / "config")
    assert problems == []
    assert settings.channels["marketing-webhook"].type == "webhook"
    assert settings.channels["alertmanager"].url == "http://127.0.0.1:9093"
    assert (settings.smtp.host, settings.smtp.port) == ("127.0.0.1", 8025)


def test_a_contract_naming_an_unknown_channel_is_a_problem_at_its_line(config_dir):
    (config_dir / "meshwatch.yaml").write_text(
        "channels:\n  ops-hook: {type: webhook, url: 'http://127.0.0.1:9/ops'}\n")
    result = run("validate", "--config", str(config_dir))

    assert result.exit_code == 1
    path = config_dir / "contracts" / "orders.yaml"
    assert (f"{path}:13: consumers[0].notify[1].channel: no channel named 'marketing-hook' "
            "(channels in meshwatch.yaml: ops-hook)") in result.output


@pytest.mark.parametrize("yaml, message", [
    ("channels:\n  x: {type: pager, url: 'http://a'}\n", "channels.x"),
    ("channels:\n  x: {type: webhook}\n", "channels.x.webhook.url: Field required"),
    ("channels:\n  x: {type: email, to: []}\n", "channels.x.email.to"),
    ("alerting: {repeat_interval: soon}\n", "alerting.repeat_interval"),
    ("smtp: {host: h, port: 99999}\n", "smtp.port"),
    ("alerting: {colour: red}\n", "alerting.colour: unknown field"),
])
def test_bad_alerting_settings_are_reported_with_their_place(tmp_path, yaml, message):
    (tmp_path / "meshwatch.yaml").write_text(yaml)
    _, problems = load_settings(tmp_path)
    assert any(message in str(p) for p in problems), problems


def test_alerting_settings_come_from_the_environment_too(monkeypatch):
    monkeypatch.setenv("MESHWATCH_ALERTING__REPEAT_INTERVAL", "1h")
    monkeypatch.setenv("MESHWATCH_ALERTING__FOR", "2m")
    monkeypatch.setenv("MESHWATCH_SMTP__HOST", "mail.internal")
    settings = Settings()
    assert settings.alerting.repeat_interval.total_seconds() == 3600
    assert settings.alerting.for_.total_seconds() == 120
    assert settings.smtp.host == "mail.internal"


def test_secrets_are_not_shown_by_the_settings(config_dir, monkeypatch):
    monkeypatch.setenv("OPS_SECRET", "do-not-show-me")
    config = load_config(config_dir)
    assert "${OPS_SECRET:-}" not in repr(config.settings)
    assert "do-not-show-me" not in repr(config.settings)


def test_a_silence_is_added_listed_and_expired(config_dir):
    added = run("silence", "add", "--config", str(config_dir), "--product", "checkout/orders",
                "--objective", "api-availability", "--for", "2h", "--comment", "migrating")
    assert added.exit_code == 0, added.output
    assert added.output.startswith("silence 1: checkout/orders api-availability muted for 2h")

    listed = json.loads(run("silence", "list", "--config", str(config_dir), "--json").output)
    [silence] = listed["silences"]
    assert (silence["product"], silence["objective"], silence["comment"], silence["active"]) == \
        ("checkout/orders", "api-availability", "migrating", True)
    assert "migrating" in run("silence", "list", "--config", str(config_dir)).output

    expired = run("silence", "expire", "--config", str(config_dir), "1")
    assert expired.exit_code == 0, expired.output
    listed = json.loads(run("silence", "list", "--config", str(config_dir), "--json").output)
    assert listed["silences"][0]["active"] is False


@pytest.mark.parametrize("args, message", [
    (["--product", "nope/none", "--for", "1h"], "no product 'nope/none'"),
    (["--product", "checkout/orders", "--objective", "x", "--for", "1h"], "has no objective 'x'"),
    (["--product", "checkout/orders", "--for", "soon"], "--for: 'soon' is not a duration"),
    (["--product", "checkout/orders", "--for", "0s"], "positive duration"),
])
def test_a_bad_silence_is_refused_with_a_message(config_dir, args, message):
    result = CliRunner().invoke(app, ["silence", "add", "--config", str(config_dir),
                                      "--comment", "x", *args])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_expiring_an_unknown_silence_says_so(config_dir):
    result = CliRunner().invoke(app, ["silence", "expire", "--config", str(config_dir), "42"])
    assert result.exit_code == 1
    assert "no silence 42" in result.output


def test_alerts_lists_active_alerts_with_their_deliveries(config_dir):
    engine = open_store(f"sqlite:///{config_dir / 'meshwatch.db'}")
    mesh = product(owner_notify=[{"channel": "ops-hook"}])
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    process_evaluations(engine, [report(mesh, AVAILABILITY, FAST_BURN)], now,
                        load_config(config_dir).settings)
    engine.dispose()

    document = json.loads(run("alerts", "--config", str(config_dir), "--json").output)
    [alert] = document["alerts"]
    assert (alert["product"], alert["condition"], alert["state"]) == \
        ("checkout/orders", "fast_burn", "firing")
    [delivery] = alert["deliveries"]
    assert (delivery["destination"], delivery["status"], delivery["message"]) == \
        ("channel:ops-hook", "pending", "firing")
    table = run("alerts", "--config", str(config_dir)).output
    assert "fast_burn" in table and "firing → channel:ops-hook" in table


def test_alerts_on_an_empty_store_says_there_are_none(config_dir):
    result = run("alerts", "--config", str(config_dir))
    assert result.exit_code == 0
    assert "No active or recent alerts" in result.output
