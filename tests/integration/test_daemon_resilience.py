"""The daemon under bad input: a store that goes away, a contract file broken while running."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import create_engine, func, select, text

from monitor.config.loading import KINDS, load_config
from monitor.contracts.loader import load_contracts
from monitor.contracts.results import ProbeResult
from monitor.daemon.buffer import MeasurementBuffer
from monitor.daemon.scheduler import Daemon
from monitor.store import open_store
from monitor.store.tables import EventMinute, ProbeRecord
from tests.support.daemon import HEARTBEAT_PRODUCT, write_config
from tests.support.postgres import POSTGRES_ADMIN_URL

ORDERS = """\
    apiVersion: meshwatch/v1
    kind: DataProduct
    metadata: {domain: checkout, name: orders}
    owner: {team: checkout}
    ports:
      - {name: api, type: heartbeat, token: a-long-enough-token, interval: 1m}
    objectives:
      - {name: availability, port: api, indicator: availability, target: 99%}
"""


def _set_connections(database: str, allowed: bool) -> None:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS {allowed}'))
        if not allowed:
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = :name"), {"name": database})
    admin.dispose()


def test_measurements_are_kept_while_the_store_is_away_and_written_when_it_returns(
        postgres_url, tmp_path, clock):
    engine = open_store(postgres_url)
    database = postgres_url.rsplit("/", 1)[1]
    registry = load_contracts([write_config(tmp_path, {"orders.yaml": ORDERS})], KINDS)
    buffer = MeasurementBuffer(engine)
    buffer.products = registry.products
    results = [ProbeResult("checkout/orders", "api", "heartbeat", clock.advance(), ok=i % 2 == 0)
               for i in range(10)]
    for result in results[:5]:
        buffer.add(result)
    _set_connections(database, allowed=False)
    try:
        report = buffer.flush()
        assert report.written == 0 and report.pending == 5
        assert "cannot write 5 measurement(s)" in report.error
        for result in results[5:]:
            buffer.add(result)
    finally:
        _set_connections(database, allowed=True)
    report = buffer.flush()
    assert (report.written, report.pending, report.error) == (10, 0, None)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(ProbeRecord)).scalar() == 10
        good, total = connection.execute(
            select(func.sum(EventMinute.good), func.sum(EventMinute.total))).one()
    assert (good, total) == (5, 10)
    engine.dispose()


def test_a_full_buffer_drops_the_oldest_and_counts_them(store, clock):
    buffer = MeasurementBuffer(store, capacity=3)
    for _ in range(5):
        buffer.add(ProbeResult("a/b", "p", "http", clock.advance(), ok=True))
    assert len(buffer) == 3 and buffer.dropped == 2


async def test_a_contract_broken_while_running_keeps_its_last_good_version(tmp_path, store, clock):
    directory = write_config(tmp_path, {"orders.yaml": ORDERS, "cart.yaml": HEARTBEAT_PRODUCT})
    daemon = Daemon(load_config(directory), store, clock=clock)
    daemon._apply(daemon.config)
    assert set(daemon.probes) == {("checkout/orders", "api"), ("cart/events", "pipeline")}

    (directory / "contracts" / "orders.yaml").write_text("apiVersion: meshwatch/v1\nkind: [")
    await daemon.reload()
    assert ("checkout/orders", "api") in daemon.probes, "last good version still monitored"
    problems = daemon.health_document()["config_problems"]
    assert len(problems) == 1 and "orders.yaml:2" in problems[0]

    (directory / "contracts" / "orders.yaml").write_text(ORDERS.replace("interval: 1m", "interval: 2m"))
    await daemon.reload()
    assert daemon.probes[("checkout/orders", "api")].port.interval == timedelta(minutes=2)
    assert daemon.scheduled(("checkout/orders", "api"))
    assert daemon.health_document()["config_problems"] == []

    (directory / "contracts" / "cart.yaml").unlink()
    await daemon.reload()
    assert set(daemon.probes) == {("checkout/orders", "api")}
    assert not daemon.scheduled(("cart/events", "pipeline"))
    await daemon.stop()


async def test_stop_writes_the_measurements_still_buffered(tmp_path, store, clock):
    directory = write_config(tmp_path, {"cart.yaml": HEARTBEAT_PRODUCT})
    daemon = Daemon(load_config(directory), store, clock=clock)
    await daemon.start()
    await daemon._probe(("cart/events", "pipeline"), slot=None)
    assert len(daemon.buffer) == 1
    await daemon.stop()
    assert len(daemon.buffer) == 0
    with store.connect() as connection:
        assert connection.execute(select(func.count()).select_from(ProbeRecord)).scalar() == 1
