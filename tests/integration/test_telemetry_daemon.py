"""The daemon as `meshwatch run` starts it, with a Prometheus exporter in its settings: a scrape
shows the probes of a real local HTTP port, the first evaluation and the daemon's own health; a
stop closes the scrape endpoint."""

from __future__ import annotations

import asyncio
import time
import urllib.request

import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from monitor.config.loading import load_config
from monitor.daemon.runner import serve
from monitor.store import open_store
from tests.support.daemon import write_config
from tests.support.ports import free_port

PRODUCT = """\
    apiVersion: meshwatch/v1
    kind: DataProduct
    metadata: {domain: checkout, name: orders}
    owner: {team: checkout}
    ports:
      - {name: api, type: http, url: "http://127.0.0.1:%d/orders", interval: 1s, timeout: 1s}
    objectives:
      - {name: availability, port: api, indicator: availability, target: 99%%}
"""
SETTINGS = """\
    database_url: sqlite:///%s
    daemon: {listen: "127.0.0.1:%d"}
    telemetry:
      service_name: meshwatch-e2e
      exporters:
        - {type: prometheus, listen: "127.0.0.1:%d"}
"""


async def _orders(_request: web.Request) -> web.Response:
    return web.json_response({"generated_at": "2026-11-02T12:00:00Z"})


async def test_a_running_daemon_exports_its_probes_objectives_and_health_for_a_scrape(tmp_path):
    app = web.Application()
    app.router.add_get("/orders", _orders)
    port_server = web.AppRunner(app, access_log=None)
    await port_server.setup()
    api_port, scrape_port = free_port(), free_port()
    await web.TCPSite(port_server, "127.0.0.1", api_port).start()
    directory = write_config(tmp_path / "config", {"orders.yaml": PRODUCT % api_port},
                             SETTINGS % (tmp_path / "meshwatch.db", free_port(), scrape_port))
    config = load_config(directory)
    assert config.problems == []
    engine = open_store(config.settings.database_url)
    stop = asyncio.Event()
    started = asyncio.Event()
    daemon_task = asyncio.create_task(serve(config, engine, alerting=False, stop_event=stop,
                                            on_started=lambda _daemon: started.set()))
    url = f"http://127.0.0.1:{scrape_port}/metrics"
    try:
        await asyncio.wait_for(started.wait(), 10)
        families = await _scrape_until(url, "meshwatch_probe_results", deadline=10)
    finally:
        stop.set()
        await asyncio.wait_for(daemon_task, 20)
        await port_server.cleanup()
        engine.dispose()

    [ok] = [s for s in families["meshwatch_probe_results"].samples if s.name.endswith("_total")]
    assert ok.labels["outcome"] == "ok" and ok.value >= 1
    assert (ok.labels["product"], ok.labels["port"], ok.labels["kind"],
            ok.labels["server_address"]) == ("checkout/orders", "api", "http", "127.0.0.1")
    statuses = {s.labels["slo_status"]: s.value for s in families["meshwatch_slo_status"].samples}
    assert sum(statuses.values()) == 1  # one status per objective, from the first round
    assert families["meshwatch_evaluation_rounds"].samples[0].value >= 1
    assert families["meshwatch_scheduler_lag_seconds"].type == "histogram"
    assert "meshwatch_store_buffered" in families and "meshwatch_probe_in_flight" in families
    [target] = families["target_info"].samples
    assert target.labels["service_name"] == "meshwatch-e2e"
    with pytest.raises(OSError):
        await asyncio.to_thread(_scrape, url)  # the scrape endpoint stopped with the daemon


async def _scrape_until(url: str, family: str, deadline: float) -> dict:
    """Scrape until `family` appears (the first probe runs within its 1 s interval)."""
    ends = time.monotonic() + deadline
    while True:
        families = {f.name: f for f in text_string_to_metric_families(
            await asyncio.to_thread(_scrape, url))}
        if family in families or time.monotonic() > ends:
            return families
        await asyncio.sleep(0.2)


def _scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()
