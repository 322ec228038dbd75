"""Without Node.js (no Azurite) the demo serves its blob ports as HTTP listings, and the http
probe reads their freshness (and Checkout's lake its volume) from there; the demo's backfilled
history gives every objective of the example mesh its events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.config.loading import load_config
from monitor.contracts.results import Volume
from monitor.demo.history import backfill
from monitor.demo.scenario import newest_cart_file, orders_landed_bytes
from monitor.demo.standins import StandInPorts, StandIns
from monitor.evaluation.mesh import evaluate_mesh
from monitor.probes.factory import build_probe
from monitor.values.volumes import VolumeUnit
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
        orders, orders_lake = next((p, port) for p, port in lakes if p.id == "checkout/orders")
        counting = build_probe(orders, orders_lake, engine=store)
        counted = await counting.measure()
        await counting.close()
    finally:
        await standins.stop()
    # Checkout's lake counts a day's bytes (its volume objective) through the listing too
    assert counted.ok and counted.volume == Volume(orders_landed_bytes(timedelta(days=1)),
                                                   VolumeUnit.BYTES, timedelta(days=1))
    assert result.ok, result.error
    # the stand-in answered within a second of the probe's start (a 5-minute boundary may lie between)
    assert result.newest_data_at in {newest_cart_file(result.started_at + timedelta(seconds=s),
                                                      live_start) for s in (0, 1)}


def test_the_backfilled_history_gives_every_objective_of_the_example_mesh_events(store):
    config = load_config(ROOT / "config")
    products = list(config.registry.products.values())
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    backfill(store, products, end - timedelta(hours=6), end)
    with store.connect() as connection:
        reports = evaluate_mesh(connection, products, end)
    assert [(r.product.id, r.objective.name) for r in reports if not r.evaluation.counts.total] == []
    volume = next(r for r in reports if r.objective.name == "lake-daily-volume")
    assert volume.evaluation.counts.good == volume.evaluation.counts.total  # 14.4 kB ≤ 10 GB
