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

Lineage (docs/alerting.md, "Upstream causes"): every message names the objectives upstream that
are breached or at risk, with since when their alert holds. A destination written with
`inhibit_when_upstream: true` is held while an alert upstream of the product fires at the same
or a higher severity: its notification is queued as muted with `muted_by: held: …`, and the
alert's history says so per destination. When the upstream stops firing and the alert still
fires, a destination held for the whole episode gets the firing message then; one never told
that an alert fired is not told that it resolved (that resolution is recorded, held, too).
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
    Step,
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
    alert_events,
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
    muted: int = 0  # held ones included
    held: int = 0  # muted for a destination that waits while an upstream alert fires
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
    notify: Notify | None
    muted_by: str | None
    item: AlertItem
    routes: tuple[Route, ...]
    held: dict[str, str] = field(default_factory=dict)  # destination → why it is held


@dataclass(frozen=True)
class _Stepped:
    """One alert of the round, stepped but not yet written."""

    row: Any
    report: ObjectiveEvaluation
    conditions: list[Condition]
    muted_by: str | None
    result: Step


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
    in_round = {r.product.id for r in reports}
    upstream = {source for r in reports for source in r.upstream_products} - in_round
    every = alerts_of_products(connection, in_round | upstream)
    rank = {severity: number for number, severity in enumerate(SEVERITIES)}
    rows = sorted((r for r in every if r.product in in_round),
                  key=lambda r: (r.product, r.objective, rank.get(r.severity, 9), r.id))
    page_firing: set[tuple[str, str]] = set()
    stepped: list[_Stepped] = []
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
        current = _status_of(row)
        result = step(current, frozenset(c.name for c in conditions), at,
                      policies[Severity(row.severity)], mute)
        if row.severity == Severity.PAGE and result.status.state is State.FIRING:
            page_firing.add((row.product, row.objective))
        stepped.append(_Stepped(row, report, conditions, muted_by, result))
    now = _Alerts.after(stepped, [r for r in every if r.product not in in_round])
    owed = _owed_destinations(connection, stepped, now, at)
    transitions: list[_Transition] = []
    for one in stepped:
        row, result = one.row, one.result
        catch_up = owed.get(row.id)
        if result.event is None and result.status == _status_of(row) and not catch_up:
            continue
        written, transition = _record(connection, one, at, now)
        if not written:
            summary.skipped += 1
            continue
        if result.event is not None:
            summary.transitions[result.event.value] += 1
        if transition is not None and transition.notify is not None:
            transitions.append(transition)
        if catch_up and (transition is None or transition.kind is not EventKind.REMINDER):
            transitions.append(_catch_up(connection, one, at, now, catch_up))
    for queued, muted, held in (_queue(connection, group, at, settings)
                                for group in _groups(transitions).values()):
        summary.queued += queued
        summary.muted += muted
        summary.held += held
    return summary


def _status_of(row) -> AlertStatus:
    return AlertStatus(State(row.state), row.since, row.last_sent_at, row.episode,
                       frozenset(row.conditions or ()), row.clear_since, row.told)


@dataclass(frozen=True)
class _Alerts:
    """The alerts of the round's products (as stepped) and of their upstream products (as
    stored): which fire, and since when each objective's active alert holds."""

    firing: dict[tuple[str, str], set[str]]  # (product, objective) → severities firing
    since: dict[tuple[str, str], datetime]  # earliest active alert of the objective

    @classmethod
    def after(cls, stepped: list[_Stepped], others: Iterable[Any]) -> _Alerts:
        states = [(s.row.product, s.row.objective, s.row.severity, s.result.status.state,
                   s.result.status.since) for s in stepped]
        states += [(r.product, r.objective, r.severity, State(r.state), r.since) for r in others]
        firing: dict[tuple[str, str], set[str]] = defaultdict(set)
        since: dict[tuple[str, str], datetime] = {}
        for product, objective, severity, state, began in states:
            if state is State.FIRING:
                firing[(product, objective)].add(severity)
            if state in (State.PENDING, State.FIRING) and began is not None:
                key = (product, objective)
                since[key] = min(since.get(key, began), began)
        return cls(dict(firing), since)

    def holding_back(self, report: ObjectiveEvaluation, severity: str) -> str | None:
        """Why a destination that waits for upstream is held for this alert, or None: an alert
        of a product upstream fires at `severity` or above."""
        floor = Severity(severity).rank
        causes = [f"{product} {objective} ({'/'.join(sorted(severities))})"
                  for product in report.upstream_products
                  for (p, objective), severities in sorted(self.firing.items())
                  if p == product and any(Severity(s).rank >= floor for s in severities)]
        return f"held: upstream {', '.join(causes)} firing" if causes else None

    def upstream_of(self, report: ObjectiveEvaluation) -> tuple[dict[str, Any], ...]:
        """The round's bad upstream objectives, `since` as the alerts hold it after the round."""
        return tuple({**u.as_json(), "since": iso_time(began) if (began := self.since.get(
            (u.product, u.objective)) or u.since) else None} for u in report.upstream)


def _owed_destinations(connection: Connection, stepped: list[_Stepped], now: _Alerts,
                       at: datetime) -> dict[int, list[Route]]:
    """Destinations held for the whole of a firing episode whose upstream no longer holds
    them back: they are told now. By alert id; read from the alerts' histories."""
    candidates = {}
    for one in stepped:
        status, row = one.result.status, one.row
        if status.state is not State.FIRING or one.muted_by is not None \
                or one.result.event in (EventKind.FIRING, EventKind.REMINDER) \
                or now.holding_back(one.report, row.severity) is not None:
            continue
        waiting = [r for r in routes(one.report.product, row.objective, row.severity, at)
                   if r.hold_when_upstream]
        if waiting:
            candidates[row.id] = (status.episode, waiting)
    if not candidates:
        return {}
    told = _told_in_episodes(connection, {i: e for i, (e, _) in candidates.items()})
    owed = {}
    for alert_id, (_, waiting) in candidates.items():
        held, plain = told.get(alert_id, (set(), set()))
        found = [r for r in waiting if r.destination in held and r.destination not in plain]
        if found:
            owed[alert_id] = found
    return owed


def _told_in_episodes(connection: Connection, episodes: dict[int, int]
                      ) -> dict[int, tuple[set[str], set[str]]]:
    """Per alert, in its episode: the destinations held at least once, and those told."""
    found: dict[int, tuple[set[str], set[str]]] = {}
    for event in alert_events(connection, episodes):
        if event.episode != episodes[event.alert_id]:
            continue
        held, plain = found.setdefault(event.alert_id, (set(), set()))
        for entry in event.told or ():
            destination = _destination_named(entry)
            if entry.get("held_by"):
                held.add(destination)
            elif not entry.get("muted"):
                plain.add(destination)
    return found


def _destination_named(entry: dict[str, Any]) -> str:
    """The outbox name of a history entry (`key`; entries before lineage held only the shown
    name, which is the key for destinations without secrets)."""
    return str(entry.get("key") or entry.get("destination"))


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


def _record(connection: Connection, one: _Stepped, at: datetime, now: _Alerts
            ) -> tuple[bool, _Transition | None]:
    """Write the alert's new status (and its event, if any). False: another daemon was first."""
    row, result, conditions, report = one.row, one.result, one.conditions, one.report
    status = result.status
    opening = result.event in (EventKind.PENDING, EventKind.FIRING) and row.state not in (
        State.PENDING.value, State.FIRING.value)
    name = conditions[0].name.value if opening and conditions else row.condition
    leading = _leading(conditions, report, name, row.severity)
    values = measured(report.evaluation, leading, report.objective.window)
    changes: dict[str, Any] = {
        "state": status.state.value, "since": status.since, "last_sent_at": status.last_sent_at,
        "episode": status.episode, "condition": name, "updated_at": at,
        "conditions": sorted(status.conditions, key=lambda c: CONDITION_ORDER[ConditionName(c)]),
        "clear_since": status.clear_since, "told": status.told, "measured": values,
        "version": row.version + 1}
    if result.event is EventKind.FIRING:
        changes["fired_at"] = at
        changes["resolved_at"] = None
    elif result.event in (EventKind.RESOLVED, EventKind.CANCELLED):
        changes["resolved_at"] = at
    if result.event is None and status == _status_of(row):
        pass  # only a held destination is told this round (`_catch_up`)
    elif not update_alert(connection, row.id, row.version, changes):
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
                     conditions=tuple(changes["conditions"] or [name]),
                     upstream=now.upstream_of(report))
    held = _held(connection, one, found, now, at) if notify is Notify.SEND else {}
    event_id = record_alert_event(connection, row.id, status.episode, result.event.value, at,
                                  values, item.promised, one.muted_by if notify else None,
                                  _told(found, notify is Notify.MUTE, held))
    return True, _Transition(row.id, event_id, report.product, result.event, notify,
                             one.muted_by, item, found, held)


def _held(connection: Connection, one: _Stepped, found: tuple[Route, ...], now: _Alerts,
          at: datetime) -> dict[str, str]:
    """The destinations of this notification that wait, and why: an upstream alert fires, or
    (a resolution) they were held all along and never told that it fired."""
    waiting = [r for r in found if r.hold_when_upstream]
    if not waiting:
        return {}
    if one.result.event is EventKind.RESOLVED:
        held, plain = _told_in_episodes(connection, {one.row.id: one.row.episode}).get(
            one.row.id, (set(), set()))
        return {r.destination: "held: never told that it fired (an upstream alert was firing)"
                for r in waiting if r.destination not in plain}
    why = now.holding_back(one.report, one.row.severity)
    return {r.destination: why for r in waiting} if why else {}


def _told(found: tuple[Route, ...], muted: bool, held: dict[str, str]) -> list[dict[str, Any]]:
    """Who an event reached, for its history: each destination shown safely, muted or held."""
    told = []
    for r in found:
        entry: dict[str, Any] = {"destination": show_destination(r.destination),
                                 "recipients": list(r.recipients),
                                 "muted": muted or r.destination in held}
        if r.hold_when_upstream:  # the key lets the next rounds find it (no secret in it:
            entry["key"] = r.destination  # placeholders are as written, `${VAR}`)
        if r.destination in held:
            entry["held_by"] = held[r.destination]
        told.append(entry)
    return told


def _catch_up(connection: Connection, one: _Stepped, at: datetime, now: _Alerts,
              owed: list[Route]) -> _Transition:
    """Tell the destinations held all episode that the alert fires, now that the upstream
    holds them back no more (a history event of its own, `reminder` to those only)."""
    row, report, status = one.row, one.report, one.result.status
    leading = _leading(one.conditions, report, row.condition, row.severity)
    values = measured(report.evaluation, leading, report.objective.window)
    conditions = sorted(status.conditions, key=lambda c: CONDITION_ORDER[ConditionName(c)]
                        ) or [row.condition]
    item = AlertItem(objective=row.objective, indicator=report.objective.indicator.value,
                     condition=row.condition, severity=row.severity,
                     since=iso_time(status.since or at), measured=values,
                     promised=promised(report.objective, leading, report.evaluation.period),
                     conditions=tuple(conditions), upstream=now.upstream_of(report))
    found = tuple(owed)
    event_id = record_alert_event(connection, row.id, status.episode, EventKind.REMINDER.value,
                                  at, values, item.promised, None, _told(found, False, {}))
    return _Transition(row.id, event_id, report.product, EventKind.REMINDER, Notify.SEND, None,
                       item, found)


def _groups(transitions: list[_Transition]) -> dict[tuple, list[_Transition]]:
    """One message per product, status and muting: conditions that fire together go together."""
    groups: dict[tuple, list[_Transition]] = defaultdict(list)
    for t in transitions:
        status = MessageStatus.RESOLVED if t.kind is EventKind.RESOLVED else MessageStatus.FIRING
        groups[(t.product.id, status, t.notify)].append(t)
    return groups


def _queue(connection: Connection, group: list[_Transition], at: datetime,
           settings: AlertingConfig) -> tuple[int, int, int]:
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
        plain = [t for t in members if destination not in t.held]
        held = [t for t in members if destination in t.held]
        for part, suffix in ((plain, ""), (held, "|held")):
            if not part:
                continue
            reasons = {t.held[destination] for t in part if destination in t.held} if suffix \
                else {t.muted_by for t in part if t.muted_by}
            message = Message(status=status, product=product.id, at=iso_time(at),
                              owner=owner_of(product),
                              dashboard_url=product_url(alerting.dashboard_url, product.id),
                              alerts=tuple(t.item for t in part),
                              description=product.description, valid_until=valid_until)
            waits = muted or bool(suffix)
            rows.append({
                "group_key": group_key + suffix, "destination": destination,
                "product": product.id, "status": MUTED if waits else PENDING, "created_at": at,
                "attempts": 0, "next_attempt_at": None if waits else at,
                "muted_by": "; ".join(sorted(reasons)) or None,
                "recipients": list(dict.fromkeys(recipients[destination])),
                "event_ids": sorted(t.event_id for t in part), "payload": message.to_payload()})
    if not rows:
        return 0, 0, 0
    queue_notifications(connection, rows)
    waiting = sum(1 for r in rows if r["status"] == MUTED)
    holding = sum(1 for r in rows if str(r["group_key"]).endswith("|held"))
    return len(rows) - waiting, waiting, holding
