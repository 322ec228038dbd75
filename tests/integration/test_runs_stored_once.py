"""A scheduled run is stored once, whichever worker made it: two workers' buffers that both hold
results of the same runs (a hand-over) store each run, and count its events, once — on SQLite and
on PostgreSQL; the rest of each batch is written as usual, and so are results with no slot."""

from __future__ import annotations

from sqlalchemy import func, select

from monitor.config.loading import KINDS
from monitor.contracts.loader import load_contracts
from monitor.contracts.results import ProbeResult
from monitor.daemon.buffer import MeasurementBuffer
from monitor.store.tables import EventMinute, ProbeRecord
from tests.integration.test_daemon_resilience import ORDERS
from tests.support.daemon import write_config


def _run(clock, slot: int | None, ok: bool = True) -> ProbeResult:
    return ProbeResult("checkout/orders", "api", "http", clock.advance(), ok=ok, slot=slot)


def test_runs_made_by_two_workers_during_a_hand_over_are_stored_and_counted_once(
        store, tmp_path, clock):
    products = load_contracts([write_config(tmp_path, {"orders.yaml": ORDERS})], KINDS).products
    old_worker, new_worker = MeasurementBuffer(store), MeasurementBuffer(store)
    old_worker.products = new_worker.products = products
    for slot in (1, 2, 3):
        old_worker.add(_run(clock, slot))
    assert old_worker.flush().written == 3
    # the new owner made runs 3 and 4 (run 3 as well, from a lease that changed hands meanwhile)
    # and two runs on demand; its batch holds a run stored before, so the fast insert cannot be used
    for result in (_run(clock, 3, ok=False), _run(clock, 4), _run(clock, None), _run(clock, None)):
        new_worker.add(result)
    report = new_worker.flush()
    assert (report.written, report.pending, report.error) == (4, 0, None)
    assert not new_worker.quarantine and new_worker.rejected == 0

    with store.connect() as connection:
        slots = connection.execute(select(ProbeRecord.slot, ProbeRecord.ok)
                                   .order_by(ProbeRecord.id)).all()
        availability = connection.execute(select(func.sum(EventMinute.total))).scalar()
    assert sorted((tuple(row) for row in slots), key=str) == [
        (1, True), (2, True), (3, True), (4, True), (None, True), (None, True)]
    # ORDERS has one availability objective on port api: one event per stored run
    assert availability == len(slots)
