"""The monthly uptime report: per calendar month, each product's availability, uptime, measured,
down and not measured minutes, incidents and objectives met or missed, from the store's counts.

Definitions (docs/dashboard.md explains them to users):
- month: a calendar month in the configured time zone (settings.timezone, UTC by default).
- period: the minutes of the month that count for the product (see `period.py`).
- availability: good / total availability events of the product in the period, all its
  availability objectives together.
- measured minute: a minute of the period covered by a probe of one of the product's availability
  objectives — a probe covers its port's interval, so one probe of a port probed every 5 minutes
  measures 5 minutes (coverage.py has the rule).
- downtime minute: a measured minute covered by a failed probe (bad on two ports counts once; a
  failed 5-minute probe makes its 5 minutes down).
- not measured minute: a minute of the period no probe covers (the monitor was not running, the
  port was not probed yet): neither up nor down, its own column.
- uptime: 1 - downtime minutes / measured minutes (up minutes over measured minutes); none
  without a measured minute. Unmeasured minutes are never counted as up.
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
from monitor.reports.coverage import Coverage, objective_intervals, product_coverage
from monitor.reports.months import Month
from monitor.reports.period import Period, report_period
from monitor.slo.budget import Counts, burn_rate, compliance
from monitor.store.events import SeriesKey, series_ids, window_counts
from monitor.store.reads import incident_counts


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
    downtime_minutes: int | None  # the measured minutes a failed probe covers
    measured_minutes: int | None  # the period's minutes a probe covers; None as availability
    incidents: int | None  # None: not known (no alert history in the store)
    objectives: tuple[ObjectiveMonth, ...]
    in_force: bool = True

    @property
    def availability(self) -> float | None:
        return compliance(self.availability_counts) if self.availability_counts else None

    @property
    def unmeasured_minutes(self) -> int | None:
        """The period's minutes no probe covers: neither up nor down."""
        return None if self.measured_minutes is None else self.minutes - self.measured_minutes

    @property
    def up_minutes(self) -> int | None:
        if self.measured_minutes is None:
            return None
        return self.measured_minutes - (self.downtime_minutes or 0)

    @property
    def uptime(self) -> float | None:
        """Up minutes over measured minutes; None without a measured minute."""
        if not self.measured_minutes:
            return None
        return 1 - (self.downtime_minutes or 0) / self.measured_minutes

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
    """What the store says about a month: counts per objective, measured and down minutes and
    incidents per product."""

    counts: Mapping[SeriesKey, Counts]
    coverage: Mapping[str, Coverage]
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
    intervals = {p.id: {ids[(p.id, name)]: minutes for name, minutes in objective_intervals(p).items()
                        if (p.id, name) in ids} for p in products}
    coverage = product_coverage(connection, intervals, {p.id: periods[p.id].spans for p in products})
    return MonthFacts(counts, coverage, incident_counts(connection, start, end))


def product_month(product: DataProduct, period: Period, facts: MonthFacts) -> ProductMonth:
    objectives = tuple(
        ObjectiveMonth(o.name, o.indicator.value, o.target,
                       facts.counts.get((product.id, o.name), Counts()), period.in_force)
        for o in product.objectives)
    availability = [o.counts for o in objectives if o.indicator == Indicator.AVAILABILITY]
    has_availability = bool(availability)
    coverage = facts.coverage.get(product.id, Coverage(0, 0))
    return ProductMonth(
        product=product.id, domain=product.domain, owner=product.owner.team,
        minutes=period.minutes, maintenance_minutes=period.maintenance_minutes,
        maintenance_counted=period.maintenance_counted,
        availability_counts=sum(availability, Counts()) if has_availability else None,
        downtime_minutes=coverage.down if has_availability else None,
        measured_minutes=coverage.measured if has_availability else None,
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
