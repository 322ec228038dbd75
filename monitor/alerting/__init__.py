"""Alerting: alert state per (product, objective, severity), routing, silences, the outbox.

The daemon calls two functions, in this order, every evaluation round (synchronous; from
asyncio use `asyncio.to_thread`):

    summary = process_evaluations(engine, reports, at, settings)
        `reports`: `evaluate_mesh(connection, products, at, policy)`; `at`: the evaluation time
        (aware UTC); `settings`: the loaded `Settings`. Moves every evaluated alert through
        pending → firing → resolved (see lifecycle.py), records its history and writes the
        notifications to the outbox, all in one transaction. Returns a RoundSummary.

    delivery = deliver_due(engine, at, notifiers, worker_id)
        `notifiers = Notifiers(settings)` (build once, rebuild on reload); `at`: now;
        `worker_id`: a name for this daemon, e.g. f"{hostname}:{pid}". Claims due notifications
        (also retries whose backoff has passed), sends them and records each outcome. Call it
        after every round and, for prompt retries, on its own timer (e.g. every 10 s).
        Returns a DeliverySummary.

`AlertingService(engine, settings)` bundles both for the daemon: its `after_evaluation(reports,
at)` fits the daemon's after-evaluation hooks and `deliver(at)` its periodic jobs.

Nothing here sleeps or reads a clock: `at` is always an argument.
"""

from monitor.alerting.destinations import Notifiers, RetryPolicy
from monitor.alerting.history import alert_overview, failed_deliveries
from monitor.alerting.outbox import DeliverySummary, deliver_due
from monitor.alerting.process import RoundSummary, process_evaluations
from monitor.alerting.service import AlertingService
from monitor.alerting.silences import add_silence, expire_silence, list_silences

__all__ = ["AlertingService", "DeliverySummary", "Notifiers", "RetryPolicy", "RoundSummary", "add_silence",
           "alert_overview", "deliver_due", "expire_silence", "failed_deliveries",
           "list_silences", "process_evaluations"]
