"""Maintenance windows: when each occurrence starts and ends, and how to say so. Pure: no I/O,
no clock.

The one home of maintenance windows: alert muting (`window_at`), reports and evaluation
(`maintenance_spans`) and the dashboard (`describe`) all read them from here.

Recurrence runs on the wall clock of the window's `timezone` (zoneinfo):
- no `every`, no `rrule`: one occurrence, at `start`;
- `every` a whole number of days (`1d`, `7d`): every N calendar days at the local time of the
  start, so 02:00 Europe/Amsterdam stays 02:00 local across daylight-saving changes (the UTC
  instant moves by the hour instead);
- `every` not whole days (`12h`, `90m`): fixed elapsed time from the start, in every zone;
- `rrule` (RFC 5545, e.g. `FREQ=WEEKLY;BYDAY=SU`): the rule's occurrences (python-dateutil) with
  DTSTART the local start; the start is an occurrence only when the rule gives it.
Each occurrence lasts `duration` of elapsed time: a 2h window across a change is 2h long.

The first occurrence is `start` itself (a naive `start` is wall time in `timezone`). A later local
time that does not exist (the hour skipped in spring) or exists twice (the hour repeated in
autumn) is read with zoneinfo's `fold=0`: the UTC offset in force before the change. In
Europe/Amsterdam, 02:30 on the spring-forward day is 01:30 UTC (03:30 summer time) and 02:30 on
the fall-back day is the first 02:30 (summer time, 00:30 UTC).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rrulestr

from monitor.contracts.model import MaintenanceWindow
from monitor.values.durations import format_duration

__all__ = ["describe", "maintenance_spans", "occurrences", "window_at"]

Occurrence = tuple[datetime, datetime]
DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)
_EXAMPLE_RULE = "FREQ=WEEKLY;BYDAY=SU"


def occurrences(window: MaintenanceWindow, start: datetime, end: datetime) -> list[Occurrence]:
    """Every occurrence [s, e) of `window` that overlaps [start, end), not clipped, sorted, UTC."""
    start, end = _utc(start, "start"), _utc(end, "end")
    if end <= start:
        return []
    found = {(s, s + window.duration) for s in _starts(window, start - window.duration, end)}
    return sorted((s, e) for s, e in found if s < end and e > start)


def maintenance_spans(windows: Iterable[MaintenanceWindow], start: datetime, end: datetime
                      ) -> list[Occurrence]:
    """All occurrences of all `windows` cut to [start, end), overlapping or touching ones joined."""
    start, end = _utc(start, "start"), _utc(end, "end")
    cut = sorted((max(s, start), min(e, end)) for window in windows
                 for s, e in occurrences(window, start, end))
    merged: list[Occurrence] = []
    for s, e in cut:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        elif e > s:
            merged.append((s, e))
    return merged


def window_at(windows: Iterable[MaintenanceWindow], at: datetime
              ) -> tuple[MaintenanceWindow, datetime, datetime] | None:
    """The window in progress at `at` (s <= at < e) with that occurrence's start and end: the
    first such window in the order given, its earliest occurrence; None when none is."""
    at = _utc(at, "at")
    for window in windows:
        for s, e in occurrences(window, at, at + _TICK):
            if s <= at < e:
                return window, s, e
    return None


def describe(window: MaintenanceWindow) -> str:
    """For people: `maintenance 2026-12-06 02:00–04:00 Europe/Amsterdam, every week on Sundays
    at 02:00`."""
    local = _local_start(window)
    end = (local.astimezone(UTC) + window.duration).astimezone(local.tzinfo)
    if window.duration < DAY and end.date() == local.date():
        when = f"{local:%Y-%m-%d %H:%M}–{end:%H:%M} {window.timezone}"
    else:
        when = f"{local:%Y-%m-%d %H:%M} {window.timezone} for {format_duration(window.duration)}"
    recurrence = _recurrence_phrase(window, local)
    return f"maintenance {when}" + (f", {recurrence}" if recurrence else "")


# --- validation, shared with the contract spec so that what validates also computes ----------


def zone_named(name: str) -> ZoneInfo:
    """The IANA time zone `name`; ValueError with an example when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (e.g. UTC, Europe/Amsterdam)") from None


def rule_of(text: str, dtstart: datetime) -> rrule:
    """The RFC 5545 RRULE `text` (`FREQ=WEEKLY;BYDAY=SU`, an `RRULE:` prefix allowed) starting at
    `dtstart`; ValueError saying what is wrong."""
    body = _rule_body(text)
    if not body or "\n" in body or "DTSTART" in body.upper():
        raise ValueError(f"give one RRULE, without DTSTART (e.g. {_EXAMPLE_RULE}); the window's "
                         "start is its DTSTART")
    try:
        rule = rrulestr(body, dtstart=dtstart, cache=True)
    except (ValueError, KeyError, TypeError, IndexError) as error:
        reason = str(error) if str(error).startswith(("invalid", "RRULE", "unknown")) else (
            "parts are NAME=VALUE, separated by ';'")
        raise ValueError(f"not a recurrence rule {text!r}: {reason} "
                         f"(write an RFC 5545 RRULE, e.g. {_EXAMPLE_RULE})") from None
    if not isinstance(rule, rrule):
        raise ValueError(f"give one RRULE (e.g. {_EXAMPLE_RULE})")
    return rule


# --- computing starts ---------------------------------------------------------------------------


def _starts(window: MaintenanceWindow, after: datetime, before: datetime) -> Iterator[datetime]:
    """The UTC starts of `window` in (after, before), possibly with a few around them."""
    local = _local_start(window)
    first = local.astimezone(UTC)
    if window.rrule:
        rule = _cached_rule(window.rrule, local.replace(tzinfo=None), window.timezone)
        yield from (s.astimezone(UTC) for s in rule.between(after, before))
    elif window.every is None:
        yield first
    elif window.every <= timedelta(0):
        raise ValueError(f"every must be positive, not {window.every}")
    elif window.every % DAY:  # fixed elapsed time: jump straight to the first start after `after`
        s = first + max(0, (after - first) // window.every + 1) * window.every
        while s < before:
            yield s
            s += window.every
    else:  # calendar days: jump near, two steps early since an offset change can move a start
        wall, zone = local.replace(tzinfo=None, fold=0), local.tzinfo
        step = max(0, (after - first) // window.every - 2)
        while (s := first if step == 0 else
               (wall + step * window.every).replace(tzinfo=zone).astimezone(UTC)) < before:
            yield s
            step += 1


@lru_cache(maxsize=256)
def _cached_rule(text: str, wall: datetime, zone: str) -> rrule:
    """Keyed by wall time and zone: aware datetimes of one instant in two zones compare equal."""
    return rule_of(text, wall.replace(tzinfo=zone_named(zone)))  # cached: window_at runs often


def _local_start(window: MaintenanceWindow) -> datetime:
    zone = zone_named(window.timezone)
    start = window.start
    return start.replace(tzinfo=zone) if start.tzinfo is None else start.astimezone(zone)


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")
    return value.astimezone(UTC)


# --- describing recurrence ----------------------------------------------------------------------

_WEEKDAYS = {"MO": "Monday", "TU": "Tuesday", "WE": "Wednesday", "TH": "Thursday", "FR": "Friday",
             "SA": "Saturday", "SU": "Sunday"}
_DAY_NAMES = tuple(_WEEKDAYS.values())  # by datetime.weekday(), not the locale's %A
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}
_PERIODS = {"YEARLY": "year", "MONTHLY": "month", "WEEKLY": "week", "DAILY": "day",
            "HOURLY": "hour", "MINUTELY": "minute", "SECONDLY": "second"}
_PLAIN_PARTS = {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "COUNT", "UNTIL", "WKST"}


def _recurrence_phrase(window: MaintenanceWindow, local: datetime) -> str:
    if window.rrule:
        return _rule_phrase(window.rrule, local)
    if window.every is None:
        return ""
    if window.every % DAY:
        return f"every {format_duration(window.every)}"
    days = window.every // DAY
    if days % 7:
        return f"{_every(days, 'day')} at {local:%H:%M}"
    return f"{_every(days // 7, 'week')} on {_DAY_NAMES[local.weekday()]}s at {local:%H:%M}"


def _rule_phrase(text: str, local: datetime) -> str:
    """`FREQ=MONTHLY;BYDAY=1SU` → `every month on the first Sunday at 02:00`; a rule with parts
    beyond these is shown as written."""
    parts = dict(part.partition("=")[::2] for part in _rule_body(text).upper().split(";") if part)
    if parts.keys() - _PLAIN_PARTS or parts.get("FREQ") not in _PERIODS:
        return f"repeating by the rule {_rule_body(text)}"
    freq, interval = parts["FREQ"], int(parts.get("INTERVAL") or 1)
    days = [_weekday(day) for day in parts.get("BYDAY", "").split(",") if day]
    month_days = [("the last day" if day == "-1" else f"day {day}")
                  for day in parts.get("BYMONTHDAY", "").split(",") if day]
    months = [_MONTHS[int(month) - 1] for month in parts.get("BYMONTH", "").split(",") if month]
    on = days + month_days
    if not on and freq == "WEEKLY":
        on = [f"{_DAY_NAMES[local.weekday()]}s"]
    elif not on and freq in ("MONTHLY", "YEARLY"):
        on = [f"day {local.day}"]
    if not months and freq == "YEARLY" and not parts.keys() & {"BYDAY", "BYMONTHDAY"}:
        months = [_MONTHS[local.month - 1]]
    phrase = _every(interval, _PERIODS[freq])
    phrase += f" on {' and '.join(on)}" if on else ""
    phrase += f" in {' and '.join(months)}" if months else ""
    phrase += f" at {local:%H:%M}" if freq in ("YEARLY", "MONTHLY", "WEEKLY", "DAILY") else ""
    if "COUNT" in parts:
        phrase += f", {parts['COUNT']} times"
    if "UNTIL" in parts:
        until = parts["UNTIL"]
        phrase += f", until {until[:4]}-{until[4:6]}-{until[6:8]}"
    return phrase


def _weekday(text: str) -> str:
    ordinal, name = text[:-2], _WEEKDAYS.get(text[-2:], text[-2:])
    if not ordinal:
        return f"{name}s"
    return f"the {_ORDINALS.get(int(ordinal), ordinal)} {name}"


def _every(count: int, unit: str) -> str:
    return f"every {unit}" if count == 1 else f"every {count} {unit}s"


def _rule_body(text: str) -> str:
    body = text.strip()
    return body[len("RRULE:"):] if body.upper().startswith("RRULE:") else body
