"""A delivery schedule: a crontab expression whose fire times are the deadlines by which a new
delivery must have landed. Read and checked here, for every contract format; the deadline
arithmetic is `monitor.slo.schedule`.

Read with APScheduler's cron trigger (already the daemon's scheduler), in crontab's meaning:
- the day of week is crontab's (0 or 7 Sunday, 1 Monday … 6 Saturday, or `mon`–`sun`):
  APScheduler's own numbers start at Monday, so the field is rewritten as day names first;
- a day of month *and* a day of week, both restricted, fire on either (crontab's rule, where
  APScheduler alone would need both);
- `@hourly`, `@daily` (`@midnight`), `@weekly`, `@monthly`, `@yearly` (`@annually`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

MACROS = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
          "@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *",
          "@annually": "0 0 1 1 *"}
DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_PROBE_FROM = datetime(2000, 1, 1, tzinfo=UTC)  # a schedule must fire at least once after this


@dataclass(frozen=True)
class Schedule:
    """Deadlines on the wall clock of a time zone (the objective's, else the settings')."""

    cron: str  # five crontab fields, as written (a macro kept as written)

    def __str__(self) -> str:
        return self.cron


def parse_schedule(text: object) -> Schedule:
    """A Schedule from crontab text, or ValueError saying what is wrong with it."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("a schedule is a cron expression of five fields, e.g. '0 6 * * 1-5' "
                         "(06:00 on weekdays)")
    cron = " ".join(text.split())
    trigger = cron_trigger(cron, "UTC")
    if trigger.get_next_fire_time(None, _PROBE_FROM) is None:
        raise ValueError(f"schedule {cron!r} never fires")
    return Schedule(cron)


@lru_cache(maxsize=1024)
def cron_trigger(cron: str, timezone: str) -> BaseTrigger:
    """The APScheduler trigger firing at `cron`'s times on `timezone`'s clock; ValueError when
    the expression cannot be read. Cached: evaluation asks for the same few on every round."""
    fields = MACROS.get(cron.lower(), cron).split()
    if len(fields) != 5:
        raise ValueError(f"schedule {cron!r} has {len(fields)} field(s); a cron expression has "
                         "five: minute hour day-of-month month day-of-week (e.g. '0 6 * * 1-5')")
    minute, hour, day, month, weekday = fields
    zone = ZoneInfo(timezone)
    try:
        weekday = _weekday_names(weekday)
    except ValueError as error:
        raise ValueError(f"schedule {cron!r}: {error}") from None

    def trigger(day: str, weekday: str) -> CronTrigger:
        try:
            return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                               day_of_week=weekday, timezone=zone)
        except ValueError as error:
            raise ValueError(f"schedule {cron!r}: {error}") from None

    if day != "*" and weekday != "*":  # crontab fires on either; APScheduler would need both
        return OrTrigger([trigger(day, "*"), trigger("*", weekday)])
    return trigger(day, weekday)


def _weekday_names(field: str) -> str:
    """Crontab's day-of-week field as APScheduler day names: `1-5` → `mon,tue,wed,thu,fri`,
    `*/2` → `sun,tue,thu,sat`, `7` and `0` → `sun`."""
    if field == "*":
        return field
    days: set[int] = set()
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        step = _number(step_text, field) if step_text else 1
        if step < 1:
            raise ValueError(f"day of week {field!r}: a step is at least 1")
        if span == "*":
            first, last = 0, 6
        else:
            low, _, high = span.partition("-")
            first = _day(low, field)
            last = _day(high, field) if high else (first if not step_text else 6)
            if high and _day(high, field) == 7:
                last = 7
        if first > last:
            raise ValueError(f"day of week {field!r}: a range runs from the lower day up "
                             "(0 or sun … 6 or sat, 7 is sunday again)")
        days.update(d % 7 for d in range(first, last + 1, step))
    return ",".join(DAY_NAMES[d] for d in sorted(days))


def _day(text: str, field: str) -> int:
    name = text.strip().lower()[:3]
    if name in DAY_NAMES:
        return DAY_NAMES.index(name)
    day = _number(text, field)
    if not 0 <= day <= 7:
        raise ValueError(f"day of week {field!r}: {text} is not a day (0–7 or sun–sat)")
    return day


def _number(text: str, field: str) -> int:
    if not text.strip().isdigit():
        raise ValueError(f"day of week {field!r}: {text!r} is not a day (0–7 or sun–sat)")
    return int(text)
