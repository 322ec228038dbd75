"""Deliver the outbox: claim due notifications, send them, record each attempt's outcome.

Claiming is one statement, `UPDATE notification … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`
guarded by `status`: on PostgreSQL two workers skip each other's rows, on SQLite writers take
turns. A claim is a lease (`claimed_until`): the rows of a worker that died mid-send become due
again when it runs out. A notification is sent after its claim is committed and marked sent
right after; only a crash between those two can repeat it, and the `delivery_id` (webhook header
`X-Meshwatch-Delivery`) lets a receiver drop that repeat.
"""

from __future__ import annotations

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, or_, select, update

from monitor.alerting.destinations import Notifiers, scrub
from monitor.alerting.lifecycle import NotificationState, retry_delay
from monitor.alerting.messages import Message
from monitor.alerting.notifiers import TransportError
from monitor.alerting.routing import show_destination
from monitor.store.tables import NotificationRecord

OUTBOX = NotificationRecord.__table__
PENDING, SENDING, SENT, FAILED = (NotificationState.PENDING.value, NotificationState.SENDING.value,
                                  NotificationState.SENT.value, NotificationState.FAILED.value)
CLAIM_LEASE = timedelta(minutes=2)  # longer than any notifier's timeout
MAX_PARALLEL = 8
log = logging.getLogger(__name__)


@dataclass
class DeliverySummary:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)  # "destination: error", secrets scrubbed

    def __str__(self) -> str:
        return (f"claimed {self.claimed}: sent {self.sent}, retrying {self.retrying}, "
                f"failed {self.failed}")


@dataclass(frozen=True)
class _Claimed:
    id: int
    destination: str
    attempts: int
    payload: dict


@dataclass(frozen=True)
class _Outcome:
    error: str | None = None
    permanent: bool = False


def deliver_due(engine: Engine, at: datetime, notifiers: Notifiers, worker_id: str,
                limit: int = 100) -> DeliverySummary:
    """Send the notifications due at `at` (at most `limit`), in parallel; record the outcomes."""
    summary = DeliverySummary()
    token = uuid.uuid4().hex
    claimed = claim_due(engine, at, worker_id, token, limit)
    summary.claimed = len(claimed)
    if not claimed:
        return summary
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(claimed))) as pool:
        outcomes = list(pool.map(lambda row: _send(row, notifiers), claimed))
    with engine.begin() as connection:
        for row, outcome in zip(claimed, outcomes, strict=True):
            mine = and_(OUTBOX.c.id == row.id, OUTBOX.c.claim_token == token)
            done = {"claim_token": None, "claimed_until": None}
            if outcome.error is None:
                connection.execute(update(OUTBOX).where(mine).values(
                    status=SENT, sent_at=at, last_error=None, **done))
                summary.sent += 1
                continue
            summary.errors.append(f"{show_destination(row.destination)}: {outcome.error}")
            if outcome.permanent or row.attempts >= notifiers.retry.max_attempts:
                connection.execute(update(OUTBOX).where(mine).values(
                    status=FAILED, last_error=outcome.error, next_attempt_at=None, **done))
                summary.failed += 1
                log.warning("notification %s to %s failed for good: %s", row.id,
                            show_destination(row.destination), outcome.error)
            else:
                delay = retry_delay(row.attempts, notifiers.retry.first_delay)
                connection.execute(update(OUTBOX).where(mine).values(
                    status=PENDING, last_error=outcome.error, next_attempt_at=at + delay,
                    **done))
                summary.retrying += 1
    return summary


def claim_due(engine: Engine, at: datetime, worker_id: str, token: str,
              limit: int = 100) -> list[_Claimed]:
    """Mark up to `limit` due notifications as being sent by `worker_id`; return them."""
    due = or_(and_(OUTBOX.c.status == PENDING, OUTBOX.c.next_attempt_at <= at),
              and_(OUTBOX.c.status == SENDING, OUTBOX.c.claimed_until < at))
    candidates = (select(OUTBOX.c.id).where(due).order_by(OUTBOX.c.id).limit(limit)
                  .with_for_update(skip_locked=True))
    with engine.begin() as connection:
        connection.execute(update(OUTBOX).where(OUTBOX.c.id.in_(candidates.scalar_subquery()), due)
                           .values(status=SENDING, claim_token=token, claimed_by=worker_id,
                                   claimed_until=at + CLAIM_LEASE, attempts=OUTBOX.c.attempts + 1))
        rows = connection.execute(
            select(OUTBOX.c.id, OUTBOX.c.destination, OUTBOX.c.attempts, OUTBOX.c.payload)
            .where(OUTBOX.c.claim_token == token).order_by(OUTBOX.c.id)).all()
    return [_Claimed(*row) for row in rows]


def _send(row: _Claimed, notifiers: Notifiers) -> _Outcome:
    secrets: list[str] = []
    try:
        notifier, secrets = notifiers.notifier_for(row.destination)
        notifier.send(Message.from_payload(row.payload, delivery_id=str(row.id)))
    except TransportError as error:
        return _Outcome(scrub(error.message, secrets), error.permanent)
    except Exception as error:  # noqa: BLE001 - a notifier's bug is a failed attempt, not a crash
        message = scrub(f"{type(error).__name__}: {error}", secrets)
        log.warning("notifier for %s raised %s", show_destination(row.destination), message)
        return _Outcome(message)
    return _Outcome()
