"""Bad rows never block good ones, and a store outage is two log lines: the buffer on PostgreSQL."""

from __future__ import annotations

import logging

from sqlalchemy import event, func, select

from monitor.config.loading import KINDS
from monitor.contracts.loader import load_contracts
from monitor.contracts.results import ProbeResult
from monitor.daemon.buffer import QUARANTINE_ATTEMPTS, MeasurementBuffer
from monitor.store import open_store
from monitor.store.tables import EventMinute, PortState, ProbeRecord
from tests.integration.test_daemon_resilience import ORDERS, _set_connections
from tests.support.daemon import write_config

TOO_LONG = "x" * 250  # the store's name columns hold 200 characters


def _healthy(clock, count: int) -> list[ProbeResult]:
    return [ProbeResult("checkout/orders", "api", "heartbeat", clock.advance(), ok=True)
            for _ in range(count)]


def _stored(engine, model) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(model)).scalar()


def test_a_row_the_store_refuses_is_quarantined_and_the_rest_of_the_mesh_is_written(
        postgres_url, tmp_path, clock, caplog):
    engine = open_store(postgres_url)
    buffer = MeasurementBuffer(engine)
    buffer.products = load_contracts([write_config(tmp_path, {"orders.yaml": ORDERS})], KINDS).products
    healthy = _healthy(clock, 14)
    poison = [ProbeResult(TOO_LONG, "api", "http", clock.advance(), ok=True),
              ProbeResult("checkout/orders", "nul\x00byte", "http", clock.advance(), ok=False)]
    for result in healthy[:7] + poison + healthy[7:]:
        buffer.add(result)

    with caplog.at_level(logging.WARNING, "meshwatch.collector"):
        first = buffer.flush()
    assert (first.written, first.pending, first.error) == (14, 0, None)
    assert _stored(engine, ProbeRecord) == 14
    with engine.connect() as connection:
        good, total = connection.execute(select(func.sum(EventMinute.good),
                                                func.sum(EventMinute.total))).one()
        assert (good, total) == (14, 14)
        assert connection.execute(select(PortState.product, PortState.port)).all() == [
            ("checkout/orders", "api")]
    assert len(buffer.quarantine) == 2 and buffer.rejected == 0 and buffer.last_error is None
    refused = [r.getMessage() for r in caplog.records if r.name == "meshwatch.collector"]
    assert len(refused) == 2 and all("quarantined" in line for line in refused)
    assert "value too long" in refused[0] and "NUL" in refused[1]

    caplog.clear()
    with caplog.at_level(logging.WARNING, "meshwatch.collector"):
        for _ in range(QUARANTINE_ATTEMPTS - 1):  # tried again, with new healthy rows beside them
            buffer.add(_healthy(clock, 1)[0])
            assert buffer.flush().written == 1
    assert len(buffer.quarantine) == 0 and buffer.rejected == 2
    dropped = [r.getMessage() for r in caplog.records if r.name == "meshwatch.collector"]
    assert len(dropped) == 2 and all(line.startswith("dropped a measurement of") for line in dropped)
    assert f"refused {QUARANTINE_ATTEMPTS} times" in dropped[0]
    assert buffer.last_rejection == dropped[-1]
    assert _stored(engine, ProbeRecord) == 14 + QUARANTINE_ATTEMPTS - 1
    engine.dispose()


def test_an_outage_is_logged_when_it_starts_and_when_it_ends_not_at_every_flush(
        postgres_url, tmp_path, clock, caplog):
    engine = open_store(postgres_url)
    database = postgres_url.rsplit("/", 1)[1]
    buffer = MeasurementBuffer(engine)
    buffer.products = load_contracts([write_config(tmp_path, {"orders.yaml": ORDERS})], KINDS).products
    with caplog.at_level(logging.INFO, "meshwatch.collector"):
        _set_connections(database, allowed=False)
        try:
            for flush in range(6):  # the count of kept measurements grows at every flush
                for result in _healthy(clock, 3):
                    buffer.add(result)
                report = buffer.flush()
                assert (report.written, report.pending) == (0, 3 * (flush + 1))
                assert buffer.last_error is not None
        finally:
            _set_connections(database, allowed=True)
        report = buffer.flush()
    assert (report.written, report.pending, report.error, buffer.last_error) == (18, 0, None, None)
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "meshwatch.collector"]
    assert len(lines) == 2, lines
    (started_level, started), (ended_level, ended) = lines
    assert started_level == "ERROR" and started.startswith("store not writable: ")
    assert ended_level == "INFO" and ended.startswith("store writable again after ")
    assert ended.endswith("wrote 18 measurement(s) kept meanwhile; none lost")
    assert buffer.failed_writes == 6 and _stored(engine, ProbeRecord) == 18
    engine.dispose()


def test_a_store_lost_while_splitting_a_batch_writes_nothing_twice_and_loses_nothing(
        postgres_url, tmp_path, clock):
    engine = open_store(postgres_url)
    database = postgres_url.rsplit("/", 1)[1]
    buffer = MeasurementBuffer(engine)
    buffer.products = load_contracts([write_config(tmp_path, {"orders.yaml": ORDERS})], KINDS).products
    healthy = _healthy(clock, 14)
    poison = [ProbeResult(TOO_LONG, "api", "http", clock.advance(), ok=True)]
    for result in healthy[:7] + poison + healthy[7:]:
        buffer.add(result)
    committed: list[bool] = []
    event.listen(engine, "commit", lambda connection: committed.append(True))

    def lose_the_store_after_the_first_commit(dbapi_connection, record):
        if committed and len(committed) == 1:
            committed.append(True)
            _set_connections(database, allowed=False)

    event.listen(engine.pool, "checkin", lose_the_store_after_the_first_commit)
    try:
        first = buffer.flush()  # half the batch, then the first quarter, is written; then it goes
    finally:
        _set_connections(database, allowed=True)
    written_before = _stored(engine, ProbeRecord)
    assert 0 < written_before < 14 and first.written == written_before
    assert first.error is not None and buffer.last_error is not None
    assert len(buffer) == 15 - written_before  # the rest, the refused row among them, kept
    second = buffer.flush()
    assert second.written == 14 - written_before and len(buffer.quarantine) == 1
    with engine.connect() as connection:
        started = connection.execute(select(ProbeRecord.started_at)).scalars().all()
    assert sorted(started) == sorted(r.started_at for r in healthy)  # each once
    engine.dispose()
