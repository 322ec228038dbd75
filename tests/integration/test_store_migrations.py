"""Migrations of a store that already holds data: 0004 folds per-condition alerts into one alert
per objective and severity, keeping the most active state and the history."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, Table, func, insert, select

from monitor.slo.budget import Counts
from monitor.store import open_store
from monitor.store.engine import MIGRATIONS, open_engine
from monitor.store.events import window_counts
from monitor.store.tables import AlertEventRecord, AlertRecord, EventDay, EventHour, EventMinute

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


def test_0006_fills_the_day_tier_and_the_bad_minutes_and_keeps_every_count(store_url):
    """Counts written by 0005 (minutes and hours), migrated: the same sums from every tier, the
    hours' bad minutes from the minutes, the days from the hours — on PostgreSQL in partitions."""
    engine = store_at(store_url, "0005")
    old = open_engine(store_url)
    metadata = MetaData()
    series = Table("series", metadata, autoload_with=old)
    minutes = Table("event_minute", metadata, autoload_with=old)
    hours = Table("event_hour", metadata, autoload_with=old)
    first = 20_139 * 1440  # the start of a UTC day in 2025, in epoch minutes
    bad = {first + 1, first + 2, first + 61, first + 1500}
    with old.begin() as connection:
        connection.execute(insert(series).values(id=1, product="p/a", objective="availability"))
        rows = [{"series_id": 1, "minute": m, "good": int(m not in bad), "total": 1}
                for m in range(first + 1, first + 2 * 1440 + 1)]
        connection.execute(insert(minutes), rows)
        per_hour: dict[int, list[int]] = {}
        for row in rows:
            counts = per_hour.setdefault((row["minute"] + 59) // 60, [0, 0])
            counts[0] += row["good"]
            counts[1] += 1
        connection.execute(insert(hours), [{"series_id": 1, "hour": h, "good": g, "total": t}
                                           for h, (g, t) in per_hour.items()])
    old.dispose()
    engine.dispose()

    migrated = open_store(store_url)
    with migrated.connect() as connection:
        masks = dict(connection.execute(select(EventHour.__table__.c.hour, EventHour.__table__.c.bad_mask)
                                        .where(EventHour.__table__.c.bad_mask != 0)).all())
        seen = set(connection.execute(select(EventHour.__table__.c.seen_mask)).scalars())
        days = connection.execute(select(EventDay.__table__.c.day, EventDay.__table__.c.good,
                                         EventDay.__table__.c.total).order_by("day")).all()
        sums = window_counts(connection, [1], [(first, first + 2 * 1440), (first + 30, first + 1470)])
        stored = connection.execute(select(func.count()).select_from(EventMinute.__table__)).scalar()
    migrated.dispose()
    hour = first // 60
    assert masks == {hour + 1: 0b11, hour + 2: 0b1, hour + 25: 1 << 59}
    assert seen == {(1 << 60) - 1}  # every minute of every hour held an event
    assert days == [(first // 1440 + 1, 1437, 1440), (first // 1440 + 2, 1439, 1440)]
    assert sums[(first, first + 2 * 1440)][1] == Counts(2 * 1440 - 4, 2 * 1440)
    assert sums[(first + 30, first + 1470)][1] == Counts(1440 - 1, 1440)  # minute 61 (not 1500)
    assert stored == 2 * 1440
