"""Migrations of a store that already holds data: 0004 folds per-condition alerts into one alert
per objective and severity, keeping the most active state and the history."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, Table, insert, select

from monitor.store import open_store
from monitor.store.engine import MIGRATIONS, open_engine
from monitor.store.tables import AlertEventRecord, AlertRecord

T = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
ALERTS, EVENTS = AlertRecord.__table__, AlertEventRecord.__table__


def store_at(url: str, revision: str):
    engine = open_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return engine


def test_per_condition_alerts_fold_into_one_alert_per_objective_and_severity(store_url):
    engine = store_at(store_url, "0003")
    old = open_engine(store_url)
    metadata = MetaData()
    alert = Table("alert", metadata, autoload_with=old)
    event = Table("alert_event", metadata, autoload_with=old)
    with old.begin() as connection:
        ids = []
        for condition, severity, state, sent in [("fast_burn", "page", "firing", True),
                                                  ("sustained_burn", "page", "firing", True),
                                                  ("freshness_breach", "page", "resolved", True),
                                                  ("slow_burn", "ticket", "firing", False)]:
            ids.append(connection.execute(insert(alert).values(
                product="checkout/orders", objective="api-availability", condition=condition,
                severity=severity, state=state, version=1, episode=1, since=T, fired_at=T,
                last_sent_at=T if sent else None).returning(alert.c.id)).scalar_one())
            connection.execute(insert(event).values(alert_id=ids[-1], episode=1, kind="firing",
                                                    at=T, told=[]))
    old.dispose()
    engine.dispose()

    migrated = open_store(store_url)
    with migrated.connect() as connection:
        rows = {r.severity: r for r in connection.execute(select(ALERTS))}
        history = connection.execute(select(EVENTS.c.alert_id, EVENTS.c.kind)).all()
    migrated.dispose()
    assert set(rows) == {"page", "ticket"}
    page, ticket = rows["page"], rows["ticket"]
    assert (page.id, page.state, page.condition) == (ids[0], "firing", "fast_burn")
    assert page.conditions == ["fast_burn", "sustained_burn"]
    assert (page.told, ticket.told) == (True, False)
    # the three page alerts' 'firing' at T collide: one is kept, on the surviving alert
    assert sorted(history) == sorted([(ids[0], "firing"), (ticket.id, "firing")])
