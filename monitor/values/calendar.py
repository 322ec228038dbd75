"""Calendar periods an objective's window can follow (`window: month`): the words, defined once.

A calendar window resets at the start of each period on the wall clock of a time zone; its
nominal length (a month is 30 days) is what its burn-rate windows are scaled from. Which period
holds a time is computed in `monitor/slo/calendar.py`.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum


class CalendarPeriod(StrEnum):
    WEEK = "week"  # ISO week: Monday 00:00 local
    MONTH = "month"  # the 1st, 00:00 local
    QUARTER = "quarter"  # 1 January, April, July, October, 00:00 local

    @property
    def nominal(self) -> timedelta:
        """The fixed length that stands for the period where one is needed (alert windows are
        scaled from it): a month is 30 days, as a rolling `30d` window."""
        return NOMINAL_LENGTHS[self]

    @property
    def months(self) -> int:
        """How many calendar months the period spans (0: a week)."""
        return {CalendarPeriod.WEEK: 0, CalendarPeriod.MONTH: 1, CalendarPeriod.QUARTER: 3}[self]


NOMINAL_LENGTHS = {CalendarPeriod.WEEK: timedelta(days=7), CalendarPeriod.MONTH: timedelta(days=30),
                   CalendarPeriod.QUARTER: timedelta(days=90)}
PERIOD_OF_MONTHS = {1: CalendarPeriod.MONTH, 3: CalendarPeriod.QUARTER}  # `1M`, `P3M`, …
