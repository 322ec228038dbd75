"""Multi-window, multi-burn-rate alert rules (Google SRE workbook), as data scaled to a window."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache

from monitor.contracts.severity import Severity
from monitor.slo.conditions import ConditionName

BASE_WINDOW = timedelta(days=30)
RESOLUTION = timedelta(minutes=1)  # the store counts events per minute
MIN_INTERVALS_PER_WINDOW = 2  # a window shorter than two probe intervals can be empty by chance


@dataclass(frozen=True)
class BurnRateRule:
    """Holds when the burn rate exceeds `burn_rate` over both the long and the short window."""

    name: ConditionName
    severity: Severity
    long_window: timedelta
    short_window: timedelta
    burn_rate: Decimal


# For a 30-day window: 2 % of the budget in 1 h, 5 % in 6 h (page), 10 % in 3 d (ticket).
DEFAULT_RULES: tuple[BurnRateRule, ...] = (
    BurnRateRule(ConditionName.FAST_BURN, Severity.PAGE, timedelta(hours=1),
                 timedelta(minutes=5), Decimal("14.4")),
    BurnRateRule(ConditionName.SUSTAINED_BURN, Severity.PAGE, timedelta(hours=6),
                 timedelta(minutes=30), Decimal(6)),
    BurnRateRule(ConditionName.SLOW_BURN, Severity.TICKET, timedelta(days=3), timedelta(hours=6),
                 Decimal(1)),
)


def shortest_window(interval: timedelta | None) -> timedelta:
    """The shortest window a port probed every `interval` fills: two intervals, whole minutes."""
    if interval is None:
        return RESOLUTION
    return max(1, math.ceil(MIN_INTERVALS_PER_WINDOW * interval / RESOLUTION)) * RESOLUTION


def scale_window(window: timedelta, objective_window: timedelta,
                 interval: timedelta | None = None) -> timedelta:
    """`window` (given for 30 d) scaled to `objective_window`, in whole minutes, never shorter
    than two intervals of the port that feeds it (`interval`; None: one minute)."""
    scaled = window * (objective_window / BASE_WINDOW)
    minutes = max(1, round(scaled / RESOLUTION))
    return max(minutes * RESOLUTION, shortest_window(interval))


@lru_cache(maxsize=1024)  # a mesh has a few windows, intervals and policies; objectives by the thousand
def scaled_rules(objective_window: timedelta, rules: tuple[BurnRateRule, ...] = DEFAULT_RULES,
                 interval: timedelta | None = None) -> tuple[BurnRateRule, ...]:
    """The rules for an objective's window: windows shrink or grow, burn-rate thresholds stay."""
    return tuple(
        replace(rule, long_window=scale_window(rule.long_window, objective_window, interval),
                short_window=scale_window(rule.short_window, objective_window, interval))
        for rule in rules)


@lru_cache(maxsize=1024)
def alert_windows(objective_window: timedelta, rules: tuple[BurnRateRule, ...] = DEFAULT_RULES,
                  interval: timedelta | None = None) -> tuple[timedelta, ...]:
    """Every distinct window the rules look at, shortest first (5m, 30m, 1h, 6h, 3d for 30 d)."""
    return tuple(sorted({w for rule in scaled_rules(objective_window, rules, interval)
                         for w in (rule.long_window, rule.short_window)}))


def expected_events(window: timedelta, interval: timedelta | None) -> int:
    """How many events a full `window` holds when one arrives every `interval` (0: unknown)."""
    return 0 if interval is None or interval <= timedelta(0) else window // interval


def budget_share(burn_rate: Decimal, long_window: timedelta, objective_window: timedelta) -> float:
    """The share of the objective's error budget a burn rate spends over `long_window`
    (14.4 over 1 h of 30 d: 0.02)."""
    return float(burn_rate) * (long_window / objective_window)
