"""Read alerts, their history and their deliveries back: for `meshwatch alerts` and the dashboard."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from monitor.alerting.lifecycle import NotificationState, State
from monitor.alerting.routing import show_destination
from monitor.contracts.severity import SEVERITIES
from monitor.store.alerts import alert_events, alerts_active_or_resolved_since
from monitor.store.outbox import failed_notifications, notifications_of_products
from monitor.values.text import iso_time, iso_time_or_none

PENDING = NotificationState.PENDING.value
STATE_ORDER = {State.FIRING: 0, State.PENDING: 1, State.RESOLVED: 2, State.INACTIVE: 3}


def alert_overview(connection: Connection, at: datetime,
                   recent: timedelta = timedelta(days=7)) -> list[dict[str, Any]]:
    """Active alerts and those resolved within `recent`, each with its events and deliveries."""
    cutoff = at - recent
    alerts = alerts_active_or_resolved_since(connection, cutoff)
    if not alerts:
        return []
    events = alert_events(connection, [a.id for a in alerts])
    owner_of_event = {e.id: e.alert_id for e in events}
    earliest = min([cutoff, *(e.at for e in events)])
    notifications = notifications_of_products(connection, {a.product for a in alerts}, earliest)
    by_alert: dict[int, list] = defaultdict(list)
    for n in notifications:
        for alert_id in dict.fromkeys(owner_of_event[e] for e in n.event_ids or []
                                      if e in owner_of_event):
            by_alert[alert_id].append(n)
    events_of: dict[int, list] = defaultdict(list)
    for e in events:
        events_of[e.alert_id].append(e)
    rank = {s: number for number, s in enumerate(SEVERITIES)}
    alerts = sorted(alerts, key=lambda a: (STATE_ORDER.get(a.state, 9), a.product, a.objective,
                                           rank.get(a.severity, 9)))
    return [_alert_json(a, events_of[a.id], by_alert[a.id]) for a in alerts]


def failed_deliveries(connection: Connection, limit: int = 50) -> list[dict[str, Any]]:
    """Notifications that failed for good, newest first: what the dashboard shows as broken."""
    return [_delivery_json(n) for n in failed_notifications(connection, limit)]


def _alert_json(alert, events: list, deliveries: list) -> dict[str, Any]:
    return {
        "product": alert.product, "objective": alert.objective, "condition": alert.condition,
        "severity": alert.severity, "state": alert.state, "episode": alert.episode,
        "since": iso_time_or_none(alert.since), "fired_at": iso_time_or_none(alert.fired_at),
        "resolved_at": iso_time_or_none(alert.resolved_at),
        "last_notified_at": iso_time_or_none(alert.last_sent_at),
        "conditions": alert.conditions or [alert.condition],
        "measured": alert.measured,
        "history": [{"kind": e.kind, "at": iso_time(e.at), "muted_by": e.muted_by, "told": e.told,
                     "measured": e.measured} for e in events],
        "deliveries": [_delivery_json(n) for n in deliveries],
    }


def _delivery_json(n) -> dict[str, Any]:
    payload = n.payload or {}
    return {"id": n.id, "destination": show_destination(n.destination),
            # firing, resolved, or a report's name: `report uptime 2026-10`
            "message": payload.get("status") or " ".join(
                str(payload[key]) for key in ("kind", "report", "month") if key in payload),
            "status": n.status, "attempts": n.attempts,
            "created_at": iso_time(n.created_at), "sent_at": iso_time_or_none(n.sent_at),
            "next_attempt_at": iso_time_or_none(n.next_attempt_at) if n.status == PENDING else None,
            "last_error": n.last_error, "muted_by": n.muted_by, "recipients": n.recipients,
            "product": n.product}
