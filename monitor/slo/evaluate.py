"""Evaluate one objective at time T from its event counts: status, budget, burn rates, conditions.

Pure: the caller sums the events of each window over (T - window, T] and passes them in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from monitor.slo.budget import Counts, burn_rate, compliance, error_budget_remaining, exceeds
from monitor.slo.policy import DEFAULT_RULES, RESOLUTION, BurnRateRule, scaled_rules


class Status(StrEnum):
    OK = "ok"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    NO_DATA = "no_data"
    NOT_IN_FORCE = "not_in_force"


# Worst first: how a list of objectives or products is sorted for people.
STATUS_ORDER = (Status.BREACHED, Status.AT_RISK, Status.NO_DATA, Status.OK, Status.NOT_IN_FORCE)


@dataclass(frozen=True)
class Condition:
    """An alert condition that holds at the time of evaluation."""

    name: str
    severity: str
    long_window: timedelta | None = None
    short_window: timedelta | None = None
    burn_rate_threshold: Decimal | None = None


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
    expected_interval: timedelta | None = None  # how often events should arrive; None: unknown
    data_age: timedelta | None = None  # freshness: T - newest data timestamp, when known
    monitoring_since: datetime | None = None  # when the collector began; no data is judged after


@dataclass(frozen=True)
class Evaluation:
    status: Status
    counts: Counts
    compliance: float | None
    error_budget_remaining: float | None
    burn_rates: dict[timedelta, float | None]
    conditions: tuple[Condition, ...]


def evaluate_objective(*, target: Decimal, window: timedelta, at: datetime, in_force: bool,
                       observations: Observations, threshold: timedelta | None = None,
                       policy: AlertPolicy = AlertPolicy()) -> Evaluation:
    counts = observations.counts.get(window, Counts())
    rules = scaled_rules(window, policy.rules)
    burn_rates = {w: burn_rate(observations.counts.get(w, Counts()), target)
                  for w in sorted({w for r in rules for w in (r.long_window, r.short_window)})}
    if not in_force:
        return Evaluation(Status.NOT_IN_FORCE, counts, compliance(counts),
                          error_budget_remaining(counts, target), burn_rates, ())
    conditions = [Condition(rule.name, rule.severity, rule.long_window, rule.short_window,
                            rule.burn_rate)
                  for rule in rules if _burning(rule, observations.counts, target, policy)]
    remaining = error_budget_remaining(counts, target)
    if remaining is not None and remaining <= 0:
        conditions.append(Condition("budget_exhausted", "ticket"))
    if threshold is not None and observations.data_age is not None \
            and observations.data_age > threshold:
        conditions.append(Condition("freshness_breach", "page"))
    if _no_data(at, observations, policy):
        conditions.append(Condition("no_data", "ticket"))
    return Evaluation(_status(counts, target, conditions), counts, compliance(counts), remaining,
                      burn_rates, tuple(conditions))


def _burning(rule: BurnRateRule, counts: Mapping[timedelta, Counts], target: Decimal,
             policy: AlertPolicy) -> bool:
    long, short = counts.get(rule.long_window, Counts()), counts.get(rule.short_window, Counts())
    return (long.total >= policy.min_events and exceeds(long, target, rule.burn_rate)
            and exceeds(short, target, rule.burn_rate))


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


def _status(counts: Counts, target: Decimal, conditions: list[Condition]) -> Status:
    if counts.total == 0:
        return Status.NO_DATA
    if Decimal(counts.good) < target * counts.total:
        return Status.BREACHED
    return Status.AT_RISK if conditions else Status.OK
