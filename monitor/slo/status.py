"""Evaluate one objective at time T from its event counts: status, budget, burn rates, conditions.

Pure: the caller sums the events of each window over (T - window, T] and passes them in; for a
calendar objective the objective's own window is (start of the current period, T] instead, and
the events a full window holds are those of the whole period (`Period.length`).

`freshness_breach` (page) holds when the data is older than the threshold now; for an objective
with a delivery schedule, when it was older than the threshold at the latest deadline
(monitor.slo.schedule): between deadlines nothing new is due.

`schema_mismatch` (ticket) holds while the latest look at the objective's port found declared
columns missing or retyped (`Observations.schema_mismatch`, each finding a line naming the
column); it is not an event: availability and the budgets do not count it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from monitor.contracts.schedule import Schedule
from monitor.contracts.severity import Severity
from monitor.slo.budget import Counts, burn_rate, compliance, error_budget_remaining, exceeds
from monitor.slo.calendar import Period
from monitor.slo.conditions import ConditionName
from monitor.slo.schedule import age_at_deadline, latest_deadline
from monitor.slo.windows import (
    DEFAULT_RULES,
    RESOLUTION,
    BurnRateRule,
    alert_windows,
    expected_events,
    scaled_rules,
)


class Status(StrEnum):
    OK = "ok"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    NO_DATA = "no_data"
    NOT_IN_FORCE = "not_in_force"


# Worst first: how a list of objectives or products is sorted for people.
STATUS_ORDER = (Status.BREACHED, Status.AT_RISK, Status.NO_DATA, Status.OK, Status.NOT_IN_FORCE)


def worst_status(statuses: Iterable[Status]) -> Status:
    """The worst of some statuses (none at all: no data), e.g. a product's of its objectives."""
    return min(statuses, key=STATUS_ORDER.index, default=Status.NO_DATA)


@dataclass(frozen=True)
class Condition:
    """An alert condition that holds at the time of evaluation."""

    name: ConditionName
    severity: Severity
    long_window: timedelta | None = None
    short_window: timedelta | None = None
    burn_rate_threshold: Decimal | None = None

    def __post_init__(self) -> None:  # accept the plain words too ("fast_burn", "page")
        object.__setattr__(self, "name", ConditionName(self.name))
        object.__setattr__(self, "severity", Severity(self.severity))


@dataclass(frozen=True)
class AlertPolicy:
    rules: tuple[BurnRateRule, ...] = DEFAULT_RULES
    min_events: int = 10  # in the long window, before a burn-rate rule may fire
    no_data_intervals: int = 3  # missed intervals before the no-data condition holds


@dataclass(frozen=True)
class Observations:
    """What the store knows about one objective at T."""

    counts: Mapping[timedelta, Counts]  # per window length, summed over (T - w, T]
    last_event_at: datetime | None = None
    expected_interval: timedelta | None = None  # how often the port is probed; None: unknown
    data_age: timedelta | None = None  # freshness: T - newest data timestamp, when known
    # the moment data_age was taken (the evaluation's own, not its minute's end); None: `at`
    data_seen_at: datetime | None = None
    monitoring_since: datetime | None = None  # when the collector began; no data is judged after
    # One event per probe (availability, latency, freshness): a full window of length w is
    # expected to hold w / expected_interval events. False for counted requests (error rate).
    one_event_per_probe: bool = False
    # the port's latest schema findings (`invoices.amount: declared decimal, found text`)
    schema_mismatch: tuple[str, ...] = ()


@dataclass(frozen=True)
class Evaluation:
    status: Status
    counts: Counts
    compliance: float | None
    error_budget_remaining: float | None
    burn_rates: dict[timedelta, float | None]
    conditions: tuple[Condition, ...]
    data_age: timedelta | None = None  # the age judged by freshness_breach, carried to messages
    rules: tuple[BurnRateRule, ...] = ()  # the burn-rate rules as scaled for this objective
    # the budget left of the events a full window holds (`budget_exhausted` at 0 or less); the
    # same as error_budget_remaining once the window is full
    window_budget_remaining: float | None = None
    period: Period | None = None  # a calendar objective's current period; None: rolling
    # a scheduled freshness objective's latest deadline, the one its data was judged at
    deadline: datetime | None = None
    schema_mismatch: tuple[str, ...] = ()  # the findings `schema_mismatch` holds on

    @property
    def budget_window(self) -> timedelta | None:
        """The length a burn rate of 1 spends the budget over, when it is not the objective's
        nominal window: the whole current period of a calendar objective."""
        return self.period.length if self.period is not None else None


def evaluate_objective(*, target: Decimal, window: timedelta, at: datetime, in_force: bool,
                       observations: Observations, threshold: timedelta | None = None,
                       policy: AlertPolicy = AlertPolicy(), period: Period | None = None,
                       schedule: Schedule | None = None, timezone: str = "UTC") -> Evaluation:
    """`window`: the objective's (nominal) window, the key of its counts and the length the
    burn-rate windows are scaled from; `period`: for a calendar objective, the current period,
    whose whole length says how many events a full window holds; `schedule`: a freshness
    objective's delivery schedule, on the clock of `timezone` (the objective's, else the
    settings')."""
    counts = observations.counts.get(window, Counts())
    rules = scaled_rules(window, policy.rules, observations.expected_interval)
    burn_rates = {w: burn_rate(observations.counts.get(w, Counts()), target)
                  for w in alert_windows(window, policy.rules, observations.expected_interval)}
    remaining = error_budget_remaining(counts, target)
    full = period.length if period is not None else window
    window_left = window_budget_remaining(counts, target, _expected(full, observations))
    seen_at = observations.data_seen_at or at
    deadline = latest_deadline(schedule, seen_at, timezone) if schedule is not None else None
    if not in_force:
        return Evaluation(Status.NOT_IN_FORCE, counts, compliance(counts), remaining, burn_rates,
                          (), observations.data_age, rules, window_left, period, deadline)
    conditions = [Condition(rule.name, rule.severity, rule.long_window, rule.short_window,
                            rule.burn_rate)
                  for rule in rules if _burning(rule, observations, target, policy)]
    if counts.bad > 0 and window_left is not None and window_left <= 0:
        conditions.append(Condition(ConditionName.BUDGET_EXHAUSTED, Severity.TICKET))
    if _stale(observations, threshold, schedule, seen_at, deadline):
        conditions.append(Condition(ConditionName.FRESHNESS_BREACH, Severity.PAGE))
    if _no_data(at, observations, policy):
        conditions.append(Condition(ConditionName.NO_DATA, Severity.TICKET))
    if observations.schema_mismatch:
        conditions.append(Condition(ConditionName.SCHEMA_MISMATCH, Severity.TICKET))
    return Evaluation(status_of(counts, target, conditions), counts, compliance(counts), remaining,
                      burn_rates, tuple(conditions), observations.data_age, rules, window_left,
                      period, deadline, observations.schema_mismatch)


def _stale(observations: Observations, threshold: timedelta | None, schedule: Schedule | None,
           seen_at: datetime, deadline: datetime | None) -> bool:
    """The data is older than the threshold: now, or at the latest deadline of a schedule."""
    age = observations.data_age
    if threshold is None or age is None:
        return False
    if schedule is None:
        return age > threshold
    return age_at_deadline(seen_at - age, deadline) > threshold


def window_budget_remaining(counts: Counts, target: Decimal, expected: int = 0) -> float | None:
    """1 - bad / ((1 - target) × the events the window holds): those observed, or those a full
    window is expected to hold when that is more — so the first bad probe of a new objective
    spends a sliver of a 30-day budget, not all of it. None without events."""
    basis = max(counts.total, expected)
    if not basis:
        return None
    return error_budget_remaining(Counts(basis - counts.bad, basis), target)


def _expected(window: timedelta, observations: Observations) -> int:
    if not observations.one_event_per_probe:
        return 0
    return expected_events(window, observations.expected_interval)


def _burning(rule: BurnRateRule, observations: Observations, target: Decimal,
             policy: AlertPolicy) -> bool:
    """Over both windows the bad fraction exceeds `burn × (1 - target)`; each window's fraction
    is taken of the events it holds or, when more, of those a full window is expected to hold."""
    counts = observations.counts
    long, short = counts.get(rule.long_window, Counts()), counts.get(rule.short_window, Counts())
    if not long.bad or not short.bad:  # no bad event burns (padding only adds good ones)
        return False
    return (long.total >= policy.min_events
            and exceeds(_padded(long, _expected(rule.long_window, observations)), target,
                        rule.burn_rate)
            and exceeds(_padded(short, _expected(rule.short_window, observations)), target,
                        rule.burn_rate))


def _padded(counts: Counts, expected: int) -> Counts:
    """`counts` with the events a full window should hold but does not yet, counted as good."""
    missing = max(0, expected - counts.total)
    return Counts(counts.good + missing, counts.total + missing)


def _no_data(at: datetime, observations: Observations, policy: AlertPolicy) -> bool:
    """Nothing measured for `no_data_intervals` intervals (never less than two minutes: the
    store counts per minute), counted from the last event or from when monitoring began."""
    interval = observations.expected_interval
    if interval is None:
        return False
    since = max(filter(None, (observations.last_event_at, observations.monitoring_since)),
                default=None)
    if since is None:
        return True
    return at - since > max(policy.no_data_intervals * interval, 2 * RESOLUTION)


def status_of(counts: Counts, target: Decimal, conditions: list[Condition] | tuple) -> Status:
    if counts.total == 0:
        return Status.NO_DATA
    if Decimal(counts.good) < target * counts.total:
        return Status.BREACHED
    return Status.AT_RISK if conditions else Status.OK
