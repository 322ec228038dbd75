"""Minute, hour and day buckets, and how a window (a, T] splits into them. Pure arithmetic.

A bucket is named by its end: minute bucket m holds the events with timestamps in
(m - 1 min, m]; hour bucket h holds minute buckets (60·(h-1), 60·h]; day bucket d holds hour
buckets (24·(d-1), 24·d] (UTC days). For minute-aligned a and T, an event at t lies in (a, T]
exactly when its minute bucket does, so sums over buckets are exact.

An hour bucket also records which of its minutes held a bad event (`bad_mask`, bit i for the
minute 60·(h-1) + 1 + i) and which held any (`seen_mask`), so downtime minutes — bad on any port
of a product, counted once — and measured minutes are read exactly from hours once their minutes
are pruned.

Once a tier is pruned (retention), the minutes (or hours) before its horizon are gone: a window
reaching further back starts at the hour (or the day) before its start, so its sum is what the
coarser tier holds, never a part of a bucket.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE_US = 60_000_000
MINUTES_PER_HOUR = 60
HOURS_PER_DAY = 24
MINUTES_PER_DAY = MINUTES_PER_HOUR * HOURS_PER_DAY
_MICROSECOND = timedelta(microseconds=1)


class Tier(StrEnum):
    """The sizes of the store's count buckets, finest first."""

    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"


TIER_MINUTES = {Tier.MINUTE: 1, Tier.HOUR: MINUTES_PER_HOUR, Tier.DAY: MINUTES_PER_DAY}


def minute_bucket(at: datetime) -> int:
    """The minute bucket of an event at `at`: ceil(epoch minutes)."""
    microseconds = (at - EPOCH) // _MICROSECOND
    return -(-microseconds // MINUTE_US)


def hour_bucket(minute: int) -> int:
    return -(-minute // MINUTES_PER_HOUR)


def day_bucket(hour: int) -> int:
    return -(-hour // HOURS_PER_DAY)


def minute_bit(minute: int) -> int:
    """The bit of minute bucket `minute` in its hour's `bad_mask`."""
    return 1 << ((minute - 1) % MINUTES_PER_HOUR)


def floor_minute(at: datetime) -> int:
    """The last whole minute at or before `at`, in epoch minutes (evaluation resolution)."""
    return ((at - EPOCH) // _MICROSECOND) // MINUTE_US


def minute_time(minute: int) -> datetime:
    return EPOCH + timedelta(minutes=minute)


@dataclass(frozen=True)
class Span:
    """Buckets `first..last` (inclusive) of one size (a Tier: 'minute', 'hour' or 'day')."""

    size: str
    first: int
    last: int


def split_window(start_minute: int, end_minute: int, minutes_from: int | None = None,
                 hours_from: int | None = None) -> list[Span]:
    """The buckets that sum to the window (start, end], both in epoch minutes: whole days where
    they fit, hours at their edges, minutes at the hours' edges.

    `minutes_from` / `hours_from`: the oldest minute (hour) bucket each tier still holds (None:
    all). A start whose minutes are pruned moves back to its hour's start (one whose hours are
    pruned to its day's start), an end whose minutes are pruned on to its hour's end (day's end):
    the window reads only buckets that are kept, whole."""
    if end_minute <= start_minute:
        return []
    start = aligned_start(start_minute, minutes_from, hours_from)
    end = aligned_end(end_minute, minutes_from, hours_from)
    first_day = -(-(start + MINUTES_PER_DAY) // MINUTES_PER_DAY)
    last_day = end // MINUTES_PER_DAY
    if first_day > last_day:
        return split_hours(start, end)
    return [*split_hours(start, (first_day - 1) * MINUTES_PER_DAY),
            Span(Tier.DAY, first_day, last_day),
            *split_hours(last_day * MINUTES_PER_DAY, end)]


def aligned_start(start_minute: int, minutes_from: int | None = None,
                  hours_from: int | None = None) -> int:
    """Where a window starting at `start_minute` starts in the tiers still kept (see
    `split_window`)."""
    start = start_minute
    if minutes_from is not None and start + 1 < minutes_from:
        start -= start % MINUTES_PER_HOUR
    if hours_from is not None and hour_bucket(start + 1) < hours_from:
        start -= start % MINUTES_PER_DAY
    return start


def aligned_end(end_minute: int, minutes_from: int | None = None,
                hours_from: int | None = None) -> int:
    """Where a window ending at `end_minute` ends in the tiers still kept (see `split_window`)."""
    end = end_minute
    if minutes_from is not None and end < minutes_from:
        end += -end % MINUTES_PER_HOUR
    if hours_from is not None and hour_bucket(end) < hours_from:
        end += -end % MINUTES_PER_DAY
    return end


def split_hours(start_minute: int, end_minute: int) -> list[Span]:
    """`split_window` without days: whole hours, minutes at their edges."""
    if end_minute <= start_minute:
        return []
    first_hour = -(-(start_minute + MINUTES_PER_HOUR) // MINUTES_PER_HOUR)
    last_hour = end_minute // MINUTES_PER_HOUR
    if first_hour > last_hour:
        return [Span(Tier.MINUTE, start_minute + 1, end_minute)]
    spans = [Span(Tier.HOUR, first_hour, last_hour)]
    if start_minute + 1 <= (first_hour - 1) * MINUTES_PER_HOUR:
        spans.append(Span(Tier.MINUTE, start_minute + 1, (first_hour - 1) * MINUTES_PER_HOUR))
    if last_hour * MINUTES_PER_HOUR + 1 <= end_minute:
        spans.append(Span(Tier.MINUTE, last_hour * MINUTES_PER_HOUR + 1, end_minute))
    return spans
