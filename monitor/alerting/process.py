"""One alerting round: evaluation reports in, alert transitions and outbox rows written.

An alert is one objective at one severity (its page alert, its ticket alert); the conditions
that hold inside it come from the evaluation. Page alerts are stepped first, so that a ticket
alert knows whether its objective's page is firing (then the ticket is inhibited: part of that
incident, not a message of its own).

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

from sqlalchemy import Connection, Engine

from monitor.alerting.lifecycle import (
    AlertStatus,
    EventKind,
    Mute,
    NotificationState,
    Notify,
    Policy,
    State,
    step,
)
from monitor.alerting.messages import (
    AlertItem,
    Message,
    MessageStatus,
    describe_mute,
    measured,
    owner_of,
    promised,
)
from monitor.alerting.routing import Route, routes, show_destination
from monitor.alerting.settings import AlertingConfig
from monitor.alerting.silences import Silence, active_silences
from monitor.contracts.maintenance import window_at
from monitor.contracts.model import DataProduct
from monitor.contracts.severity import SEVERITIES, Severity
from monitor.evaluation.mesh import ObjectiveEvaluation
from monitor.slo import Condition, ConditionName
from monitor.store.alerts import (
    alerts_of_products,
    create_missing_alerts,
    record_alert_event,
    update_alert,
)
from monitor.store.outbox import queue_notifications
from monitor.values.links import product_url
from monitor.values.text import iso_time

PENDING, MUTED = (NotificationState.PENDING.value, NotificationState.MUTED.value)
CONDITION_ORDER = {name: number for number, name in enumerate(ConditionName)}


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


def process_evaluations(bind: Engine | Connection, reports: Iterable[ObjectiveEvaluation],
                        at: datetime, settings: AlertingConfig) -> RoundSummary:
    """Apply one evaluation round at `at` to the alerts and queue their notifications.

    With an Engine this commits; with a Connection it writes in the caller's transaction."""
    if isinstance(bind, Engine):
        with bind.begin() as connection:
            return _process(connection, list(reports), at, settings)
    return _process(bind, list(reports), at, settings)


def alert_policy(settings: AlertingConfig, severity: Severity = Severity.PAGE) -> Policy:
    """The lifecycle policy of an alert: tickets remind less often than pages."""
    alerting = settings.alerting
    return Policy(alerting.for_, repeat_interval(settings, severity), alerting.send_resolved,
                  alerting.keep_firing_for)


def repeat_interval(settings: AlertingConfig, severity: str) -> timedelta:
    alerting = settings.alerting
    return alerting.repeat_interval if severity == Severity.PAGE \
        else alerting.ticket_repeat_interval


def _process(connection: Connection, reports: list[ObjectiveEvaluation], at: datetime,
             settings: AlertingConfig) -> RoundSummary:
    summary = RoundSummary()
    if not reports:
        return summary
    by_objective = {(r.product.id, r.objective.name): r for r in reports}
    holding: dict[tuple[str, str, Severity], list[Condition]] = defaultdict(list)
    for r in reports:
        for c in sorted(r.evaluation.conditions, key=lambda c: CONDITION_ORDER[c.name]):
            holding[(r.product.id, r.objective.name, c.severity)].append(c)
    create_missing_alerts(connection, {(product, objective, severity.value): conditions[0].name.value
                                       for (product, objective, severity), conditions
                                       in holding.items()})
    policies = {severity: alert_policy(settings, severity) for severity in Severity}
    silences = active_silences(connection, at)
    rows = alerts_of_products(connection, {r.product.id for r in reports})
    rank = {severity: number for number, severity in enumerate(SEVERITIES)}
    rows = sorted(rows, key=lambda r: (r.product, r.objective, rank.get(r.severity, 9), r.id))
    page_firing: set[tuple[str, str]] = set()
    transitions: list[_Transition] = []
    for row in rows:
        report = by_objective.get((row.product, row.objective))
        if report is None:
            continue  # not evaluated this round: its state stays as it is
        conditions = holding.get((row.product, row.objective, row.severity), [])
        silenced_by = _silenced_by(report.product, row.objective, at, silences)
        inhibited = row.severity == Severity.TICKET and (row.product, row.objective) in page_firing
        mute = Mute.SILENCED if silenced_by else Mute.INHIBITED if inhibited else None
        muted_by = silenced_by or (f"inhibited: the page alert of {row.objective} is firing"
                                   if inhibited else None)
        current = AlertStatus(State(row.state), row.since, row.last_sent_at, row.episode,
                              frozenset(row.conditions or ()), row.clear_since, row.told)
        result = step(current, frozenset(c.name for c in conditions), at,
                      policies[Severity(row.severity)], mute)
        if row.severity == Severity.PAGE and result.status.state is State.FIRING:
            page_firing.add((row.product, row.objective))
        if result.event is None and result.status == current:
            continue
        written, transition = _record(connection, row, result, conditions, report, at, muted_by)
        if not written:
            summary.skipped += 1
            continue
        if result.event is not None:
            summary.transitions[result.event.value] += 1
        if transition is not None and transition.notify is not None:
            transitions.append(transition)
    for queued, muted in (_queue(connection, group, at, settings)
                          for group in _groups(transitions).values()):
        summary.queued += queued
        summary.muted += muted
    return summary


def _silenced_by(product: DataProduct, objective: str, at: datetime,
                 silences: list[Silence]) -> str | None:
    silence = next((s for s in silences if s.covers(product.id, objective, at)), None)
    if silence is not None:
        return f"silence {silence.id}" + (f": {silence.comment}" if silence.comment else "")
    found = window_at(product.maintenance, at)
    return describe_mute(*found) if found else None


def _leading(conditions: list[Condition], report: ObjectiveEvaluation, name: str,
             severity: str) -> Condition:
    """The condition a message leads with: the first that holds, else (resolution) the one
    that opened the episode, rebuilt from the objective's rules."""
    if conditions:
        return conditions[0]
    rule = next((r for r in report.evaluation.rules if r.name == name), None)
    if rule is not None:
        return Condition(rule.name, rule.severity, rule.long_window, rule.short_window,
                         rule.burn_rate)
    return Condition(ConditionName(name), Severity(severity))


def _record(connection: Connection, row, result, conditions: list[Condition],
            report: ObjectiveEvaluation, at: datetime, muted_by: str | None
            ) -> tuple[bool, _Transition | None]:
    """Write the alert's new status (and its event, if any). False: another daemon was first."""
    status = result.status
    opening = result.event in (EventKind.PENDING, EventKind.FIRING) and row.state not in (
        State.PENDING.value, State.FIRING.value)
    name = conditions[0].name.value if opening and conditions else row.condition
    leading = _leading(conditions, report, name, row.severity)
    values = measured(report.evaluation, leading, report.objective.window)
    changes: dict[str, Any] = {
        "state": status.state.value, "since": status.since, "last_sent_at": status.last_sent_at,
        "episode": status.episode, "condition": name, "updated_at": at,
        "conditions": sorted(status.conditions, key=lambda c: CONDITION_ORDER[c]),
        "clear_since": status.clear_since, "told": status.told, "measured": values,
        "version": row.version + 1}
    if result.event is EventKind.FIRING:
        changes["fired_at"] = at
        changes["resolved_at"] = None
    elif result.event in (EventKind.RESOLVED, EventKind.CANCELLED):
        changes["resolved_at"] = at
    if not update_alert(connection, row.id, row.version, changes):
        return False, None
    if result.event is None:
        return True, None
    notify = result.notify
    found = tuple(routes(report.product, row.objective, row.severity, at)) if notify else ()
    item = AlertItem(objective=row.objective, indicator=report.objective.indicator.value,
                     condition=name, severity=row.severity, since=iso_time(status.since or at),
                     measured=values,
                     promised=promised(report.objective, leading, report.evaluation.period),
                     # the first message of a ticket its page spoke for is no reminder
                     reminder=result.event is EventKind.REMINDER and row.told,
                     conditions=tuple(changes["conditions"] or [name]))
    told = [{"destination": show_destination(r.destination), "recipients": list(r.recipients),
             "muted": notify is Notify.MUTE} for r in found]
    event_id = record_alert_event(connection, row.id, status.episode, result.event.value, at,
                                  values, item.promised, muted_by if notify else None, told)
    return True, _Transition(row.id, event_id, report.product, result.event, notify, muted_by,
                             item, found)


def _groups(transitions: list[_Transition]) -> dict[tuple, list[_Transition]]:
    """One message per product, status and muting: conditions that fire together go together."""
    groups: dict[tuple, list[_Transition]] = defaultdict(list)
    for t in transitions:
        status = MessageStatus.RESOLVED if t.kind is EventKind.RESOLVED else MessageStatus.FIRING
        groups[(t.product.id, status, t.notify)].append(t)
    return groups


def _queue(connection: Connection, group: list[_Transition], at: datetime,
           settings: AlertingConfig) -> tuple[int, int]:
    first = group[0]
    product, muted = first.product, first.notify is Notify.MUTE
    status = MessageStatus.RESOLVED if first.kind is EventKind.RESOLVED else MessageStatus.FIRING
    ids = sorted(t.event_id for t in group)
    digest = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:16]
    group_key = f"{product.id}|{status}|{iso_time(at)}|{digest}"
    destinations: dict[str, list[_Transition]] = defaultdict(list)
    recipients: dict[str, list[str]] = defaultdict(list)
    for t in group:
        for route in t.routes:
            destinations[route.destination].append(t)
            recipients[route.destination] += route.recipients
    alerting = settings.alerting
    longest = max(repeat_interval(settings, t.item.severity) for t in group)
    valid_until = iso_time(at + 2 * longest) if status is MessageStatus.FIRING else None
    rows = []
    for destination, members in destinations.items():
        members = sorted(members, key=lambda t: (-Severity(t.item.severity).rank,
                                                 t.item.objective, t.item.condition))
        message = Message(status=status, product=product.id, at=iso_time(at), owner=owner_of(product),
                          dashboard_url=product_url(alerting.dashboard_url, product.id),
                          alerts=tuple(t.item for t in members),
                          description=product.description, valid_until=valid_until)
        rows.append({
            "group_key": group_key, "destination": destination, "product": product.id,
            "status": MUTED if muted else PENDING, "created_at": at, "attempts": 0,
            "next_attempt_at": None if muted else at,
            "muted_by": "; ".join(sorted({t.muted_by for t in members if t.muted_by})) or None,
            "recipients": list(dict.fromkeys(recipients[destination])),
            "event_ids": sorted(t.event_id for t in members), "payload": message.to_payload()})
    if not rows:
        return 0, 0
    queue_notifications(connection, rows)
    return (0, len(rows)) if muted else (len(rows), 0)
