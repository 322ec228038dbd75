"""Deliver the outbox: claim due notifications, send them, record each attempt's outcome.

Claiming (monitor.store.outbox) is one guarded statement: two workers never claim the same
row. A claim is a short lease (`claimed_until`, CLAIM_LEASE): the rows of a worker that died
mid-send become due again when it runs out. Rows are claimed a slice at a time (MAX_PARALLEL,
sent in parallel, each bounded by its notifier's timeout), just before they are sent, so a lease
covers one slice, not the whole queue. A notification is sent after its claim is committed and
marked sent right after; only a crash between those two can repeat it — with the same
`delivery_id` (webhook header `X-Meshwatch-Delivery`), so a receiver can drop that repeat.
A row is an alert's `Message` or, marked `kind: report`, a `ReportMessage` (monthly reports).
"""

from __future__ import annotations

import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from monitor.alerting.destinations import Notifiers
from monitor.alerting.lifecycle import retry_delay
from monitor.alerting.messages import Message
from monitor.alerting.notifiers import TransportError
from monitor.alerting.reports import ReportMessage, is_report
from monitor.alerting.routing import show_destination
from monitor.store.outbox import (
    ClaimedNotification,
    claim_due_notifications,
    mark_failed,
    mark_sent,
    schedule_retry,
)
from monitor.values.secrets import safe_text

CLAIM_LEASE = timedelta(seconds=30)  # longer than a slice's sends (10 s timeouts by default)
MAX_PARALLEL = 8  # notifications claimed and sent at once
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
class _Outcome:
    error: str | None = None
    permanent: bool = False


def deliver_due(engine: Engine, at: datetime, notifiers: Notifiers, worker_id: str,
                limit: int = 100) -> DeliverySummary:
    """Send the notifications due at `at` (at most `limit`), a slice in parallel at a time;
    record the outcomes. Each slice's lease starts when it is claimed."""
    summary = DeliverySummary()
    began = time.monotonic()
    while summary.claimed < limit:
        token = uuid.uuid4().hex
        claimed_at = at + timedelta(seconds=int(time.monotonic() - began))
        claimed = claim_due(engine, claimed_at, worker_id, token,
                            min(MAX_PARALLEL, limit - summary.claimed))
        summary.claimed += len(claimed)
        if claimed:
            _deliver(engine, at, notifiers, token, claimed, summary)
        if len(claimed) < MAX_PARALLEL:
            break
    return summary


def _deliver(engine: Engine, at: datetime, notifiers: Notifiers, token: str,
             claimed: list[ClaimedNotification], summary: DeliverySummary) -> None:
    with ThreadPoolExecutor(max_workers=len(claimed)) as pool:
        outcomes = list(pool.map(lambda row: _send(row, notifiers), claimed))
    with engine.begin() as connection:
        for row, outcome in zip(claimed, outcomes, strict=True):
            if outcome.error is None:
                mark_sent(connection, row.id, token, at)
                summary.sent += 1
                continue
            summary.errors.append(f"{show_destination(row.destination)}: {outcome.error}")
            if outcome.permanent or row.attempts >= notifiers.retry.max_attempts:
                mark_failed(connection, row.id, token, outcome.error)
                summary.failed += 1
                log.warning("notification %s to %s failed for good: %s", row.id,
                            show_destination(row.destination), outcome.error)
            else:
                delay = retry_delay(row.attempts, notifiers.retry.first_delay)
                schedule_retry(connection, row.id, token, outcome.error, at + delay)
                summary.retrying += 1


def claim_due(engine: Engine, at: datetime, worker_id: str, token: str,
              limit: int = 100) -> list[ClaimedNotification]:
    """Mark up to `limit` due notifications as being sent by `worker_id`; return them."""
    with engine.begin() as connection:
        return claim_due_notifications(connection, at, worker_id, token, CLAIM_LEASE, limit)


def _send(row: ClaimedNotification, notifiers: Notifiers) -> _Outcome:
    try:
        notifier = notifiers.notifier_for(row.destination)
        if is_report(row.payload):
            notifier.send_report(ReportMessage.from_payload(row.payload, delivery_id=str(row.id)))
        else:
            notifier.send(Message.from_payload(row.payload, delivery_id=str(row.id)))
    except TransportError as error:
        return _Outcome(safe_text(error.message), error.permanent)
    except Exception as error:  # noqa: BLE001 - a notifier's bug is a failed attempt, not a crash
        message = safe_text(f"{type(error).__name__}: {error}")
        log.warning("notifier for %s raised %s", show_destination(row.destination), message)
        return _Outcome(message)
    return _Outcome()
