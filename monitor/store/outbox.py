"""The notification table, the outbox: queue messages, claim due ones under a lease, record outcomes.

Claiming is one statement, `UPDATE notification … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`
guarded by `status`: on PostgreSQL two workers skip each other's rows, on SQLite writers take
turns. Each outcome is written only where the claim's token still stands.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, and_, func, or_, select, update

from monitor.store.dialect import dialect_insert
from monitor.store.states import NotificationState
from monitor.store.tables import NotificationRecord, core_table

NOTIFICATION = core_table(NotificationRecord)
PENDING, SENDING, SENT, FAILED = (NotificationState.PENDING.value, NotificationState.SENDING.value,
                                  NotificationState.SENT.value, NotificationState.FAILED.value)


@dataclass(frozen=True)
class ClaimedNotification:
    id: int
    destination: str
    attempts: int
    payload: dict


def queue_notifications(connection: Connection, rows: Sequence[dict[str, Any]]) -> list[str]:
    """Add notification rows; one already queued for its (group_key, destination) is kept. The
    destinations of the rows this call added (not of those another worker queued first)."""
    added = connection.execute(dialect_insert(connection)(NOTIFICATION).on_conflict_do_nothing(
        index_elements=["group_key", "destination"]).returning(NOTIFICATION.c.destination), rows)
    return list(added.scalars())


def claim_due_notifications(connection: Connection, at: datetime, worker_id: str, token: str,
                            lease: timedelta, limit: int) -> list[ClaimedNotification]:
    """Claim up to `limit` notifications due at `at` (pending, or sending with a lapsed lease)
    for `lease` under `token`; return them, oldest first."""
    n = NOTIFICATION.c
    due = or_(and_(n.status == PENDING, n.next_attempt_at <= at),
              and_(n.status == SENDING, n.claimed_until < at))
    candidates = (select(n.id).where(due).order_by(n.id).limit(limit)
                  .with_for_update(skip_locked=True))
    connection.execute(update(NOTIFICATION).where(n.id.in_(candidates.scalar_subquery()), due)
                       .values(status=SENDING, claim_token=token, claimed_by=worker_id,
                               claimed_until=at + lease, attempts=n.attempts + 1))
    rows = connection.execute(select(n.id, n.destination, n.attempts, n.payload)
                              .where(n.claim_token == token).order_by(n.id)).all()
    return [ClaimedNotification(*row) for row in rows]


def mark_sent(connection: Connection, notification_id: int, token: str, at: datetime) -> None:
    _settle(connection, notification_id, token, status=SENT, sent_at=at, last_error=None)


def mark_failed(connection: Connection, notification_id: int, token: str, error: str) -> None:
    """Failed for good: no further attempt."""
    _settle(connection, notification_id, token, status=FAILED, last_error=error,
            next_attempt_at=None)


def schedule_retry(connection: Connection, notification_id: int, token: str, error: str,
                   next_attempt_at: datetime) -> None:
    _settle(connection, notification_id, token, status=PENDING, last_error=error,
            next_attempt_at=next_attempt_at)


def _settle(connection: Connection, notification_id: int, token: str, **values: Any) -> None:
    """Release the claim with an outcome, only if `token` still holds it."""
    mine = and_(NOTIFICATION.c.id == notification_id, NOTIFICATION.c.claim_token == token)
    connection.execute(update(NOTIFICATION).where(mine).values(
        claim_token=None, claimed_until=None, **values))


def notifications_of_products(connection: Connection, products: Iterable[str],
                              created_since: datetime) -> list[Row]:
    """The notifications of `products` created at or after `created_since`, oldest first."""
    query = (select(NOTIFICATION).where(NOTIFICATION.c.product.in_(sorted(set(products))),
                                        NOTIFICATION.c.created_at >= created_since)
             .order_by(NOTIFICATION.c.id))
    return list(connection.execute(query).all())


def failed_notifications(connection: Connection, limit: int) -> list[Row]:
    """Notifications that failed for good, newest first."""
    query = (select(NOTIFICATION).where(NOTIFICATION.c.status == FAILED)
             .order_by(NOTIFICATION.c.id.desc()).limit(limit))
    return list(connection.execute(query).all())


def count_failed_notifications(connection: Connection) -> int:
    query = select(func.count()).select_from(NOTIFICATION).where(NOTIFICATION.c.status == FAILED)
    return connection.execute(query).scalar_one()


def queued_destinations(connection: Connection, group_key: str) -> set[str]:
    """The destinations that already have a notification of `group_key`, whatever its state."""
    query = select(NOTIFICATION.c.destination).where(NOTIFICATION.c.group_key == group_key)
    return set(connection.execute(query).scalars())
