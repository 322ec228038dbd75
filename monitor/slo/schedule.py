"""Freshness against a delivery schedule: when is data late? Pure: the time is an argument.

A schedule's fire times (crontab, on the wall clock of the objective's `timezone`, else the
settings' `timezone`) are **deadlines** by which a new delivery must have landed. At time T:

- the deadline that counts is D, the latest fire time ≤ T;
- the data is **on time** when its age at D — D − newest_data_at, never below zero — is at
  most the objective's threshold, i.e. newest_data_at ≥ D − threshold; **late** otherwise;
- between deadlines nothing new is expected: a product delivered daily by 06:00 is judged on
  the 06:00 delivery until the next 06:00, and is not stale at 23:00; a weekday schedule is not
  judged on Saturday's or Sunday's clock, Monday 06:00 is the first deadline after Friday's;
- before the schedule's first deadline (none in the last `LOOKBACK`), nothing is due: on time.

The threshold is the delivery's **tolerance** — how old the newest data may be at the deadline —
rather than "anything since the previous deadline": it is the freshness promise the objective
already makes (max age), now taken at the deadline instead of at T; a late delivery (06:30
yesterday) never passes for the next one (today 06:00: 23 h 30 old); a weekday schedule with a
1 d threshold wants Monday's delivery after Sunday 06:00, not Friday's; and data timestamps that
trail the landing (a business date, an extract's max(updated_at)) get the room they need.

Daylight saving, as APScheduler's cron trigger and the maintenance windows do it: a wall time
that is skipped (02:30 on the spring night) falls at the instant the same wall time has in the
offset before the change (one hour later on the new clock); a wall time that happens twice
(02:30 on the autumn night) is one deadline, the first.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger

from monitor.contracts.schedule import Schedule, cron_trigger

LOOKBACK = timedelta(days=8 * 366)  # 29 February comes at least once in eight years
RESOLUTION = timedelta(minutes=1)  # cron's
_FIRST_STEP = RESOLUTION
_AFTER = timedelta(seconds=1)  # cron has whole minutes; APScheduler rounds `now` up to a second


@lru_cache(maxsize=4096)  # a round asks once per schedule and zone, however many objectives
def latest_deadline(schedule: Schedule, at: datetime, timezone: str) -> datetime | None:
    """The latest deadline ≤ `at` (aware), as an aware UTC time; None when there is none in the
    `LOOKBACK` before `at`."""
    trigger = cron_trigger(schedule.cron, timezone)
    step = _FIRST_STEP
    while step <= 2 * LOOKBACK:  # back in doubling steps to the first span holding a fire
        latest = max(_fires(trigger, at - step, at), default=None)
        if latest is not None:
            return _first_of_wall_time(latest, ZoneInfo(timezone))
        step *= 2
    return None


def _fires(trigger: BaseTrigger, start: datetime, end: datetime) -> Iterator[datetime]:
    """The trigger's fire times in [start, end], in UTC and strictly rising. APScheduler 3 may
    answer a time before the one asked from on the night a wall time repeats (02:30 the second
    time, again and again): then the search moves on a minute, cron's resolution."""
    cursor, last = start, None
    while cursor <= end:
        fire = trigger.get_next_fire_time(None, cursor)
        if fire is None or (fire := fire.astimezone(UTC)) > end:
            return
        if last is None or fire > last:
            yield fire
            last, cursor = fire, fire + _AFTER
        else:
            cursor = max(cursor, last) + RESOLUTION


def age_at_deadline(newest_data_at: datetime, deadline: datetime | None) -> timedelta:
    """How old the newest data was at the deadline; zero when it landed after it or when no
    deadline has passed (nothing was due)."""
    if deadline is None:
        return timedelta(0)
    return max(timedelta(0), deadline - newest_data_at)


def on_time(newest_data_at: datetime, at: datetime, threshold: timedelta, schedule: Schedule,
            timezone: str) -> bool:
    """The delivery due by the latest deadline ≤ `at` has landed: its age then ≤ `threshold`."""
    return age_at_deadline(newest_data_at, latest_deadline(schedule, at, timezone)) <= threshold


def _first_of_wall_time(fire: datetime, zone: ZoneInfo) -> datetime:
    """`fire`, or the first instant of its wall time when that happens twice (the autumn night):
    one wall time is one deadline."""
    wall = fire.astimezone(zone).replace(tzinfo=None)
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    return min(first, fire.astimezone(UTC))
