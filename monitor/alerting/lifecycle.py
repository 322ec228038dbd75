"""The alert state machine, pure: the stored status + the conditions that hold now → the next.

An alert is one objective at one severity: each objective has at most one page alert and one
ticket alert, and each lists the conditions that hold inside it.

    inactive/resolved ──holds──▶ pending ──holds for `for`──▶ firing ──clear for keep_firing_for──▶
                        (`for` = 0: straight to firing)   │       resolved
                                                          │ conditions join or leave: updated
                        pending ──stops holding──▶ inactive (cancelled, nobody is told)
                                                          └──still holding after repeat_interval──▶
                                                             reminder (firing again, same episode)

A firing alert resolves only after none of its conditions has held for `keep_firing_for`, so a
condition that blinks off for one evaluation does not end the incident.

A step that notifies says `send` or `mute`. `Mute.SILENCED` (a silence or maintenance window)
keeps the transition and records the notification as muted; once the mute ends, whoever was not
told of a firing alert gets a reminder at once. `Mute.INHIBITED` (the objective's page alert is
firing, so its ticket alert is part of that incident) is the same, except that the page counts
as having said it: no reminder at once when the page ends, one after `repeat_interval` if the
ticket still holds. A reminder is never muted (it is skipped while muted). A resolution is only
announced to people who were told that the alert fired.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from monitor.store.states import ACTIVE_STATES, EventKind, NotificationState, State

__all__ = ["ACTIVE_STATES", "AlertStatus", "EventKind", "Mute", "NotificationState", "Notify",
           "Policy", "State", "Step", "retry_delay", "step"]


class Notify(StrEnum):
    SEND = "send"
    MUTE = "mute"


class Mute(StrEnum):
    SILENCED = "silenced"  # a silence or a maintenance window
    INHIBITED = "inhibited"  # a ticket while its objective's page alert fires


@dataclass(frozen=True)
class AlertStatus:
    state: State = State.INACTIVE
    since: datetime | None = None  # when the alert started to hold (pending or firing)
    last_sent_at: datetime | None = None  # when a reminder is next due from, this episode
    episode: int = 0  # one episode per pending/firing → resolved cycle
    conditions: frozenset[str] = frozenset()  # the conditions that hold inside the alert
    clear_since: datetime | None = None  # firing, but no condition holds since then
    told: bool = False  # someone was told that this episode fired


@dataclass(frozen=True)
class Policy:
    hold_for: timedelta = timedelta(0)
    repeat_interval: timedelta = timedelta(hours=4)
    send_resolved: bool = True
    keep_firing_for: timedelta = timedelta(minutes=10)


@dataclass(frozen=True)
class Step:
    status: AlertStatus
    event: EventKind | None = None
    notify: Notify | None = None


def step(current: AlertStatus, holding: frozenset[str], at: datetime, policy: Policy,
         mute: Mute | None = None) -> Step:
    """The next status of one alert at `at`, the event to record and whether to notify."""
    state = current.state
    if state in (State.INACTIVE, State.RESOLVED):
        if not holding:
            return Step(current)
        started = AlertStatus(State.PENDING, since=at, episode=current.episode + 1,
                              conditions=holding)
        if policy.hold_for > timedelta(0):
            return Step(started, EventKind.PENDING)
        return _fire(started, at, mute)
    if state is State.PENDING:
        if not holding:
            return Step(replace(current, state=State.INACTIVE), EventKind.CANCELLED)
        current = replace(current, conditions=holding)
        if current.since is None or at - current.since >= policy.hold_for:
            return _fire(current, at, mute)
        return Step(current)
    if not holding:
        clear_since = current.clear_since or at
        if at - clear_since < policy.keep_firing_for:
            return Step(replace(current, clear_since=clear_since))
        resolved = replace(current, state=State.RESOLVED, clear_since=None)
        if not (policy.send_resolved and current.told):
            return Step(resolved, EventKind.RESOLVED)
        return Step(resolved, EventKind.RESOLVED, Notify.MUTE if mute else Notify.SEND)
    firing = replace(current, conditions=holding, clear_since=None)
    if mute is Mute.INHIBITED:
        return Step(replace(firing, last_sent_at=at),  # the page speaks for it meanwhile
                    EventKind.UPDATED if holding != current.conditions else None)
    due = current.last_sent_at is None or at - current.last_sent_at >= policy.repeat_interval
    if due and mute is None:
        return Step(replace(firing, last_sent_at=at, told=True), EventKind.REMINDER, Notify.SEND)
    if holding != current.conditions:
        return Step(firing, EventKind.UPDATED)
    return Step(firing)


def _fire(current: AlertStatus, at: datetime, mute: Mute | None) -> Step:
    told = mute is None
    last_sent_at = None if mute is Mute.SILENCED else at
    firing = replace(current, state=State.FIRING, last_sent_at=last_sent_at, told=told)
    return Step(firing, EventKind.FIRING, Notify.MUTE if mute else Notify.SEND)


def retry_delay(attempts: int, first: timedelta, ceiling: timedelta = timedelta(hours=1)
                ) -> timedelta:
    """Exponential backoff: `first` after the first failed attempt, doubled each time, capped."""
    return min(first * (2 ** max(0, attempts - 1)), ceiling)
