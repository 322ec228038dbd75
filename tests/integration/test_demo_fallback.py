"""Without Node.js (no Azurite) the demo serves its blob ports as HTTP listings, and the http
probe reads their freshness from there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.config.loading import load_config
from monitor.demo.scenario import newest_cart_file
from monitor.demo.standins import StandInPorts, StandIns
from monitor.probes.factory import build_probe
from tests.support.ports import free_port
from tests.support.repository import ROOT


async def test_blob_ports_become_http_listings_that_report_the_newest_file(tmp_path, store):
    live_start = datetime.now(UTC) - timedelta(hours=2)
    standins = StandIns(live_start, tmp_path, StandInPorts(free_port(), free_port(), free_port(),
                                                            free_port()))
    products = standins.without_azurite(list(load_config(ROOT / "config").registry.products.values()))
    lakes = [(p, port) for p in products for port in p.ports if port.name == "lake"]
    assert {port.type for _, port in lakes} == {"http"}
    assert all(port.type != "azure_blob" for p in products for port in p.ports)

    await standins.start()
    try:
        cart, lake = next((p, port) for p, port in lakes if p.id == "cart/events")
        probe = build_probe(cart, lake, engine=store)
        result = await probe.measure()
        await probe.close()
    finally:
        await standins.stop()
    assert result.ok, result.error
    # the stand-in answered within a second of the probe's start (a 5-minute boundary may lie between)
    assert result.newest_data_at in {newest_cart_file(result.started_at + timedelta(seconds=s),
                                                      live_start) for s in (0, 1)}
