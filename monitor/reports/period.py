"""What a month covers for one product: the minutes in force, up to now, without the maintenance
the product keeps out of its SLO.

- period: the month, cut to the contract's validity [start, end) (UTC dates) and to the time of
  the report. Maintenance windows are cut out of it when the product keeps them out of its SLO
  (`maintenance_counts_in_slo: false`); otherwise they count like any other minute.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from monitor.contracts import maintenance
from monitor.contracts.model import DataProduct, MaintenanceWindow
from monitor.store.reads import Span
from monitor.store.rollups import floor_minute, minute_time


@dataclass(frozen=True)
class Period:
    """The minutes of a month that count for one product, as spans (start, end] in epoch minutes."""

    spans: tuple[Span, ...]
    maintenance_minutes: int  # maintenance inside the month's in-force minutes
    maintenance_counted: bool
    in_force: bool = True  # the contract is valid for some of the month

    @property
    def minutes(self) -> int:
        return sum(end - start for start, end in self.spans)


def report_period(product: DataProduct, start: datetime, end: datetime, now: datetime) -> Period:
    """The part of [start, end) that counts for `product`: in force, not in the future, and without
    maintenance when the product keeps maintenance out of its SLO."""
    low, month_end = floor_minute(start), floor_minute(end)
    if product.start is not None:
        low = max(low, floor_minute(_midnight(product.start)))
    if product.end is not None:
        month_end = min(month_end, floor_minute(_midnight(product.end)))
    high = min(month_end, floor_minute(now))
    if high <= low:
        return Period((), 0, product.maintenance_counts_in_slo, in_force=month_end > low)
    spans = maintenance_minutes(product.maintenance, low, high)
    spent = sum(e - s for s, e in spans)
    kept = ((low, high),) if product.maintenance_counts_in_slo else _without(low, high, spans)
    return Period(kept, spent, product.maintenance_counts_in_slo)


def maintenance_minutes(windows: Iterable[MaintenanceWindow], low: int, high: int) -> list[Span]:
    """The maintenance inside (low, high], merged and sorted: contracts.maintenance's spans, in
    whole epoch minutes."""
    spans = maintenance.maintenance_spans(windows, minute_time(low), minute_time(high))
    minutes = ((floor_minute(start), floor_minute(end)) for start, end in spans)
    return [(start, end) for start, end in minutes if end > start]


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _without(low: int, high: int, holes: Sequence[Span]) -> tuple[Span, ...]:
    spans, cursor = [], low
    for start, end in holes:
        if start > cursor:
            spans.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < high:
        spans.append((cursor, high))
    return tuple(spans)
