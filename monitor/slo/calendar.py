"""Which calendar period a window ending at T counts, on the wall clock of a time zone. Pure.

A calendar objective's budget resets at the period's start in its time zone: the 1st at 00:00
(month), Monday 00:00 (ISO week), 1 January / April / July / October 00:00 (quarter). Windows are
(start, end], as every window of the store: the period of a window ending at T is the one that
holds the instant just before T, so a window ending exactly at local midnight on the 1st is the
whole month before, and one ending a minute later is the new month's first minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.values.calendar import CalendarPeriod

_JUST_BEFORE = timedelta(microseconds=1)


@dataclass(frozen=True)
class Period:
    """One calendar period: (start, end] as aware UTC times, and the zone whose clock it follows."""

    kind: CalendarPeriod
    timezone: str
    start: datetime
    end: datetime

    @property
    def length(self) -> timedelta:
        """Its real length: 31 days in December, 31 days and 1 hour in October in Amsterdam."""
        return self.end - self.start


def period_of(kind: CalendarPeriod, end: datetime, timezone: str) -> Period:
    """The period holding a window that ends at `end` (aware): start < end <= period end."""
    zone = ZoneInfo(timezone)
    local = (end - _JUST_BEFORE).astimezone(zone).date()
    first = _first_day(kind, local)
    return Period(kind, timezone, _midnight(first, zone), _midnight(_next_first(kind, first), zone))


def _first_day(kind: CalendarPeriod, day: date) -> date:
    if kind is CalendarPeriod.WEEK:
        return day - timedelta(days=day.weekday())
    month = day.month - (day.month - 1) % kind.months
    return date(day.year, month, 1)


def _next_first(kind: CalendarPeriod, first: date) -> date:
    if kind is CalendarPeriod.WEEK:
        return first + timedelta(days=7)
    months = first.year * 12 + first.month - 1 + kind.months
    return date(months // 12, months % 12 + 1, 1)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    """00:00 of `day` in `zone`, in UTC. Where midnight is skipped (a daylight-saving change at
    00:00) the day begins at the instant the clock jumps, which fold=0 gives; where it happens
    twice, at the first."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
