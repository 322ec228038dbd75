"""The alert state machine, pure: the stored status + whether the condition holds now → the next.

    inactive/resolved ──holds──▶ pending ──holds for `for`──▶ firing ──stops holding──▶ resolved
                        (`for` = 0: straight to firing)   │                 ▲
                        pending ──stops holding──▶ inactive (cancelled, nobody is told)
                                                          └──still holding after repeat_interval──▶
                                                             reminder (firing again, same episode)

A step that notifies says `send` or, when a silence or maintenance window covers the alert,
`mute`: the transition is kept and the notification recorded as muted. A reminder is never
muted (it is skipped while muted); once the mute ends, whoever was not told of a firing alert
gets a reminder at once. A resolution is only announced to people who heard it fire.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum


class State(StrEnum):
    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


class EventKind(StrEnum):
    PENDING = "pending"
    FIRING = "firing"
    REMINDER = "reminder"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"  # pending, then stopped holding before `for` elapsed


class Notify(StrEnum):
    SEND = "send"
    MUTE = "mute"


@dataclass(frozen=True)
class AlertStatus:
    state: State = State.INACTIVE
    since: datetime | None = None  # when the condition started to hold (pending or firing)
    last_sent_at: datetime | None = None  # last notification that was not muted, this episode
    episode: int = 0  # one episode per pending/firing → resolved cycle


@dataclass(frozen=True)
class Policy:
    hold_for: timedelta = timedelta(0)
    repeat_interval: timedelta = timedelta(hours=4)
    send_resolved: bool = True


@dataclass(frozen=True)
class Step:
    status: AlertStatus
    event: EventKind | None = None
    notify: Notify | None = None


def step(current: AlertStatus, holds: bool, at: datetime, policy: Policy, muted: bool) -> Step:
    """The next status of one alert at `at`, the event to record and whether to notify."""
    state = current.state
    if state in (State.INACTIVE, State.RESOLVED):
        if not holds:
            return Step(current)
        started = AlertStatus(State.PENDING, since=at, episode=current.episode + 1)
        if policy.hold_for > timedelta(0):
            return Step(started, EventKind.PENDING)
        return _fire(started, at, muted)
    if state is State.PENDING:
        if not holds:
            return Step(replace(current, state=State.INACTIVE), EventKind.CANCELLED)
        if current.since is None or at - current.since >= policy.hold_for:
            return _fire(current, at, muted)
        return Step(current)
    if not holds:
        resolved = replace(current, state=State.RESOLVED)
        told = current.last_sent_at is not None
        if not (policy.send_resolved and told):
            return Step(resolved, EventKind.RESOLVED)
        return Step(resolved, EventKind.RESOLVED, Notify.MUTE if muted else Notify.SEND)
    due = current.last_sent_at is None or at - current.last_sent_at >= policy.repeat_interval
    if due and not muted:
        return Step(replace(current, last_sent_at=at), EventKind.REMINDER, Notify.SEND)
    return Step(current)


def _fire(current: AlertStatus, at: datetime, muted: bool) -> Step:
    firing = replace(current, state=State.FIRING, last_sent_at=None if muted else at)
    return Step(firing, EventKind.FIRING, Notify.MUTE if muted else Notify.SEND)


def retry_delay(attempts: int, first: timedelta, ceiling: timedelta = timedelta(hours=1)
                ) -> timedelta:
    """Exponential backoff: `first` after the first failed attempt, doubled each time, capped."""
    return min(first * (2 ** max(0, attempts - 1)), ceiling)
