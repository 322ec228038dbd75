"""The monthly report's delivery (`reports.monthly` in meshwatch.yaml): once the month that ended
is over in the settings' time zone, its uptime report is queued in the outbox for each of its
destinations, and the outbox delivers it as it delivers alert notifications (retries with backoff,
failed for good after `alerting.max_attempts`, shown on the dashboard's alerts page).

Exactly once across workers, restarts and repeated checks: a report's outbox row is keyed by
(report, month, destination) — group key `report:uptime|2026-10` — and inserted with ON CONFLICT
DO NOTHING by whichever worker gets there first. The check runs at the daemon's start and every
CHECK_EVERY, so a daemon that was down on the 1st queues the report when it starts later in that
month. The document is rendered once, when it is queued, so a retry sends the same bytes; it is
what `meshwatch report uptime --month M --format F` prints. A month the store measured nothing
in (the monitor was not running yet) is not reported.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine

from monitor.alerting.destinations import Notifiers
from monitor.alerting.notifiers import TransportError
from monitor.alerting.reports import ReportMessage
from monitor.alerting.routing import show_destination
from monitor.config.loading import Config
from monitor.reports.months import Month
from monitor.reports.render import render
from monitor.reports.uptime import UptimeReport, uptime_report
from monitor.store.outbox import PENDING, queue_notifications, queued_destinations
from monitor.values.targets import format_target
from monitor.values.text import iso_time, percent

log = logging.getLogger("meshwatch.reports")
REPORT = "uptime"
CHECK_EVERY = timedelta(minutes=10)
SETTLE = timedelta(minutes=15)  # after the month's end: its last probes are written before it is read
MISSED_SHOWN = 10  # missed objectives named in the message's body


def due_month(at: datetime, timezone: str) -> Month:
    """The month whose report is due at `at`: the last one that ended at least SETTLE ago."""
    return Month.containing(at - SETTLE, ZoneInfo(timezone)).previous()


def report_key(month: Month) -> str:
    """The outbox group key of a month's report: with the destination, its row's unique key."""
    return f"report:{REPORT}|{month}"


def measured_anything(report: UptimeReport) -> bool:
    return any(p.measured_minutes or any(o.counts.total for o in p.objectives)
               for p in report.products)


def summary(report: UptimeReport) -> str:
    """A few lines for the message's body: how many objectives were met, which were missed."""
    count = {result: sum(p.count(result) for p in report.products)
             for result in ("met", "missed", "no data")}
    lines = [f"{len(report.products)} product(s); objectives: {count['met']} met, "
             f"{count['missed']} missed, {count['no data']} without data."]
    missed = [f"- {p.product} {o.objective}: {percent(o.compliance)} of {format_target(o.target)}"
              for p in report.products for o in p.objectives if o.result == "missed"]
    if missed:
        lines += ["Missed:", *missed[:MISSED_SHOWN]]
        if len(missed) > MISSED_SHOWN:
            lines.append(f"- and {len(missed) - MISSED_SHOWN} more (see the report)")
    return "\n".join(lines)


def report_message(connection: Connection, config: Config, month: Month, format: str,
                   at: datetime) -> tuple[ReportMessage, UptimeReport]:
    """The month's uptime report as known at `at`, rendered in `format`, as a notification."""
    timezone = config.settings.timezone
    report = uptime_report(connection, config.registry.products.values(), month, timezone, at)
    message = ReportMessage(report=REPORT, month=str(month), timezone=timezone, format=format,
                            content=render(report, format), summary=summary(report),
                            at=iso_time(at))
    return message, report


def queue_report(connection: Connection, month: Month, message: ReportMessage,
                 destinations: list[str], at: datetime) -> list[str]:
    """One outbox row per destination; a row another worker (or an earlier run) queued stays.
    The destinations this call queued."""
    return queue_notifications(connection, [
        {"group_key": report_key(month), "destination": destination,
         "product": "", "status": PENDING, "created_at": at, "attempts": 0,
         "next_attempt_at": at, "recipients": [f"reports.monthly ({message.report})"],
         "payload": message.to_payload()} for destination in destinations])


class MonthlyReports:
    """The daemon's periodic job: `check(config, at)` at its start and every CHECK_EVERY."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def check(self, config: Config, at: datetime) -> None:
        """`queue_due`, its trouble logged: the next check tries again."""
        try:
            self.queue_due(config, at)
        except Exception as error:  # noqa: BLE001 - a store away or a bad report must not stop the daemon
            log.error("monthly report not queued: %s", error)

    def queue_due(self, config: Config, at: datetime) -> list[str]:
        """Queue the report due at `at` for the destinations that do not have it yet; the
        destinations this call queued (not those another worker queued at the same moment)."""
        monthly = config.settings.reports.monthly
        if monthly is None:
            return []
        month = due_month(at, config.settings.timezone)
        with self.engine.begin() as connection:
            queued = queued_destinations(connection, report_key(month))
            wanted = [d for d in monthly.destinations() if d not in queued]
            if not wanted:
                return []
            message, report = report_message(connection, config, month, monthly.format, at)
            if not measured_anything(report):
                log.debug("no %s report for %s: nothing was measured in it", REPORT, month)
                return []
            queued_now = queue_report(connection, month, message, wanted, at)
        if queued_now:  # one worker's line: the others found its rows at their insert
            log.info("%s report of %s queued for %s", REPORT, month,
                     ", ".join(map(show_destination, queued_now)))
        return queued_now


def send_now(engine: Engine, config: Config, month: Month, format: str, destinations: list[str],
             at: datetime) -> dict[str, str | None]:
    """Send the month's report to `destinations` at once, outside the outbox (`meshwatch report
    send`): nothing is recorded and the monthly delivery is not affected. Per destination, the
    error that kept it from being delivered, or None."""
    with engine.connect() as connection:
        message, _ = report_message(connection, config, month, format, at)
    notifiers = Notifiers(config.settings)
    outcome: dict[str, str | None] = {}
    for destination in destinations:
        try:
            notifiers.notifier_for(destination).send_report(message)
            outcome[destination] = None
        except TransportError as error:
            outcome[destination] = error.message
    return outcome
