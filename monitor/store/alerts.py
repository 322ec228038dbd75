"""The alert and alert_event tables: one row per objective and severity, and its history.

Alert rows are created with a target-less ON CONFLICT DO NOTHING (two unique indexes on
PostgreSQL: whichever a concurrent daemon's insert hit, the row exists) and updated only where
their `version` is still the one read, so two daemons record one transition once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, or_, select, update

from monitor.store.dialect import dialect_insert
from monitor.store.states import ACTIVE_STATES, State
from monitor.store.tables import AlertEventRecord, AlertRecord, core_table

ALERT = core_table(AlertRecord)
ALERT_EVENT = core_table(AlertEventRecord)
AlertKey = tuple[str, str, str]  # (product id, objective name, severity)


def create_missing_alerts(connection: Connection, openings: Mapping[AlertKey, str]) -> None:
    """An inactive alert for each (product, objective, severity) that has none yet; the value is
    the condition that would open it."""
    if not openings:
        return
    # no conflict target: whichever unique index a concurrent daemon's insert hit, the row exists
    statement = dialect_insert(connection)(ALERT).on_conflict_do_nothing()
    connection.execute(statement, [
        {"product": product, "objective": objective, "severity": severity, "condition": condition,
         "conditions": [], "told": False, "state": State.INACTIVE.value, "version": 0, "episode": 0}
        for (product, objective, severity), condition in sorted(openings.items())])


def alerts_of_products(connection: Connection, products: Iterable[str]) -> list[Row]:
    """Every alert of `products`, in the order they were created."""
    query = (select(ALERT).where(ALERT.c.product.in_(sorted(set(products))))
             .order_by(ALERT.c.id))
    return list(connection.execute(query).all())


def update_alert(connection: Connection, alert_id: int, version: int,
                 changes: Mapping[str, Any]) -> bool:
    """Write `changes` to the alert if it is still at `version`; False when another writer was
    first."""
    guarded = connection.execute(update(ALERT).where(
        ALERT.c.id == alert_id, ALERT.c.version == version).values(**changes))
    return guarded.rowcount == 1


def record_alert_event(connection: Connection, alert_id: int, episode: int, kind: str,
                       at: datetime, measured: dict[str, Any] | None, promised: dict[str, Any] | None,
                       muted_by: str | None, told: list) -> int:
    """Add one step to an alert's history; returns the event's id."""
    return connection.execute(insert(ALERT_EVENT).values(
        alert_id=alert_id, episode=episode, kind=kind, at=at, measured=measured,
        promised=promised, muted_by=muted_by, told=told).returning(ALERT_EVENT.c.id)).scalar_one()


def alerts_active_or_resolved_since(connection: Connection, since: datetime) -> list[Row]:
    """Alerts pending or firing now, and those resolved at or after `since`."""
    query = select(ALERT).where(or_(ALERT.c.state.in_([s.value for s in ACTIVE_STATES]),
                                    ALERT.c.resolved_at >= since))
    return list(connection.execute(query).all())


def alert_events(connection: Connection, alert_ids: Iterable[int]) -> list[Row]:
    """The history of the alerts `alert_ids`, oldest first."""
    query = (select(ALERT_EVENT).where(ALERT_EVENT.c.alert_id.in_(list(alert_ids)))
             .order_by(ALERT_EVENT.c.at, ALERT_EVENT.c.id))
    return list(connection.execute(query).all())
