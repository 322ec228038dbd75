"""One alerting round: evaluation reports in, alert transitions and outbox rows written.

Everything is written in one transaction, before anything is sent: the alert's new state, an
event for its history (values at the time, who was told, what muted it) and one notification
row per (group of events, destination) — unique, so no transition is queued twice. Each alert
update is guarded by its `version`, so two daemons that process the same round (one PostgreSQL)
record a transition once: the second one's guarded update finds the row changed and skips it.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from monitor.alerting.lifecycle import AlertStatus, EventKind, Notify, Policy, State, step
from monitor.alerting.messages import (
    AlertItem,
    Message,
    iso,
    measured,
    owner_of,
    product_link,
    promised,
)
from monitor.alerting.routing import Route, maintenance_at, routes, show_destination
from monitor.alerting.silences import Silence, active_silences
from monitor.contracts.model import DataProduct, Indicator, Objective
from monitor.evaluation import ObjectiveReport
from monitor.settings import Settings
from monitor.slo import Condition
from monitor.slo.policy import scaled_rules
from monitor.store.tables import AlertEventRecord, AlertRecord, NotificationRecord, PortState

ALERTS = AlertRecord.__table__
EVENTS = AlertEventRecord.__table__
OUTBOX = NotificationRecord.__table__
SEVERITY_ORDER = {"page": 0, "ticket": 1}


@dataclass
class RoundSummary:
    """What one round did: transitions by kind, notifications queued and muted."""

    transitions: Counter = field(default_factory=Counter)
    queued: int = 0
    muted: int = 0
    skipped: int = 0  # transitions another daemon recorded first

    def __str__(self) -> str:
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(self.transitions.items())) or "none"
        return f"transitions: {kinds}; notifications queued {self.queued}, muted {self.muted}"


@dataclass(frozen=True)
class _Transition:
    alert_id: int
    event_id: int
    product: DataProduct
    kind: EventKind
    notify: Notify
    muted_by: str | None
    item: AlertItem
    routes: tuple[Route, ...]


def process_evaluations(bind: Engine | Connection, reports: Iterable[ObjectiveReport],
                        at: datetime, settings: Settings) -> RoundSummary:
    """Apply one evaluation round at `at` to the alerts and queue their notifications.

    With an Engine this commits; with a Connection it writes in the caller's transaction."""
    if isinstance(bind, Engine):
        with bind.begin() as connection:
            return _process(connection, list(reports), at, settings)
    return _process(bind, list(reports), at, settings)


def _process(connection: Connection, reports: list[ObjectiveReport], at: datetime,
             settings: Settings) -> RoundSummary:
    summary = RoundSummary()
    if not reports:
        return summary
    by_objective = {(r.product.id, r.objective.name): r for r in reports}
    holding = {(r.product.id, r.objective.name, c.name): c
               for r in reports for c in r.evaluation.conditions}
    _create_missing(connection, holding)
    policy = Policy(settings.alerting.for_, settings.alerting.repeat_interval,
                    settings.alerting.send_resolved)
    silences = active_silences(connection, at)
    rows = connection.execute(select(ALERTS).where(
        ALERTS.c.product.in_(sorted({r.product.id for r in reports}))).order_by(ALERTS.c.id)).all()
    transitions: list[_Transition] = []
    for row in rows:
        report = by_objective.get((row.product, row.objective))
        if report is None:
            continue  # not evaluated this round: its state stays as it is
        condition = holding.get((row.product, row.objective, row.condition))
        muted_by = _muted_by(report.product, row.objective, at, silences)
        current = AlertStatus(State(row.state), row.since, row.last_sent_at, row.episode)
        result = step(current, condition is not None, at, policy, muted_by is not None)
        if result.event is None:
            continue
        condition = condition or _condition_named(report.objective, row.condition, row.severity,
                                                  settings)
        transition = _record(connection, row, result, condition, report, at, muted_by, settings)
        if transition is None:
            summary.skipped += 1
            continue
        summary.transitions[result.event.value] += 1
        if transition.notify is not None:
            transitions.append(transition)
    for queued, muted in (_queue(connection, group, at, settings)
                          for group in _groups(transitions).values()):
        summary.queued += queued
        summary.muted += muted
    return summary


def _create_missing(connection: Connection, holding: dict[tuple[str, str, str], Condition]) -> None:
    if not holding:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(ALERTS).on_conflict_do_nothing(
        index_elements=["product", "objective", "condition"])
    connection.execute(statement, [
        {"product": p, "objective": o, "condition": c, "severity": condition.severity,
         "state": State.INACTIVE.value, "version": 0, "episode": 0}
        for (p, o, c), condition in sorted(holding.items())])


def _muted_by(product: DataProduct, objective: str, at: datetime,
              silences: list[Silence]) -> str | None:
    silence = next((s for s in silences if s.covers(product.id, objective, at)), None)
    if silence is not None:
        return f"silence {silence.id}" + (f": {silence.comment}" if silence.comment else "")
    window = maintenance_at(product.maintenance, at)
    if window is not None:
        return f"maintenance from {iso(window.start)} for {window.duration}" + (
            f" every {window.every}" if window.every else "")
    return None


def _condition_named(objective: Objective, name: str, severity: str,
                     settings: Settings) -> Condition:
    """The condition of a rule that no longer holds, rebuilt for the resolution message."""
    for rule in scaled_rules(objective.window, settings.slo.policy().rules):
        if rule.name == name:
            return Condition(rule.name, rule.severity, rule.long_window, rule.short_window,
                             rule.burn_rate)
    return Condition(name, severity)


def _record(connection: Connection, row, result, condition: Condition, report: ObjectiveReport,
            at: datetime, muted_by: str | None, settings: Settings) -> _Transition | None:
    status = result.status
    changes: dict[str, Any] = {
        "state": status.state.value, "since": status.since, "last_sent_at": status.last_sent_at,
        "episode": status.episode, "severity": condition.severity, "updated_at": at,
        "version": row.version + 1}
    if result.event is EventKind.FIRING:
        changes["fired_at"] = at
        changes["resolved_at"] = None
    elif result.event in (EventKind.RESOLVED, EventKind.CANCELLED):
        changes["resolved_at"] = at
    values = measured(report.evaluation, condition, _freshness_age(connection, report, at))
    changes["measured"] = values
    guarded = connection.execute(update(ALERTS).where(
        ALERTS.c.id == row.id, ALERTS.c.version == row.version).values(**changes))
    if guarded.rowcount != 1:
        return None
    notify = result.notify
    found = tuple(routes(report.product, row.objective, condition.severity, at)) if notify else ()
    item = AlertItem(objective=row.objective, indicator=report.objective.indicator.value,
                     condition=row.condition, severity=condition.severity,
                     since=iso(status.since or at), measured=values,
                     promised=promised(report.objective, condition),
                     reminder=result.event is EventKind.REMINDER)
    told = [{"destination": show_destination(r.destination), "recipients": list(r.recipients),
             "muted": notify is Notify.MUTE} for r in found]
    event_id = connection.execute(insert(EVENTS).values(
        alert_id=row.id, episode=status.episode, kind=result.event.value, at=at,
        measured=values, promised=item.promised, muted_by=muted_by if notify else None,
        told=told).returning(EVENTS.c.id)).scalar_one()
    return _Transition(row.id, event_id, report.product, result.event, notify, muted_by, item,
                       found)


def _freshness_age(connection: Connection, report: ObjectiveReport, at: datetime
                   ) -> timedelta | None:
    if report.objective.indicator is not Indicator.FRESHNESS:
        return None
    table = PortState.__table__
    query = select(table.c.newest_data_at).where(table.c.product == report.product.id,
                                                 table.c.newest_data_at.is_not(None))
    if report.objective.port is not None:
        query = query.where(table.c.port == report.objective.port)
    newest = [value for (value,) in connection.execute(query)]
    return at - max(newest) if newest else None


def _groups(transitions: list[_Transition]) -> dict[tuple, list[_Transition]]:
    """One message per product, status and muting: conditions that fire together go together."""
    groups: dict[tuple, list[_Transition]] = defaultdict(list)
    for t in transitions:
        status = "resolved" if t.kind is EventKind.RESOLVED else "firing"
        groups[(t.product.id, status, t.notify)].append(t)
    return groups


def _queue(connection: Connection, group: list[_Transition], at: datetime,
           settings: Settings) -> tuple[int, int]:
    first = group[0]
    product, muted = first.product, first.notify is Notify.MUTE
    status = "resolved" if first.kind is EventKind.RESOLVED else "firing"
    ids = sorted(t.event_id for t in group)
    digest = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:16]
    group_key = f"{product.id}|{status}|{iso(at)}|{digest}"
    destinations: dict[str, list[_Transition]] = defaultdict(list)
    recipients: dict[str, list[str]] = defaultdict(list)
    for t in group:
        for route in t.routes:
            destinations[route.destination].append(t)
            recipients[route.destination] += route.recipients
    alerting = settings.alerting
    valid_until = iso(at + 2 * alerting.repeat_interval) if status == "firing" else None
    rows = []
    for destination, members in destinations.items():
        members = sorted(members, key=lambda t: (SEVERITY_ORDER.get(t.item.severity, 9),
                                                 t.item.objective, t.item.condition))
        message = Message(status=status, product=product.id, at=iso(at), owner=owner_of(product),
                          dashboard_url=product_link(alerting.dashboard_url, product.id),
                          alerts=tuple(t.item for t in members),
                          description=product.description, valid_until=valid_until)
        rows.append({
            "group_key": group_key, "destination": destination, "product": product.id,
            "status": "muted" if muted else "pending", "created_at": at, "attempts": 0,
            "next_attempt_at": None if muted else at,
            "muted_by": "; ".join(sorted({t.muted_by for t in members if t.muted_by})) or None,
            "recipients": list(dict.fromkeys(recipients[destination])),
            "event_ids": sorted(t.event_id for t in members), "payload": message.to_payload()})
    if not rows:
        return 0, 0
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(dialect.insert(OUTBOX).on_conflict_do_nothing(
        index_elements=["group_key", "destination"]), rows)
    return (0, len(rows)) if muted else (len(rows), 0)
