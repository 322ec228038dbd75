"""What meshwatch exports, read through OpenTelemetry's in-memory reader: each test builds its own
MeterProvider and reader (nothing global), feeds known reports, probe results and daemon health,
and checks the exact names, units, values and attributes."""

from __future__ import annotations

import logging
import socket
from dataclasses import replace

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from sqlalchemy import text

from monitor.config.loading import load_config
from monitor.config.settings import Settings
from monitor.daemon.health import SkipReason
from monitor.daemon.scheduler import Daemon
from monitor.store import open_store
from monitor.store.tables import NotificationRecord
from monitor.telemetry.provider import Telemetry, start_telemetry
from tests.support.daemon import HEARTBEAT_PRODUCT, write_config
from tests.support.telemetry import (
    AT,
    FRESHNESS_ATTRIBUTES,
    ORDERS,
    ORDERS_ATTRIBUTES,
    at_risk_report,
    metric,
    points,
    probe_results,
    stale_report,
    values,
)


@pytest.fixture
def reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def telemetry(reader):
    telemetry = Telemetry([reader], service_name="meshwatch-test")
    yield telemetry
    telemetry.shutdown()


@pytest.fixture
def daemon(tmp_path):
    """A daemon (not started) on a fresh SQLite store that also knows the orders product."""
    config = load_config(write_config(tmp_path / "config", {"events.yaml": HEARTBEAT_PRODUCT}))
    engine = open_store(f"sqlite:///{tmp_path / 'meshwatch.db'}")
    daemon = Daemon(config, engine)
    daemon.products[ORDERS.id] = ORDERS
    yield daemon
    engine.dispose()


def test_an_objective_at_risk_exports_compliance_budget_burn_rates_status_and_conditions(
        telemetry, reader):
    telemetry.after_evaluation([at_risk_report()], AT)
    data = reader.get_metrics_data()
    key = tuple(sorted(ORDERS_ATTRIBUTES.items()))
    assert values(data, "meshwatch.slo.compliance") == {key: 0.995}
    assert values(data, "meshwatch.slo.target") == {key: 0.99}
    assert values(data, "meshwatch.slo.error_budget.remaining") == {key: 0.5}
    # windows without events have no burn rate, and are not exported
    assert values(data, "meshwatch.slo.burn_rate", "slo.window") == {"5m": 100.0, "1h": 50.0}
    assert values(data, "meshwatch.slo.status", "slo.status") == {
        "ok": 0, "at_risk": 1, "breached": 0, "no_data": 0, "not_in_force": 0}
    assert values(data, "meshwatch.slo.condition", "slo.condition") == {
        "fast_burn": 1, "sustained_burn": 0, "slow_burn": 0, "budget_exhausted": 0, "no_data": 0}
    for point in points(data, "meshwatch.slo.burn_rate"):
        assert {k: v for k, v in point.attributes.items() if k != "slo.window"} == ORDERS_ATTRIBUTES
    for name in ("meshwatch.slo.compliance", "meshwatch.slo.error_budget.remaining",
                 "meshwatch.slo.burn_rate", "meshwatch.slo.status", "meshwatch.slo.condition"):
        assert metric(data, name).unit == "1"


def test_a_stale_freshness_objective_reports_the_freshness_breach_and_an_overspent_budget(
        telemetry, reader):
    telemetry.after_evaluation([stale_report()], AT)
    data = reader.get_metrics_data()
    key = tuple(sorted(FRESHNESS_ATTRIBUTES.items()))
    assert values(data, "meshwatch.slo.compliance") == {key: 0.9}
    assert values(data, "meshwatch.slo.error_budget.remaining") == {key: pytest.approx(-1.0)}
    assert values(data, "meshwatch.slo.burn_rate") == {}
    assert values(data, "meshwatch.slo.status", "slo.status")["breached"] == 1
    assert values(data, "meshwatch.slo.condition", "slo.condition") == {
        "fast_burn": 0, "sustained_burn": 0, "slow_burn": 0, "budget_exhausted": 1, "no_data": 0,
        "freshness_breach": 1}


def test_each_round_replaces_what_the_previous_round_reported(telemetry, reader):
    telemetry.after_evaluation([at_risk_report(), stale_report()], AT)
    assert len(values(reader.get_metrics_data(), "meshwatch.slo.compliance")) == 2
    telemetry.after_evaluation([stale_report()], AT)
    data = reader.get_metrics_data()
    assert list(values(data, "meshwatch.slo.compliance", "objective")) == ["lake-freshness"]
    telemetry.after_evaluation([], AT)
    assert values(reader.get_metrics_data(), "meshwatch.slo.compliance") == {}


def test_a_large_mesh_is_exported_whole(telemetry, reader):
    report = at_risk_report()
    products = [replace(ORDERS, name=f"orders-{number}") for number in range(1000)]
    telemetry.after_evaluation([replace(report, product=p) for p in products], AT)
    statuses = points(reader.get_metrics_data(), "meshwatch.slo.status")
    assert len(statuses) == 5000
    assert sum(point.value for point in statuses) == 1000
    assert not any("otel.metric.overflow" in point.attributes for point in statuses)


def test_probe_results_become_a_duration_histogram_in_seconds_and_an_outcome_counter(
        telemetry, reader, daemon):
    telemetry.watch(daemon)
    for result in probe_results():
        telemetry.on_result(result)
    data = reader.get_metrics_data()
    base = {"product": "checkout/orders", "port": "api", "kind": "http",
            "server.address": "orders.internal.example"}
    assert values(data, "meshwatch.probe.results") == {
        tuple(sorted({**base, "outcome": "ok"}.items())): 2,
        tuple(sorted({**base, "outcome": "failure", "error.type": "http_status"}.items())): 1,
        tuple(sorted({**base, "outcome": "failure", "error.type": "timeout"}.items())): 1}
    assert metric(data, "meshwatch.probe.results").unit == "{result}"
    duration = metric(data, "meshwatch.probe.duration")
    assert duration.unit == "s"
    by_error = {point.attributes.get("error.type"): point for point in duration.data.data_points}
    assert set(by_error) == {None, "http_status", "timeout"}
    assert (by_error[None].count, by_error[None].sum) == (2, pytest.approx(0.34))
    assert (by_error[None].min, by_error[None].max) == (0.04, 0.3)
    assert by_error["http_status"].sum == pytest.approx(0.02)
    assert by_error["timeout"].sum == 2.0  # no latency: the port's whole timeout
    assert by_error[None].explicit_bounds[:3] == (0.005, 0.01, 0.025)
    assert dict(by_error[None].attributes) == base


def test_a_port_whose_url_is_a_secret_has_no_server_address(telemetry, reader, daemon):
    telemetry.watch(daemon)
    result = probe_results()[0]
    telemetry.on_result(result.__class__(**{**result.__dict__, "port": "lake",
                                           "kind": "azure_blob"}))
    [point] = points(reader.get_metrics_data(), "meshwatch.probe.results")
    assert "server.address" not in point.attributes


def test_the_resource_names_the_service(telemetry, reader):
    telemetry.after_evaluation([at_risk_report()], AT)
    [resource] = reader.get_metrics_data().resource_metrics
    assert resource.resource.attributes["service.name"] == "meshwatch-test"
    assert resource.scope_metrics[0].scope.name == "meshwatch"


async def test_the_daemons_health_is_read_from_the_running_daemon(daemon, reader, telemetry):
    engine = daemon.engine
    with engine.begin() as connection:
        for number, status in enumerate(("failed", "failed", "sent")):
            connection.execute(NotificationRecord.__table__.insert().values(
                group_key=f"group-{number}", destination="channel:ops", product="cart/events",
                status=status, created_at=AT))
    daemon.after_evaluation.append(telemetry.after_evaluation)
    telemetry.watch(daemon)
    for lag in (0.1, 0.2, 0.4):
        daemon.health.record_lag(lag)
    await daemon.evaluate_round()
    daemon.health.record_skip(SkipReason.BUSY, 2)
    daemon.health.record_skip(SkipReason.OVERLOADED)
    daemon.buffer.capacity = 2
    result = probe_results()[0]
    for _ in range(3):
        daemon.buffer.add(result)  # the third pushes the oldest out
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE probe_result"))
    assert daemon.buffer.flush().error  # the store refuses the write
    daemon.health.record_lag(0.8)
    telemetry.on_result(result)

    data = reader.get_metrics_data()
    [lag] = points(data, "meshwatch.scheduler.lag")
    assert (lag.count, lag.sum, lag.max) == (4, pytest.approx(1.5), 0.8)
    [duration] = points(data, "meshwatch.evaluation.duration")
    assert (duration.count, duration.sum) == (1, daemon.health.last_round_seconds)
    single = {name: points(data, name)[0].value for name in (
        "meshwatch.evaluation.rounds", "meshwatch.scheduler.missed_runs",
        "meshwatch.probe.in_flight", "meshwatch.store.buffered", "meshwatch.store.write_failures",
        "meshwatch.store.dropped", "meshwatch.store.quarantined", "meshwatch.store.rejected",
        "meshwatch.notification.failed")}
    assert single == {"meshwatch.evaluation.rounds": 1, "meshwatch.scheduler.missed_runs": 3,
                      "meshwatch.probe.in_flight": 0, "meshwatch.store.buffered": 2,
                      "meshwatch.store.write_failures": 1, "meshwatch.store.dropped": 1,
                      "meshwatch.store.quarantined": 0, "meshwatch.store.rejected": 0,
                      "meshwatch.notification.failed": 2}
    skipped = {p.attributes["reason"]: p.value for p in points(data, "meshwatch.scheduler.skipped_runs")}
    assert skipped == {"behind": 0, "still_running": 0, "busy": 2, "writes_behind": 0,
                       "overloaded": 1}
    assert metric(data, "meshwatch.scheduler.lag").unit == "s"
    assert metric(data, "meshwatch.store.buffered").unit == "{measurement}"

    telemetry.on_result(result)  # lags and rounds already recorded are not recorded twice
    [lag] = points(reader.get_metrics_data(), "meshwatch.scheduler.lag")
    assert lag.count == 4


def test_without_exporters_there_is_no_telemetry_and_nothing_leaves_the_machine():
    assert Settings().telemetry.exporters == []
    assert start_telemetry(Settings()) is None


def test_an_exporter_that_cannot_start_is_one_message_and_the_others_still_run(caplog):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = Settings(telemetry={"exporters": [
            {"type": "prometheus", "listen": f"127.0.0.1:{port}"},
            {"type": "azure_monitor", "connection_string": "${MESHWATCH_TEST_UNSET_CONNECTION}"},
            {"type": "otlp", "endpoint": "http://127.0.0.1:9/", "timeout": "1s"}]})
        with caplog.at_level(logging.INFO, logger="meshwatch.telemetry"):
            telemetry = start_telemetry(settings)
    try:
        messages = [r.getMessage() for r in caplog.records]
        assert any(m.startswith("telemetry: prometheus exporter not started:") for m in messages)
        assert ("telemetry: azure_monitor exporter not started: environment variable "
                "MESHWATCH_TEST_UNSET_CONNECTION is not set") in messages
        assert "telemetry: exporting metrics to otlp (http://127.0.0.1:9)" in messages
        assert all(r.exc_info is None for r in caplog.records)
    finally:
        telemetry.shutdown(timeout_millis=1000)
