"""The words of the alert tables, defined once: an alert's state, the kinds of events in its
history, where a notification of the outbox is. The alert lifecycle (monitor.alerting.lifecycle)
moves between them; the dashboard, the CLI and the store's queries read them."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


ACTIVE_STATES = (State.PENDING, State.FIRING)


class EventKind(StrEnum):
    PENDING = "pending"
    FIRING = "firing"
    UPDATED = "updated"  # a condition joined or left a firing alert; nobody is told
    REMINDER = "reminder"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"  # pending, then stopped holding before `for` elapsed


class NotificationState(StrEnum):
    """Where one notification of the outbox is."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    MUTED = "muted"
