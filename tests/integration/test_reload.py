"""A reload swaps the daemon's one running configuration — settings and contracts together — or,
when meshwatch.yaml is broken, none of it, and says why (log, /healthz, dashboard)."""

from __future__ import annotations

import asyncio
import logging
import textwrap
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from monitor.config.loading import load_config
from monitor.daemon.endpoints import make_app
from monitor.daemon.runner import Parts, assemble
from monitor.dashboard.daemon_status import refused_configuration
from monitor.demo.webhooks import WebhookReceiver
from monitor.store.tables import NotificationRecord
from tests.support.alerting import FAST_BURN, product, report
from tests.support.daemon import HEARTBEAT_PRODUCT, write_config
from tests.support.ports import free_port
from tests.support.repository import ROOT

ORDERS = """\
    apiVersion: meshwatch/v1
    kind: DataProduct
    metadata: {domain: checkout, name: orders}
    owner:
      team: checkout
      notify: [{channel: ops-hook}]
    ports:
      - {name: api, type: heartbeat, token: a-long-enough-token, interval: 1m}
    objectives:
      - {name: availability, port: api, indicator: availability, target: 99%}
"""

SECRET = "hunter2-literal-password"


def settings_text(url: str | None = None, min_events: int = 10, repeat: str = "4h",
                  extra: str = "") -> str:
    channels = (f"channels:\n  ops-hook: {{type: webhook, url: \"{url}\"}}\n" if url
                else "channels: {}\n")
    return (f"slo: {{min_events: {min_events}}}\n"
            f"alerting: {{repeat_interval: {repeat}, retry_backoff: 30s}}\n"
            f"{channels}smtp: {{host: 127.0.0.1, password: {SECRET}}}\n{extra}")


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
async def running(tmp_path, store, clock):
    """The daemon as `meshwatch run` wires it (alerting included), on a config dir in tmp_path."""
    made: list[Parts] = []

    def start(settings: str, contracts: dict[str, str]) -> Parts:
        directory = write_config(tmp_path / "config", contracts, settings)
        config = load_config(directory)
        assert config.valid, config.problems
        parts = assemble(config, store, clock=clock)
        parts.daemon.leases.renew_now()  # the only worker: it takes every shard, as at start
        parts.daemon._apply(parts.daemon.config)
        made.append(parts)
        return parts

    yield start
    for parts in made:
        await parts.daemon.stop()


def rewrite(parts: Parts, settings: str | None = None, **contracts: str) -> None:
    directory: Path = parts.daemon.config.directory
    if settings is not None:
        (directory / "meshwatch.yaml").write_text(settings)
    for name, body in contracts.items():
        path = directory / "contracts" / f"{name}.yaml"
        if body:
            path.write_text(textwrap.dedent(body))
        else:
            path.unlink()


def outbox(engine) -> list:
    with engine.connect() as connection:
        return connection.execute(select(NotificationRecord.__table__)
                                  .order_by(NotificationRecord.id)).all()


async def test_a_channel_added_with_the_contract_that_uses_it_gets_that_products_alerts(
        running, receiver, clock):
    parts = running(settings_text(), {"cart.yaml": HEARTBEAT_PRODUCT})
    daemon, alerting = parts.daemon, parts.alerting

    rewrite(parts, settings_text(receiver.url("/ops")), orders=ORDERS)
    assert await daemon.reload()

    assert daemon.health_document()["config_problems"] == []
    assert set(daemon.settings.channels) == {"ops-hook"}
    orders = daemon.products["checkout/orders"]
    summary = alerting.after_evaluation([report(orders, orders.objectives[0], FAST_BURN)], clock())
    assert summary.transitions == {"firing": 1}
    [delivered] = receiver.at("/ops")
    assert delivered.json is not None
    assert [(n.destination, n.status) for n in outbox(daemon.engine)] == [("channel:ops-hook",
                                                                          "sent")]


async def test_a_notification_queued_before_the_reload_for_a_channel_it_adds_goes_out_after_it(
        running, receiver, clock):
    parts = running(settings_text(), {"cart.yaml": HEARTBEAT_PRODUCT})
    # queued for a channel this daemon does not know yet (as a worker that reloaded first would)
    mesh = product(owner_notify=[{"channel": "ops-hook"}])
    parts.alerting.after_evaluation([report(mesh, mesh.objectives[0], FAST_BURN)], clock())
    [waiting] = outbox(parts.daemon.engine)
    assert waiting.status == "pending" and "no channel named 'ops-hook'" in waiting.last_error
    assert not receiver.requests

    rewrite(parts, settings_text(receiver.url("/ops")), orders=ORDERS)
    assert await parts.daemon.reload()
    delivery = parts.alerting.deliver(clock.advance(timedelta(seconds=30)))  # its retry is due

    assert (delivery.sent, delivery.failed) == (1, 0)
    assert len(receiver.at("/ops")) == 1
    assert outbox(parts.daemon.engine)[0].status == "sent"


async def test_slo_and_alerting_settings_changed_by_a_reload_apply_without_a_restart(
        running, receiver, clock):
    parts = running(settings_text(receiver.url("/ops")), {"orders.yaml": ORDERS})
    daemon, alerting = parts.daemon, parts.alerting
    await daemon.start()
    assert daemon.policy.min_events == 10
    orders = daemon.products["checkout/orders"]
    breach = [report(orders, orders.objectives[0], FAST_BURN)]
    alerting.after_evaluation(breach, clock())
    assert len(receiver.at("/ops")) == 1

    rewrite(parts, settings_text(receiver.url("/ops"), min_events=25, repeat="30m",
                                 extra="daemon: {evaluation_interval: 10s}\n"))
    assert await daemon.reload()

    assert daemon.policy.min_events == 25
    assert daemon.settings.slo.min_events == 25
    assert alerting.settings is daemon.settings
    assert alerting.settings.alerting.repeat_interval == timedelta(minutes=30)
    assert daemon.scheduler.get_job("evaluate").trigger.interval == timedelta(seconds=10)
    alerting.after_evaluation(breach, clock.advance(timedelta(minutes=31)))
    assert len(receiver.at("/ops")) == 2, "the reminder follows the reloaded repeat_interval"


async def test_a_broken_meshwatch_yaml_keeps_the_last_good_configuration_and_says_why(
        running, receiver, clock, caplog):
    parts = running(settings_text(receiver.url("/ops")), {"orders.yaml": ORDERS})
    daemon = parts.daemon
    good_settings, loaded_at = daemon.settings, daemon.health_document()["config_loaded_at"]
    assert daemon.health_document()["config_refused"] is None

    clock.advance(timedelta(minutes=5))
    rewrite(parts, settings_text(receiver.url("/ops"), min_events=0), cart=HEARTBEAT_PRODUCT,
            orders=ORDERS.replace("interval: 1m", "interval: 2m"))
    with caplog.at_level(logging.ERROR, logger="meshwatch.daemon"):
        assert not await daemon.reload()

    assert daemon.settings is good_settings and parts.alerting.settings is good_settings
    assert set(daemon.products) == {"checkout/orders"}, "the new contract waits for good settings"
    assert daemon.probes[("checkout/orders", "api")].port.interval == timedelta(minutes=1)
    health = daemon.health_document()
    assert health["config_loaded_at"] == loaded_at
    refused = health["config_refused"]
    assert refused["at"] == clock().isoformat()
    [problem] = refused["problems"]
    assert problem.startswith(f"{daemon.config.directory / 'meshwatch.yaml'}:1: slo.min_events: ")
    [line] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "configuration refused" in line.getMessage() and problem in line.getMessage()
    assert SECRET not in line.getMessage() + str(health)

    rewrite(parts, settings_text(receiver.url("/ops"), min_events=20))
    assert await daemon.reload()
    health = daemon.health_document()
    assert health["config_refused"] is None and health["config_loaded_at"] == clock().isoformat()
    assert daemon.policy.min_events == 20
    assert set(daemon.products) == {"checkout/orders", "cart/events"}
    assert daemon.probes[("checkout/orders", "api")].port.interval == timedelta(minutes=2)


async def test_a_broken_contract_keeps_its_last_good_product_while_the_settings_swap(
        running, receiver):
    parts = running(settings_text(receiver.url("/ops")),
                    {"orders.yaml": ORDERS, "cart.yaml": HEARTBEAT_PRODUCT})
    daemon = parts.daemon

    (daemon.config.directory / "contracts" / "orders.yaml").write_text("kind: [")
    rewrite(parts, settings_text(receiver.url("/ops"), min_events=30), cart="")
    assert await daemon.reload()

    assert daemon.policy.min_events == 30 and daemon.health_document()["config_refused"] is None
    assert set(daemon.products) == {"checkout/orders"}, "kept: its file is broken; cart removed"
    assert set(daemon.config.registry.products) == {"checkout/orders"}
    [problem] = daemon.health_document()["config_problems"]
    assert "orders.yaml:1" in problem


async def test_a_settings_file_gone_mid_save_is_refused_rather_than_read_as_defaults(
        running, receiver):
    parts = running(settings_text(receiver.url("/ops")), {"orders.yaml": ORDERS})
    daemon = parts.daemon
    (daemon.config.directory / "meshwatch.yaml").unlink()

    assert not await daemon.reload()
    assert set(daemon.settings.channels) == {"ops-hook"}
    assert "no such file" in daemon.health_document()["config_refused"]["problems"][0]

    rewrite(parts, settings_text(receiver.url("/ops"), min_events=11))
    assert await daemon.reload() and daemon.policy.min_events == 11


async def test_what_only_a_restart_changes_keeps_its_running_value_and_says_so(
        running, receiver, caplog):
    parts = running(settings_text(receiver.url("/ops")), {"orders.yaml": ORDERS})
    daemon = parts.daemon
    running_url = daemon.settings.database_url

    rewrite(parts, settings_text(receiver.url("/ops"), min_events=12, extra=(
        "database_url: sqlite:///elsewhere.db\n"
        "telemetry: {exporters: [{type: prometheus, listen: '127.0.0.1:9999'}]}\n")))
    with caplog.at_level(logging.WARNING, logger="meshwatch.daemon"):
        assert await daemon.reload()

    assert daemon.policy.min_events == 12
    assert daemon.settings.database_url == running_url
    assert daemon.settings.telemetry.exporters == []
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "database_url" in warning and "telemetry (exporters)" in warning
    assert "restart" in warning


@pytest.fixture
async def healthz(running, receiver):
    """The daemon's real /healthz on a free port, with a refused configuration change."""
    parts = running(settings_text(receiver.url("/ops")), {"orders.yaml": ORDERS})
    rewrite(parts, settings_text(receiver.url("/ops")) + "nonsense: true\n")
    assert not await parts.daemon.reload()
    runner = web.AppRunner(make_app(parts.daemon))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield parts, f"127.0.0.1:{port}"
    await runner.cleanup()


async def test_healthz_shows_the_refused_change_until_a_good_one_clears_it(healthz):
    parts, listen = healthz
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://{listen}/healthz") as answer:
            document = await answer.json()
        assert document["config_refused"]["problems"]
        assert "meshwatch.yaml" in document["config_refused"]["problems"][0]
        assert document["config_problems"] == [] and document["config_loaded_at"]

        rewrite(parts, settings_text())
        assert await parts.daemon.reload()
        async with session.get(f"http://{listen}/healthz") as answer:
            assert (await answer.json())["config_refused"] is None


async def test_the_dashboard_reads_the_refusal_from_the_daemons_healthz(healthz):
    parts, listen = healthz
    refused = await asyncio.to_thread(refused_configuration, listen)

    assert refused is not None and refused.at == parts.daemon.config_refused.at
    assert refused.problems == parts.daemon.config_refused.problems
    assert "meshwatch.yaml" in refused.problems[0]
    assert await asyncio.to_thread(refused_configuration, f"127.0.0.1:{free_port()}") is None

    rewrite(parts, settings_text())
    assert await parts.daemon.reload()
    assert await asyncio.to_thread(refused_configuration, listen) is None


async def test_the_overview_page_warns_that_the_daemon_refused_its_configuration(
        healthz, tmp_path, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    _, listen = healthz
    dashboard_config = write_config(tmp_path / "dashboard", {}, f"daemon: {{listen: '{listen}'}}\n")
    monkeypatch.setenv("MESHWATCH_CONFIG", str(dashboard_config))
    st.cache_data.clear()
    st.cache_resource.clear()
    app = AppTest.from_file(str(ROOT / "monitor" / "dashboard" / "app.py"),
                            default_timeout=60)
    await asyncio.to_thread(app.run)  # the daemon answers from this test's event loop

    assert not app.exception, app.exception
    [error] = app.error
    assert "refused the configuration change" in error.value
    assert "meshwatch.yaml" in app.code[0].value

    # the dashboard reads the same broken meshwatch.yaml: it remembers the daemon's address
    (dashboard_config / "meshwatch.yaml").write_text(f"daemon: {{listen: '{listen}'}}\nnope: 1\n")
    st.cache_data.clear()
    await asyncio.to_thread(app.run)
    assert not app.exception, app.exception
    assert any("refused the configuration change" in e.value for e in app.error)
    st.cache_data.clear()
    st.cache_resource.clear()
