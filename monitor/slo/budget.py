"""Compliance, burn rate and error budget of a count of good and total events: exact arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache


@dataclass(frozen=True)
class Counts:
    """Events in one window: `good` of `total` met the objective."""

    good: int = 0
    total: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.good <= self.total:
            raise ValueError(f"need 0 <= good <= total, got good={self.good} total={self.total}")

    @property
    def bad(self) -> int:
        return self.total - self.good

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.good + other.good, self.total + other.total)


def bad_fraction(counts: Counts) -> Fraction | None:
    return Fraction(counts.bad, counts.total) if counts.total else None


def compliance(counts: Counts) -> float | None:
    """good / total; None without events."""
    return float(Fraction(counts.good, counts.total)) if counts.total else None


def burn_rate_exact(counts: Counts, target: Decimal) -> Fraction | None:
    """(bad / total) / (1 - target): 1 spends the budget exactly over the window."""
    fraction = bad_fraction(counts)
    return None if fraction is None else fraction / _budget(target)


@lru_cache(maxsize=256)
def _budget(target: Decimal) -> Fraction:
    """1 - target, exactly: a mesh has a handful of targets, its objectives thousands."""
    return 1 - Fraction(target)


@lru_cache(maxsize=256)
def _fraction(value: Decimal) -> Fraction:
    return Fraction(value)


# The three below run for every window of every objective in each evaluation round, so they
# work in integers: with 1 - target = p / q, the burn rate is (bad · q) / (total · p). Python's
# int / int is correctly rounded, so each float is exactly float(burn_rate_exact(...)).


def burn_rate(counts: Counts, target: Decimal) -> float | None:
    if not counts.total:
        return None
    budget = _budget(target)
    return (counts.bad * budget.denominator) / (counts.total * budget.numerator)


def error_budget_remaining(counts: Counts, target: Decimal) -> float | None:
    """1 - (bad / total) / (1 - target); negative once the objective is missed."""
    if not counts.total:
        return None
    budget = _budget(target)
    spendable = counts.total * budget.numerator
    return (spendable - counts.bad * budget.denominator) / spendable


def exceeds(counts: Counts, target: Decimal, burn_rate_threshold: Decimal) -> bool:
    """Whether the bad fraction is above `burn_rate_threshold × (1 - target)`."""
    if not counts.total:
        return False
    budget, threshold = _budget(target), _fraction(burn_rate_threshold)
    return (counts.bad * budget.denominator * threshold.denominator
            > threshold.numerator * budget.numerator * counts.total)


def budget_lasts(remaining: float | None, rate: float | None, window: timedelta
                 ) -> timedelta | None:
    """How long the error budget left lasts at burn rate `rate` (1.0 spends a whole budget over
    `window`): zero once spent, None when nothing burns or nothing is known."""
    if remaining is None or rate is None or rate <= 0:
        return None
    if remaining <= 0:
        return timedelta(0)
    return window * (remaining / rate)
