"""Which minutes of a report's period a product was measured in, and which of those it was down in.

The rule — a probe covers its interval: an availability event in minute bucket m of a port probed
every I minutes covers the minutes m .. m+I-1 (until the port's next probe is due). A minute is

- measured when a probe of one of the product's availability objectives covers it;
- down when a failed probe covers it (bad on any port counts once);
- up when measured and not down; not measured otherwise — neither up nor down.

So a port probed every 5 minutes measures all 5 of its minutes with one probe, and a failed
probe makes those 5 minutes down (not 1). An objective bound to no port counts every port's
events; it covers the shortest interval of the product's ports, so it never claims more than a
probe of any of them covers. The intervals are the contract's as loaded now.

The minutes come from the hours' minute masks (`seen_mask`: the minute held an event, `bad_mask`:
a bad one), never from the minute tier, so a month reads the same before and after its minutes
are pruned (store/retention.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection

from monitor.contracts.model import DataProduct, Indicator
from monitor.store.reads import MinuteSet, Span, minute_marks


@dataclass(frozen=True)
class Coverage:
    """A product's measured and down minutes inside its period."""

    measured: int
    down: int


def objective_intervals(product: DataProduct) -> dict[str, int]:
    """The minutes each availability objective's probe covers: its port's interval (at least one
    minute); an objective on no port (or an unknown one), the product's shortest interval."""
    intervals = {port.name: _minutes(port.interval) for port in product.ports}
    shortest = min(intervals.values(), default=1)
    return {o.name: intervals.get(o.port, shortest) if o.port else shortest
            for o in product.objectives if o.indicator is Indicator.AVAILABILITY}


def product_coverage(connection: Connection, intervals: Mapping[str, Mapping[int, int]],
                     spans: Mapping[str, Sequence[Span]]) -> dict[str, Coverage]:
    """Per product, its measured and down minutes inside its spans; `intervals` maps each
    product's availability series (ids) to the minutes a probe covers."""
    wanted = {product: series for product, series in intervals.items() if series and spans.get(product)}
    if not wanted:
        return {}
    reach = max(interval for series in wanted.values() for interval in series.values())
    first = min(start for product in wanted for start, _ in spans[product]) + 1 - (reach - 1)
    last = max(end for product in wanted for _, end in spans[product])
    seen, bad = minute_marks(connection, sorted({i for s in wanted.values() for i in s}), first, last)
    coverage = {}
    for product, series in wanted.items():
        measured = down = 0
        for series_id, interval in series.items():
            measured |= spread(seen.get(series_id, 0), interval)
            down |= spread(bad.get(series_id, 0), interval)
        period = period_mask(spans[product], first)
        coverage[product] = Coverage((measured & period).bit_count(), (down & period).bit_count())
    return coverage


def spread(minutes: MinuteSet, interval: int) -> MinuteSet:
    """Each set minute extended over the `interval` minutes it starts (its probe's interval)."""
    covered, width = minutes, 1
    while width < interval:
        step = min(width, interval - width)
        covered |= covered << step
        width += step
    return covered


def period_mask(spans: Sequence[Span], first: int) -> MinuteSet:
    """The minutes of spans (start, end] as bits counted from minute `first`."""
    mask = 0
    for start, end in spans:
        mask |= ((1 << (end - start)) - 1) << (start + 1 - first)
    return mask


def _minutes(interval: timedelta) -> int:
    return max(1, round(interval / timedelta(minutes=1)))
