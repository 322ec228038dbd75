"""Backfill weeks of history for the example mesh: simulated probe results, written through the
same path as the daemon's (probe results → indicator events → per-minute and per-hour counts)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine

from monitor.contracts.model import DataProduct, Port
from monitor.contracts.results import ErrorClass, ProbeResult, Volume
from monitor.demo.scenario import (
    behaviour_at,
    newest_cart_file,
    newest_cart_message,
    newest_features,
    newest_orders,
    newest_orders_file,
    orders_landed_bytes,
)
from monitor.evaluation.indicators import events_from_result
from monitor.store.events import record_events
from monitor.store.measurements import record_probe_results
from monitor.values.durations import parse_duration
from monitor.values.volumes import VolumeUnit

REQUESTS_PER_MINUTE = 240


def simulated_result(product: DataProduct, port: Port, at: datetime, live_start: datetime
                     ) -> ProbeResult:
    """What the port's probe would have seen at `at`."""
    now = behaviour_at(at, live_start)
    base = ProbeResult(product.id, port.name, port.type, at, ok=True,
                       latency=timedelta(milliseconds=25))
    key = (product.id, port.name)
    if key == ("checkout/orders", "api"):
        if now.checkout_api_down:
            return _failed(base, ErrorClass.HTTP_STATUS, "status 503 (expected 2xx)")
        return _replace(base, latency=now.checkout_api_latency,
                        newest_data_at=newest_orders(at, live_start))
    if key == ("checkout/orders", "warehouse"):
        return _replace(base, newest_data_at=newest_orders(at, live_start),
                        details={"row_count": int(at.timestamp() // 60) % 100_000})
    if key == ("checkout/orders", "lake"):
        return _replace(base, newest_data_at=newest_orders_file(at, live_start),
                        volume=_landed(port))
    if key == ("cart/events", "lake"):
        return _replace(base, newest_data_at=newest_cart_file(at, live_start))
    if key == ("cart/events", "pipeline"):
        newest = newest_cart_file(at, live_start)
        if now.cart_stalled:
            return _failed(_replace(base, newest_data_at=newest), ErrorClass.BAD_PAYLOAD,
                           "the last run reported failure: source export timed out")
        return _replace(base, newest_data_at=newest)
    if key == ("cart/events", "hub"):
        return _replace(base, newest_data_at=newest_cart_message(at))
    if key == ("marketing/campaign-features", "api"):
        if now.marketing_api_down:
            return _failed(base, ErrorClass.REFUSED, "connection refused")
        return _replace(base, newest_data_at=newest_features(at, live_start))
    if key == ("marketing/campaign-features", "requests"):
        total = int(REQUESTS_PER_MINUTE * port.interval.total_seconds() / 60)
        return _replace(base, total=total, failed=round(total * now.marketing_error_fraction))
    return base


def _landed(port: Port) -> Volume | None:
    """The volume a blob port with a `volume:` block counts: the bytes of the files landed."""
    spec = port.options.get("volume")
    if not isinstance(spec, dict):
        return None
    per = parse_duration(spec.get("per", "1d"))
    return Volume(orders_landed_bytes(per), VolumeUnit.BYTES, per)


def _replace(result: ProbeResult, **changes) -> ProbeResult:
    from dataclasses import replace

    return replace(result, **changes)


def _failed(result: ProbeResult, error_class: ErrorClass, message: str) -> ProbeResult:
    return _replace(result, ok=False, error_class=error_class, error=message)


def backfill(engine: Engine, products: list[DataProduct], start: datetime, end: datetime,
             live_start: datetime | None = None,
             on_progress: Callable[[float], None] = lambda fraction: None,
             timezone: str = "UTC") -> int:
    """Write the simulated results of every port from `start` to `end` (the scenario's script
    begins at `live_start`, default `end`); returns how many. `timezone`: the settings' (the clock of
    delivery schedules that name none)."""
    live_start = live_start or end
    written, span = 0, (end - start).total_seconds()
    day = timedelta(days=1)
    moment = start
    while moment < end:
        until = min(moment + day, end)
        results = [simulated_result(product, port, at, live_start)
                   for product in products for port in product.ports
                   for at in _ticks(moment, until, port.interval)]
        with engine.begin() as connection:
            record_probe_results(connection, results)
            by_id = {product.id: product for product in products}
            record_events(connection, (event for result in results
                                       for event in events_from_result(by_id[result.product], result,
                                                                      timezone)))
        written += len(results)
        moment = until
        on_progress((moment - start).total_seconds() / span)
    return written


def _ticks(start: datetime, end: datetime, every: timedelta):
    step = every.total_seconds()
    tick = datetime.fromtimestamp(-(-start.timestamp() // step) * step, tz=start.tzinfo)
    while tick < end:
        yield tick
        tick += every
