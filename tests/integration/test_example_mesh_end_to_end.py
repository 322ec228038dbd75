"""The example mesh of config/ monitored end to end: every port kind against its local stand-in
(HTTP APIs, a SQLite warehouse, Azurite, a Log Analytics endpoint, Azure Monitor metrics, a
pipeline heartbeat)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.cli.check import check_once
from monitor.config.loading import load_config
from monitor.demo.azurite import Azurite, find_azurite
from monitor.demo.credentials import loopback_probe_context
from monitor.demo.standins import StandInPorts, StandIns
from monitor.store import open_store
from monitor.store.measurements import record_heartbeat
from tests.support.ports import free_port
from tests.support.repository import ROOT


@pytest.fixture
async def standins(tmp_path, monkeypatch):
    launcher = find_azurite()
    if launcher is None:
        pytest.skip("Azurite is not installed: run `npm install --prefix .tools azurite@3`")
    azurite = Azurite(free_port(), launcher)
    azurite.start()
    ports = StandInPorts(free_port(), free_port(), free_port(), free_port())
    # live_start in the past: the scripted outage and bursts are over, the mesh is healthy
    live = StandIns(datetime.now(UTC) - timedelta(hours=2), tmp_path / "demo", ports,
                    blob_connection_string=azurite.connection_string)
    await live.start()
    await live._update_warehouse()
    await live._land_files()
    for name, value in {
        "CHECKOUT_API_URL": f"http://127.0.0.1:{ports.checkout_api}/orders/latest",
        "CHECKOUT_SQL_URL": f"sqlite:///{live.sql_path}",
        "CHECKOUT_STORAGE": azurite.connection_string,
        "CART_STORAGE": azurite.connection_string,
        "MARKETING_API_URL": f"http://127.0.0.1:{ports.marketing_api}/features/health",
        "MARKETING_LOGS_ENDPOINT": f"http://127.0.0.1:{ports.logs}/v1",
        "CART_METRICS_ENDPOINT": f"http://127.0.0.1:{ports.logs}",
        "MESHWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'meshwatch.db'}",
    }.items():
        monkeypatch.setenv(name, value)
    yield live
    await live.stop()
    azurite.stop()


async def test_every_port_of_the_example_mesh_is_probed_and_every_objective_evaluated(standins):
    config = load_config(ROOT / "config")
    assert config.valid, config.problems
    engine = open_store(config.settings.database_url)
    with engine.begin() as connection:  # the pipeline's last run (the ingest has its own tests)
        record_heartbeat(connection, "cart/events", "pipeline", datetime.now(UTC), True, "r1", None)
    results, reports, _ = await check_once(
        config, engine, probe_context=loopback_probe_context())
    by_port = {(r.product, r.port): r for r in results}
    assert set(by_port) == {
        ("checkout/orders", "api"), ("checkout/orders", "warehouse"), ("checkout/orders", "lake"),
        ("cart/events", "lake"), ("cart/events", "pipeline"), ("cart/events", "hub"),
        ("marketing/campaign-features", "api"), ("marketing/campaign-features", "requests")}
    failing = {key: f"{r.error_class}: {r.error}" for key, r in by_port.items() if not r.ok}
    assert failing == {}
    assert by_port[("checkout/orders", "lake")].details["blob_count"] >= 1
    assert by_port[("marketing/campaign-features", "requests")].total == 1200
    assert by_port[("checkout/orders", "warehouse")].newest_data_at is not None
    assert by_port[("cart/events", "hub")].data_age <= timedelta(minutes=2)
    assert len(reports) == 13
    without_events = [r.objective.name for r in reports if not r.evaluation.counts.total]
    assert without_events == [], "every objective got events from this round"
    # availability only: the scenario slows Checkout's API every 7th minute (latency may miss)
    availability = {(r.product.id, r.objective.name): r.evaluation.status.value for r in reports
                    if r.objective.indicator.value == "availability"}
    assert set(availability.values()) == {"ok"}, availability
    engine.dispose()


async def test_an_outage_of_the_orders_api_is_measured_as_unavailable(standins):
    standins.live_start = datetime.now(UTC) - timedelta(minutes=2)  # inside the scripted outage
    config = load_config(ROOT / "config")
    engine = open_store(config.settings.database_url)
    results, reports, _ = await check_once(
        config, engine, probe_context=loopback_probe_context())
    api = next(r for r in results if (r.product, r.port) == ("checkout/orders", "api"))
    assert not api.ok and api.error_class == "http_status" and "503" in api.error
    availability = next(r for r in reports if r.objective.name == "api-availability")
    assert availability.evaluation.status.value == "breached"
    engine.dispose()


def test_the_example_config_names_only_stand_in_defaults():
    text = "".join(p.read_text() for p in (ROOT / "config" / "contracts").glob("*.yaml"))
    assert "127.0.0.1:8081" in text and "UseDevelopmentStorage=true" in text
    assert Path(ROOT / "config" / "meshwatch.yaml").is_file()
