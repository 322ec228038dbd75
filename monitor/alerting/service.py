"""The daemon's handle on alerting: process each round's reports, deliver the outbox.

    alerting = AlertingService(engine, config.settings)
    Daemon(config, engine, after_evaluation=[alerting.after_evaluation],
           periodic=[(timedelta(seconds=10), alerting.deliver)],
           on_config=[lambda config: alerting.reconfigure(config.settings)])

`reconfigure` switches to reloaded settings (alert policy, channels, SMTP) between two calls;
what is already in the outbox goes out through the new channels.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine

from monitor.alerting.destinations import Notifiers
from monitor.alerting.notifiers import Notifier, TransportError
from monitor.alerting.outbox import DeliverySummary, deliver_due
from monitor.alerting.process import RoundSummary, process_evaluations
from monitor.alerting.settings import AlertingConfig
from monitor.evaluation.mesh import ObjectiveEvaluation

log = logging.getLogger("monitor.alerting")


class AlertingService:
    def __init__(self, engine: Engine, settings: AlertingConfig, worker_id: str | None = None):
        self.engine = engine
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self.reconfigure(settings)

    def reconfigure(self, settings: AlertingConfig) -> None:
        """Use `settings` from the next round and delivery on (the daemon calls this when a
        reload is accepted)."""
        self.settings = settings
        self.notifiers = ReloadingNotifiers(settings)

    def after_evaluation(self, reports: Sequence[ObjectiveEvaluation], at: datetime) -> RoundSummary:
        """Record the round's transitions, then send what they queued at once."""
        summary = process_evaluations(self.engine, reports, at, self.settings)
        if summary.transitions:
            log.info("alerts at %s: %s", at.isoformat(), summary)
        self.deliver(at)
        return summary

    def deliver(self, at: datetime) -> DeliverySummary:
        """Send due notifications and retries (call on a timer too, e.g. every 10 s)."""
        delivery = deliver_due(self.engine, at, self.notifiers, self.worker_id)
        for error in delivery.errors:
            log.warning("notification not delivered: %s", error)
        return delivery


class ReloadingNotifiers(Notifiers):
    """Notifiers of a running daemon, whose channels can change: a notification for a channel
    these settings do not name is retried with backoff instead of failing for good — it may have
    been queued by a worker (or before a restart) that already runs a configuration naming it, and
    the next reload here adds it. After `alerting.max_attempts` it fails as any other."""

    def notifier_for(self, destination: str) -> Notifier:
        try:
            return super().notifier_for(destination)
        except TransportError as error:
            kind, _, name = destination.partition(":")
            if error.permanent and kind == "channel" and name not in self.settings.channels:
                raise TransportError(f"{error.message} (retried: a reload may add it)") from None
            raise
