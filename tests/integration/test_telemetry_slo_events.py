"""`meshwatch.slo.events` counts the events the store recorded, as it recorded them: a real
write buffer on a real store (SQLite and PostgreSQL) tells telemetry after each committed write;
runs another worker stored before count once, writes the store refused count nothing, and each
objective's two outcome series exist at 0 from its first evaluation round."""

from __future__ import annotations

from datetime import timedelta

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from sqlalchemy import func, select

from monitor.config.loading import KINDS, load_config
from monitor.contracts.loader import load_contracts
from monitor.contracts.results import ProbeResult
from monitor.daemon.buffer import MeasurementBuffer
from monitor.daemon.runner import assemble
from monitor.store.events import Event
from monitor.store.tables import EventMinute
from monitor.telemetry.provider import Telemetry
from tests.integration.test_daemon_resilience import ORDERS
from tests.support.daemon import write_config
from tests.support.telemetry import AT, at_risk_report, values

NAME = "meshwatch.slo.events"
AVAILABILITY = (("indicator", "availability"), ("objective", "availability"),
                ("product", "checkout/orders"))


class Products:
    """What telemetry reads of a daemon to name an event's indicator."""

    def __init__(self, products):
        self.products = products


@pytest.fixture
def reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def telemetry(reader):
    telemetry = Telemetry([reader])
    yield telemetry
    telemetry.shutdown()


def _buffer(store, products, telemetry) -> MeasurementBuffer:
    buffer = MeasurementBuffer(store)
    buffer.products = products
    buffer.on_stored.append(telemetry.on_events)
    return buffer


def _counted(reader) -> dict[str, float]:
    return {dict(key)["outcome"]: value for key, value in values(reader.get_metrics_data(), NAME).items()
            if tuple(sorted((k, v) for k, v in key if k != "outcome")) == AVAILABILITY}


def _run(clock, slot: int | None, ok: bool = True) -> ProbeResult:
    return ProbeResult("checkout/orders", "api", "http", clock.advance(), ok=ok, slot=slot)


def test_the_counter_holds_what_the_store_recorded_and_a_run_stored_before_counts_once(
        store, tmp_path, clock, reader, telemetry):
    products = load_contracts([write_config(tmp_path, {"orders.yaml": ORDERS})], KINDS).products
    telemetry.watch(Products(products))  # type: ignore[arg-type]
    old_worker, new_worker = (_buffer(store, products, telemetry) for _ in range(2))
    for slot in (1, 2, 3):
        old_worker.add(_run(clock, slot))
    assert old_worker.flush().written == 3
    assert _counted(reader) == {"good": 3, "bad": 0}
    # a hand-over: the new owner also made run 3 (failed there); the store keeps the first
    for result in (_run(clock, 3, ok=False), _run(clock, 4, ok=False), _run(clock, None)):
        new_worker.add(result)
    assert new_worker.flush().written == 3
    with store.connect() as connection:
        good, total = connection.execute(select(func.sum(EventMinute.good),
                                                func.sum(EventMinute.total))).one()
    assert (good, total) == (4, 5)
    assert _counted(reader) == {"good": good, "bad": total - good}


def test_a_write_the_store_refused_counts_nothing_until_it_is_written(store, tmp_path, clock,
                                                                      reader, telemetry):
    products = load_contracts([write_config(tmp_path, {"orders.yaml": ORDERS})], KINDS).products
    telemetry.watch(Products(products))  # type: ignore[arg-type]
    buffer = _buffer(store, products, telemetry)
    buffer.add(_run(clock, 1, ok=False))
    store.dispose()
    real_begin = store.begin
    store.begin = lambda: (_ for _ in ()).throw(OSError("disk gone"))  # type: ignore[method-assign]
    try:
        assert buffer.flush().pending == 1
    finally:
        store.begin = real_begin  # type: ignore[method-assign]
    assert _counted(reader) == {}
    assert buffer.flush().written == 1
    assert _counted(reader) == {"good": 0, "bad": 1}


def test_an_evaluated_objective_has_both_outcomes_at_zero_before_its_first_event(reader, telemetry):
    attributes = (("indicator", "availability"), ("objective", "api-availability"),
                  ("product", "checkout/orders"))
    telemetry.after_evaluation([at_risk_report()], AT)
    assert values(reader.get_metrics_data(), NAME) == {
        (*attributes[:2], ("outcome", "bad"), attributes[2]): 0,
        (*attributes[:2], ("outcome", "good"), attributes[2]): 0}
    # events of the same objective join those series (telemetry watches no daemon here)
    telemetry.on_events([Event("checkout/orders", "api-availability", AT, 2, 3)])
    telemetry.after_evaluation([at_risk_report()], AT + timedelta(minutes=1))  # adds nothing
    assert values(reader.get_metrics_data(), NAME) == {
        (*attributes[:2], ("outcome", "bad"), attributes[2]): 1,
        (*attributes[:2], ("outcome", "good"), attributes[2]): 2}


def test_the_assembled_daemon_counts_its_stored_events(tmp_path, store):
    config_dir = write_config(tmp_path / "config", {"orders.yaml": ORDERS}, settings="""\
        telemetry:
          exporters: [{type: otlp, endpoint: "http://127.0.0.1:9"}]
        """)
    parts = assemble(load_config(config_dir), store, alerting=False)
    try:
        assert parts.telemetry is not None
        assert parts.daemon.buffer.on_stored == [parts.telemetry.on_events]
    finally:
        parts.telemetry.shutdown()
