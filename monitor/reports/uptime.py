"""The monthly uptime report: per calendar month, each product's availability, uptime, downtime
minutes, incidents and objectives met or missed, computed from the store's counts.

Definitions (docs/dashboard.md explains them to users):
- month: a calendar month in the configured time zone (settings.timezone, UTC by default).
- period: the minutes of the month that count for the product (see `period.py`).
- availability: good / total availability events of the product in the period, all its
  availability objectives together.
- downtime minute: a minute of the period (minute bucket (m-1, m]) in which at least one
  availability event of the product was bad. A minute bad on two ports counts once; a port probed
  every 5 minutes adds at most one minute per failed probe.
- uptime: 1 - downtime minutes / minutes in the period; none without availability events.
- incidents: alerts of the product that started firing in the month (unknown without alerts).
- an objective is met when good >= target x total over the period; budget spent is
  (bad / total) / (1 - target), over 100 % when missed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from monitor.contracts.model import DataProduct, Indicator
from monitor.reports.months import Month
from monitor.reports.period import Period, report_period
from monitor.slo.budget import Counts, burn_rate, compliance
from monitor.store.events import SeriesKey, series_ids, window_counts
from monitor.store.reads import downtime_minutes, incident_counts


@dataclass(frozen=True)
class ObjectiveMonth:
    objective: str
    indicator: str
    target: Decimal
    counts: Counts
    in_force: bool = True

    @property
    def compliance(self) -> float | None:
        return compliance(self.counts)

    @property
    def met(self) -> bool | None:
        """None: no events in the period."""
        if not self.counts.total:
            return None
        return Decimal(self.counts.good) >= self.target * self.counts.total

    @property
    def result(self) -> str:
        """met, missed, no data, or not in force (the contract is not valid in the month)."""
        if not self.in_force:
            return "not in force"
        return {True: "met", False: "missed", None: "no data"}[self.met]

    @property
    def budget_spent(self) -> float | None:
        return burn_rate(self.counts, self.target)


@dataclass(frozen=True)
class ProductMonth:
    product: str
    domain: str
    owner: str
    minutes: int
    maintenance_minutes: int
    maintenance_counted: bool
    availability_counts: Counts | None  # None: the product has no availability objective
    downtime_minutes: int | None
    incidents: int | None  # None: not known (no alert history in the store)
    objectives: tuple[ObjectiveMonth, ...]
    in_force: bool = True

    @property
    def availability(self) -> float | None:
        return compliance(self.availability_counts) if self.availability_counts else None

    @property
    def uptime(self) -> float | None:
        if not self.minutes or not self.availability_counts or not self.availability_counts.total:
            return None
        return 1 - (self.downtime_minutes or 0) / self.minutes

    def count(self, result: str) -> int:
        """How many objectives are `met`, `missed`, `no data` or `not in force`."""
        return sum(1 for objective in self.objectives if objective.result == result)


@dataclass(frozen=True)
class UptimeReport:
    month: Month
    timezone: str
    start: datetime
    end: datetime
    generated_at: datetime
    products: tuple[ProductMonth, ...]

    @property
    def complete(self) -> bool:
        return self.generated_at >= self.end

    @property
    def incidents_known(self) -> bool:
        return any(p.incidents is not None for p in self.products)


@dataclass(frozen=True)
class MonthFacts:
    """What the store says about a month: counts per objective, downtime and incidents per product."""

    counts: Mapping[SeriesKey, Counts]
    downtime: Mapping[str, int]
    incidents: Mapping[str, int] | None


def month_facts(connection: Connection, products: Sequence[DataProduct],
                periods: Mapping[str, Period], start: datetime, end: datetime) -> MonthFacts:
    ids = series_ids(connection, [(p.id, o.name) for p in products for o in p.objectives],
                     create=False)
    spans = {span for period in periods.values() for span in period.spans}
    sums = window_counts(connection, list(ids.values()), spans)
    counts: dict[SeriesKey, Counts] = {}
    for key, series in ids.items():
        period = periods.get(key[0])
        if period is not None:
            counts[key] = sum((sums[span].get(series, Counts()) for span in period.spans), Counts())
    availability = {p.id: [ids[(p.id, o.name)] for o in p.objectives
                           if o.indicator is Indicator.AVAILABILITY and (p.id, o.name) in ids]
                    for p in products}
    downtime = downtime_minutes(connection, availability,
                                {p.id: periods[p.id].spans for p in products})
    return MonthFacts(counts, downtime, incident_counts(connection, start, end))


def product_month(product: DataProduct, period: Period, facts: MonthFacts) -> ProductMonth:
    objectives = tuple(
        ObjectiveMonth(o.name, o.indicator.value, o.target,
                       facts.counts.get((product.id, o.name), Counts()), period.in_force)
        for o in product.objectives)
    availability = [o.counts for o in objectives if o.indicator == Indicator.AVAILABILITY]
    has_availability = bool(availability)
    return ProductMonth(
        product=product.id, domain=product.domain, owner=product.owner.team,
        minutes=period.minutes, maintenance_minutes=period.maintenance_minutes,
        maintenance_counted=period.maintenance_counted,
        availability_counts=sum(availability, Counts()) if has_availability else None,
        downtime_minutes=facts.downtime.get(product.id, 0) if has_availability else None,
        incidents=None if facts.incidents is None else facts.incidents.get(product.id, 0),
        objectives=objectives, in_force=period.in_force)


def uptime_report(connection: Connection, products: Iterable[DataProduct], month: Month,
                  timezone: str, now: datetime) -> UptimeReport:
    """The month's report for `products`, as known at `now`."""
    products = sorted(products, key=lambda p: p.id)
    start, end = month.bounds(ZoneInfo(timezone))
    periods = {p.id: report_period(p, start, end, now) for p in products}
    facts = month_facts(connection, products, periods, start, end)
    return UptimeReport(month, timezone, start, end, now,
                        tuple(product_month(p, periods[p.id], facts) for p in products))
