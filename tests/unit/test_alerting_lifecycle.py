"""The pure parts: the alert state machine, routing rules, maintenance windows, backoff."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from monitor.alerting.lifecycle import (
    AlertStatus,
    EventKind,
    Mute,
    Notify,
    Policy,
    State,
    retry_delay,
    step,
)
from monitor.alerting.routing import consumer_hears, show_destination
from monitor.contracts.maintenance import window_at
from monitor.contracts.model import MaintenanceWindow
from tests.support.alerting import consumer

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
POLICY = Policy(hold_for=timedelta(0), repeat_interval=timedelta(hours=4),
                keep_firing_for=timedelta(0))
KEEP = Policy(repeat_interval=timedelta(hours=4), keep_firing_for=10 * MIN)
FAST = frozenset({"fast_burn"})
BOTH = frozenset({"fast_burn", "sustained_burn"})
NONE: frozenset[str] = frozenset()
FIRING = AlertStatus(State.FIRING, since=T0, last_sent_at=T0, episode=1, conditions=FAST,
                     told=True)
UNTOLD = AlertStatus(State.FIRING, since=T0, episode=1, conditions=FAST)
SILENCED, INHIBITED = Mute.SILENCED, Mute.INHIBITED

STEPS = {
    "a condition that starts to hold fires at once when `for` is 0":
        (AlertStatus(), FAST, T0, POLICY, None, State.FIRING, EventKind.FIRING, Notify.SEND),
    "a condition that starts to hold waits as pending when `for` is set":
        (AlertStatus(), FAST, T0, Policy(hold_for=5 * MIN), None,
         State.PENDING, EventKind.PENDING, None),
    "a pending alert fires once `for` has elapsed":
        (AlertStatus(State.PENDING, since=T0, episode=1), FAST, T0 + 5 * MIN,
         Policy(hold_for=5 * MIN), None, State.FIRING, EventKind.FIRING, Notify.SEND),
    "a pending alert that stops holding is cancelled without telling anyone":
        (AlertStatus(State.PENDING, since=T0, episode=1), NONE, T0 + MIN,
         Policy(hold_for=5 * MIN), None, State.INACTIVE, EventKind.CANCELLED, None),
    "a firing alert stays quiet before the repeat interval":
        (FIRING, FAST, T0 + timedelta(hours=3, minutes=59), POLICY, None,
         State.FIRING, None, None),
    "a firing alert reminds after the repeat interval":
        (FIRING, FAST, T0 + timedelta(hours=4), POLICY, None,
         State.FIRING, EventKind.REMINDER, Notify.SEND),
    "a condition joining a firing alert updates it without telling anyone":
        (FIRING, BOTH, T0 + MIN, POLICY, None, State.FIRING, EventKind.UPDATED, None),
    "a condition leaving a firing alert updates it without telling anyone":
        (replace(FIRING, conditions=BOTH), FAST, T0 + MIN, POLICY, None,
         State.FIRING, EventKind.UPDATED, None),
    "a reminder is skipped while muted":
        (FIRING, FAST, T0 + timedelta(hours=4), POLICY, SILENCED, State.FIRING, None, None),
    "a firing alert nobody heard is announced once the mute ends":
        (UNTOLD, FAST, T0 + MIN, POLICY, None, State.FIRING, EventKind.REMINDER, Notify.SEND),
    "a firing alert whose conditions clear keeps firing for keep_firing_for":
        (FIRING, NONE, T0 + MIN, KEEP, None, State.FIRING, None, None),
    "a firing alert whose conditions came back is no longer clearing":
        (replace(FIRING, clear_since=T0), FAST, T0 + 5 * MIN, KEEP, None,
         State.FIRING, None, None),
    "a firing alert resolves once clear for keep_firing_for and says so":
        (replace(FIRING, clear_since=T0 + MIN), NONE, T0 + 11 * MIN, KEEP, None,
         State.RESOLVED, EventKind.RESOLVED, Notify.SEND),
    "a firing alert that stops holding resolves at once when keep_firing_for is 0":
        (FIRING, NONE, T0 + MIN, POLICY, None, State.RESOLVED, EventKind.RESOLVED, Notify.SEND),
    "a resolution under a silence is recorded as muted":
        (FIRING, NONE, T0 + MIN, POLICY, SILENCED, State.RESOLVED, EventKind.RESOLVED,
         Notify.MUTE),
    "a resolution nobody needs to hear is only recorded":
        (UNTOLD, NONE, T0 + MIN, POLICY, None, State.RESOLVED, EventKind.RESOLVED, None),
    "with send_resolved off a resolution is only recorded":
        (FIRING, NONE, T0 + MIN, Policy(send_resolved=False, keep_firing_for=timedelta(0)), None,
         State.RESOLVED, EventKind.RESOLVED, None),
    "a firing under a silence is recorded as muted":
        (AlertStatus(State.RESOLVED, episode=1), FAST, T0, POLICY, SILENCED,
         State.FIRING, EventKind.FIRING, Notify.MUTE),
    "a ticket that fires while its page fires is inhibited":
        (AlertStatus(State.RESOLVED, episode=1), FAST, T0, POLICY, INHIBITED,
         State.FIRING, EventKind.FIRING, Notify.MUTE),
    "an inhibited ticket is not announced at once when the page ends":
        (replace(UNTOLD, last_sent_at=T0), FAST, T0 + MIN, POLICY, None,
         State.FIRING, None, None),
    "an inhibited ticket that still holds a repeat interval after the page is announced":
        (replace(UNTOLD, last_sent_at=T0), FAST, T0 + timedelta(hours=4), POLICY, None,
         State.FIRING, EventKind.REMINDER, Notify.SEND),
    "an inhibited ticket nobody heard of resolves silently":
        (replace(UNTOLD, last_sent_at=T0), NONE, T0 + MIN, POLICY, None,
         State.RESOLVED, EventKind.RESOLVED, None),
    "a resolved alert that does not hold stays resolved":
        (AlertStatus(State.RESOLVED, episode=1), NONE, T0, POLICY, None,
         State.RESOLVED, None, None),
}


@pytest.mark.parametrize("case", STEPS.values(), ids=STEPS.keys())
def test_alert_lifecycle(case):
    current, holding, at, policy, mute, state, event, notify = case
    result = step(current, holding, at, policy, mute)
    assert (result.status.state, result.event, result.notify) == (state, event, notify)


def test_a_new_breach_after_resolution_starts_a_new_episode():
    result = step(AlertStatus(State.RESOLVED, since=T0, last_sent_at=T0, episode=3), FAST,
                  T0 + timedelta(hours=1), POLICY)
    assert (result.status.episode, result.status.since) == (4, T0 + timedelta(hours=1))
    assert result.status.conditions == FAST


def test_an_inhibited_ticket_stays_due_a_repeat_interval_after_the_last_inhibited_round():
    later = T0 + timedelta(hours=5)
    result = step(replace(UNTOLD, last_sent_at=T0), FAST, later, POLICY, INHIBITED)
    assert (result.event, result.status.last_sent_at, result.status.told) == (None, later, False)


WEEKLY = MaintenanceWindow(datetime(2026, 12, 1, 2, 0, tzinfo=UTC), timedelta(hours=2),
                           timedelta(days=7))


@pytest.mark.parametrize("at, inside", [
    (datetime(2026, 12, 1, 1, 59, tzinfo=UTC), False),
    (datetime(2026, 12, 1, 2, 0, tzinfo=UTC), True),
    (datetime(2026, 12, 1, 3, 59, tzinfo=UTC), True),
    (datetime(2026, 12, 1, 4, 0, tzinfo=UTC), False),
    (datetime(2026, 12, 22, 3, 0, tzinfo=UTC), True),
    (datetime(2026, 12, 23, 3, 0, tzinfo=UTC), False),
])
def test_a_weekly_maintenance_window_repeats(at, inside):
    assert ((window_at([WEEKLY], at) or [None])[0] is WEEKLY) is inside


def test_a_one_off_maintenance_window_does_not_repeat():
    once = MaintenanceWindow(WEEKLY.start, timedelta(hours=2))
    assert window_at([once], WEEKLY.start + timedelta(hours=1))[0] is once
    assert window_at([once], WEEKLY.start + timedelta(days=7, hours=1)) is None


@pytest.mark.parametrize("terms, objective, severity, hears", [
    ({}, "a", "ticket", True),
    ({"start": date(2026, 11, 3)}, "a", "page", False),
    ({"end": date(2026, 11, 2)}, "a", "page", False),  # end is exclusive
    ({"start": date(2026, 11, 2), "end": date(2026, 11, 3)}, "a", "page", True),
    ({"objectives": ("b",)}, "a", "page", False),
    ({"min_severity": "page"}, "a", "ticket", False),
    ({"min_severity": "page"}, "a", "page", True),
    ({"min_severity": "ticket"}, "a", "ticket", True),
])
def test_who_of_the_consumers_hears_an_alert(terms, objective, severity, hears):
    assert consumer_hears(consumer("c", [], **terms), objective, severity, T0) is hears


def test_retries_back_off_exponentially_up_to_an_hour():
    first = timedelta(seconds=30)
    assert [retry_delay(n, first).total_seconds() for n in range(1, 6)] == [30, 60, 120, 240, 480]
    assert retry_delay(20, first) == timedelta(hours=1)


def test_destinations_are_shown_without_their_secrets():
    assert show_destination("apprise:slack://T000/B000/XXXX") == "apprise:slack://…"
    assert show_destination("webhook:https://bot:pw@hooks.example/x") == \
        "webhook:https://bot:***@hooks.example/x"
    assert show_destination("email:a@b.example") == "email:a@b.example"
