"""The domain objects every other part of meshwatch works with; loaders map YAML specs to these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from monitor.contracts.schedule import Schedule
from monitor.contracts.severity import Severity
from monitor.contracts.yamlsource import control_character, describe_character
from monitor.values.calendar import CalendarPeriod
from monitor.values.limits import NAME_LENGTH
from monitor.values.volumes import Amount


class Indicator(StrEnum):
    AVAILABILITY = "availability"
    LATENCY = "latency"
    FRESHNESS = "freshness"
    ERROR_RATE = "error_rate"
    VOLUME = "volume"


def name_refusal(name: str, what: str) -> str | None:
    """Why the store cannot hold `name` as `what` (a product id, a port name, an objective
    name), or None: longer than NAME_LENGTH characters, or holding a control character."""
    if len(name) > NAME_LENGTH:
        return (f"{what} is {len(name)} characters long; the store holds at most {NAME_LENGTH} "
                f"({name[:30]}…)")
    char = control_character(name)
    if char is not None:
        return f"{what} holds {describe_character(char)}"
    return None


THRESHOLD_INDICATORS = frozenset({Indicator.LATENCY, Indicator.FRESHNESS})
DEFAULT_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Owner:
    team: str
    contact: str | None = None
    notify: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True)
class Port:
    """One output port. `options` are the kind's own settings, `${ENV}` placeholders unresolved."""

    name: str
    type: str
    interval: timedelta = timedelta(minutes=1)
    timeout: timedelta = timedelta(seconds=10)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Objective:
    """A promise on one indicator. `port=None` counts the events of every port of the product.

    `calendar`: the window is the current calendar period (the budget resets at its start) on
    the clock of `timezone` (None: the settings' time zone); `window` is then its nominal length
    (a month: 30 days), from which the burn-rate windows are scaled as for a rolling window.

    `schedule` (freshness only): deadlines by which a delivery lands, on the clock of `timezone`
    (else the settings'); the data's age is then judged at the latest deadline, not at the time
    of evaluation (monitor.slo.schedule)."""

    name: str
    indicator: Indicator
    target: Decimal  # a fraction: 0.999 for 99.9 %
    window: timedelta = DEFAULT_WINDOW
    threshold: timedelta | None = None
    port: str | None = None
    description: str | None = None
    calendar: CalendarPeriod | None = None
    timezone: str | None = None
    schedule: Schedule | None = None
    minimum: Amount | None = None  # volume: at least this much per the port's `per`
    maximum: Amount | None = None  # volume: at most this much (or the terms' max_daily_volume)


def describe_bound(objective: Objective) -> str:
    """What a good event is, after the indicator: ` ≤ 300ms` (latency, freshness), ` ≥ 1,000 rows`,
    ` ≤ 10 GB`, ` 1,000–5,000` (volume); empty for availability and error rate."""
    from monitor.values.durations import format_duration
    from monitor.values.volumes import format_amount

    if objective.threshold is not None:
        return f" ≤ {format_duration(objective.threshold)}"
    low, high = objective.minimum, objective.maximum
    if low is not None and high is not None:
        return f" {format_amount(low.value, low.unit)}–{format_amount(high.value, high.unit)}"
    if low is not None:
        return f" ≥ {format_amount(low.value, low.unit)}"
    if high is not None:
        return f" ≤ {format_amount(high.value, high.unit)}"
    return ""


def describe_window(objective: Objective, timezone: str | None = None) -> str:
    """The window for people: `30d` (rolling), `month (Europe/Amsterdam)` for a calendar window in
    the objective's zone or else `timezone` (the one evaluation used), `calendar month` when
    neither is known."""
    from monitor.values.durations import format_duration

    if objective.calendar is None:
        return format_duration(objective.window)
    zone = objective.timezone or timezone
    return f"{objective.calendar.value} ({zone})" if zone else f"calendar {objective.calendar.value}"


@dataclass(frozen=True)
class Consumer:
    team: str
    contact: str | None = None
    purpose: str | None = None
    start: date | None = None
    end: date | None = None
    notify: tuple[dict[str, str], ...] = ()
    objectives: tuple[str, ...] | None = None  # None: every objective
    min_severity: Severity | None = None


@dataclass(frozen=True)
class MaintenanceWindow:
    """Planned downtime from `start` for `duration`, repeating every `every` or by `rrule` (an
    RFC 5545 RRULE, e.g. `FREQ=WEEKLY;BYDAY=SU`) on the wall clock of `timezone`; a naive `start`
    is wall time there. contracts/maintenance.py computes the occurrences."""

    start: datetime
    duration: timedelta
    every: timedelta | None = None
    timezone: str = "UTC"
    rrule: str | None = None


@dataclass(frozen=True)
class DeclaredProperty:
    """Something a contract promises that meshwatch does not monitor; shown, never dropped."""

    name: str
    value: str
    reason: str


@dataclass(frozen=True)
class DataProduct:
    domain: str
    name: str
    owner: Owner
    description: str | None = None
    version: str | None = None
    start: date | None = None
    end: date | None = None
    terms: dict[str, Any] = field(default_factory=dict)
    upstream: tuple[str, ...] = ()
    ports: tuple[Port, ...] = ()
    objectives: tuple[Objective, ...] = ()
    consumers: tuple[Consumer, ...] = ()
    maintenance: tuple[MaintenanceWindow, ...] = ()
    maintenance_counts_in_slo: bool = True
    update_frequency: timedelta | None = None
    query_interval: timedelta | None = None  # terms: consumers may query this often
    unmonitored: tuple[DeclaredProperty, ...] = ()
    source: str = ""  # the file(s) the product was read from
    format: str = "meshwatch/v1"

    @property
    def id(self) -> str:
        return f"{self.domain}/{self.name}"

    def port(self, name: str) -> Port | None:
        return next((port for port in self.ports if port.name == name), None)

    def in_force(self, at: datetime) -> bool:
        """Objectives are enforced inside [start, end) of the contract (UTC dates)."""
        day = at.date()
        return (self.start is None or day >= self.start) and (self.end is None or day < self.end)


def product_json(product: DataProduct) -> dict[str, Any]:
    """The product as `meshwatch contracts --json` shows it (secrets redacted)."""
    from monitor.values.durations import format_duration
    from monitor.values.secrets import redact
    from monitor.values.targets import format_target

    def day(value: date | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "product": product.id, "domain": product.domain, "name": product.name,
        "description": product.description, "version": product.version,
        "format": product.format, "source": product.source,
        "owner": {"team": product.owner.team, "contact": product.owner.contact},
        "start": day(product.start), "end": day(product.end), "terms": redact(product.terms),
        "upstream": list(product.upstream),
        "update_frequency": format_duration(product.update_frequency)
        if product.update_frequency else None,
        "ports": [{"name": p.name, "type": p.type, "interval": format_duration(p.interval),
                   "timeout": format_duration(p.timeout), "options": redact(p.options)}
                  for p in product.ports],
        "objectives": [{"name": o.name, "indicator": o.indicator.value,
                        "target": format_target(o.target), "window": format_duration(o.window),
                        "calendar": o.calendar.value if o.calendar else None,
                        "timezone": o.timezone,
                        "schedule": o.schedule.cron if o.schedule else None,
                        "threshold": format_duration(o.threshold) if o.threshold else None,
                        **_bounds(o), "port": o.port} for o in product.objectives],
        "consumers": [{"team": c.team, "contact": c.contact, "purpose": c.purpose,
                       "start": day(c.start), "end": day(c.end),
                       "objectives": list(c.objectives) if c.objectives is not None else None}
                      for c in product.consumers],
        "maintenance": [{"start": m.start.isoformat(), "duration": format_duration(m.duration),
                         "every": format_duration(m.every) if m.every else None,
                         "timezone": m.timezone, "rrule": m.rrule,
                         } for m in product.maintenance],
        "maintenance_in_slo": "counted" if product.maintenance_counts_in_slo else "excluded",
        "not_monitored": [{"name": d.name, "value": d.value, "reason": d.reason}
                          for d in product.unmonitored],
    }


def _bounds(objective: Objective) -> dict[str, Any]:
    """A volume objective's `min` and `max` as numbers; nothing for the other indicators."""
    if objective.indicator is not Indicator.VOLUME:
        return {}
    return {"min": objective.minimum.value if objective.minimum else None,
            "max": objective.maximum.value if objective.maximum else None}
