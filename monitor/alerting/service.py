"""The daemon's handle on alerting: process each round's reports, deliver the outbox.

    alerting = AlertingService(engine, config.settings)
    Daemon(config, engine, after_evaluation=[alerting.after_evaluation],
           periodic=[(timedelta(seconds=10), alerting.deliver)])

Build a new one when the settings reload (channels or SMTP may have changed).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine

from monitor.alerting.destinations import Notifiers
from monitor.alerting.outbox import DeliverySummary, deliver_due
from monitor.alerting.process import RoundSummary, process_evaluations
from monitor.evaluation import ObjectiveReport
from monitor.settings import Settings

log = logging.getLogger("monitor.alerting")


class AlertingService:
    def __init__(self, engine: Engine, settings: Settings, worker_id: str | None = None):
        self.engine = engine
        self.settings = settings
        self.notifiers = Notifiers(settings)
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"

    def after_evaluation(self, reports: Sequence[ObjectiveReport], at: datetime) -> RoundSummary:
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
