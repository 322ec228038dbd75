"""Multi-window, multi-burn-rate alert rules (Google SRE workbook), as data scaled to a window."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal

BASE_WINDOW = timedelta(days=30)
RESOLUTION = timedelta(minutes=1)  # the store counts events per minute


@dataclass(frozen=True)
class BurnRateRule:
    """Holds when the burn rate exceeds `burn_rate` over both the long and the short window."""

    name: str
    severity: str
    long_window: timedelta
    short_window: timedelta
    burn_rate: Decimal


# For a 30-day window: 2 % of the budget in 1 h, 5 % in 6 h (page), 10 % in 3 d (ticket).
DEFAULT_RULES: tuple[BurnRateRule, ...] = (
    BurnRateRule("fast_burn", "page", timedelta(hours=1), timedelta(minutes=5), Decimal("14.4")),
    BurnRateRule("sustained_burn", "page", timedelta(hours=6), timedelta(minutes=30), Decimal(6)),
    BurnRateRule("slow_burn", "ticket", timedelta(days=3), timedelta(hours=6), Decimal(1)),
)


def scale_window(window: timedelta, objective_window: timedelta) -> timedelta:
    """`window` (given for 30 d) scaled to `objective_window`, in whole minutes, at least one."""
    scaled = window * (objective_window / BASE_WINDOW)
    minutes = max(1, round(scaled / RESOLUTION))
    return minutes * RESOLUTION


def scaled_rules(objective_window: timedelta,
                 rules: tuple[BurnRateRule, ...] = DEFAULT_RULES) -> tuple[BurnRateRule, ...]:
    """The rules for an objective's window: windows shrink or grow, burn-rate thresholds stay."""
    return tuple(
        replace(rule, long_window=scale_window(rule.long_window, objective_window),
                short_window=scale_window(rule.short_window, objective_window))
        for rule in rules)


def alert_windows(objective_window: timedelta,
                  rules: tuple[BurnRateRule, ...] = DEFAULT_RULES) -> tuple[timedelta, ...]:
    """Every distinct window the rules look at, shortest first (5m, 30m, 1h, 6h, 3d for 30 d)."""
    return tuple(sorted({w for rule in scaled_rules(objective_window, rules)
                         for w in (rule.long_window, rule.short_window)}))
