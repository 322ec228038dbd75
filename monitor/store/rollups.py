"""Per-minute and per-hour buckets, and how a window (a, T] splits into them. Pure arithmetic.

A bucket is named by its end: minute bucket m holds the events with timestamps in
(m - 1 min, m]; hour bucket h holds minute buckets (60·(h-1), 60·h]. For minute-aligned a and T,
an event at t lies in (a, T] exactly when its minute bucket does, so sums over buckets are exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE_US = 60_000_000
MINUTES_PER_HOUR = 60
_MICROSECOND = timedelta(microseconds=1)


def minute_bucket(at: datetime) -> int:
    """The minute bucket of an event at `at`: ceil(epoch minutes)."""
    microseconds = (at - EPOCH) // _MICROSECOND
    return -(-microseconds // MINUTE_US)


def hour_bucket(minute: int) -> int:
    return -(-minute // MINUTES_PER_HOUR)


def floor_minute(at: datetime) -> int:
    """The last whole minute at or before `at`, in epoch minutes (evaluation resolution)."""
    return ((at - EPOCH) // _MICROSECOND) // MINUTE_US


def minute_time(minute: int) -> datetime:
    return EPOCH + timedelta(minutes=minute)


@dataclass(frozen=True)
class Span:
    """Buckets `first..last` (inclusive) of one size ('minute' or 'hour')."""

    size: str
    first: int
    last: int


def split_window(start_minute: int, end_minute: int) -> list[Span]:
    """The buckets that sum to the window (start, end], both in epoch minutes: whole hours where
    they fit, minutes at the edges."""
    if end_minute <= start_minute:
        return []
    first_hour = -(-(start_minute + MINUTES_PER_HOUR) // MINUTES_PER_HOUR)
    last_hour = end_minute // MINUTES_PER_HOUR
    if first_hour > last_hour:
        return [Span("minute", start_minute + 1, end_minute)]
    spans = [Span("hour", first_hour, last_hour)]
    if start_minute + 1 <= (first_hour - 1) * MINUTES_PER_HOUR:
        spans.append(Span("minute", start_minute + 1, (first_hour - 1) * MINUTES_PER_HOUR))
    if last_hour * MINUTES_PER_HOUR + 1 <= end_minute:
        spans.append(Span("minute", last_hour * MINUTES_PER_HOUR + 1, end_minute))
    return spans
