"""The event store on SQLite and PostgreSQL: migrations, writes that add up, window sums."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from monitor.slo import Counts
from monitor.store import (
    Event,
    StoreUnavailable,
    migrate,
    open_store,
    record_events,
    series_ids,
    window_counts,
)
from monitor.store.engine import MIGRATIONS
from monitor.store.events import last_event_minutes, minute_counts
from monitor.store.rollups import floor_minute, minute_bucket

NOON = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
KEY = ("shop/orders", "api-availability")


def newest_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def record(store, *events: Event) -> None:
    with store.begin() as connection:
        record_events(connection, events)


def event(at: datetime, good: int, total: int, key=KEY) -> Event:
    return Event(key[0], key[1], at, good, total)


def counts_between(store, start: datetime, end: datetime, key=KEY) -> Counts:
    window = (floor_minute(start), floor_minute(end))
    with store.connect() as connection:
        ids = series_ids(connection, [key], create=False)
        sums = window_counts(connection, list(ids.values()), [window])
    return sums[window].get(ids.get(key), Counts())


def test_migrations_create_the_tables_at_the_newest_revision(store):
    tables = set(inspect(store).get_table_names())
    assert {"series", "event_minute", "event_hour", "alembic_version"} <= tables
    with store.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert version == newest_revision()


def test_migrations_run_again_without_changing_anything(store, store_url):
    record(store, event(NOON, 3, 4))
    migrate(store)
    again = open_store(store_url)
    try:
        with again.connect() as connection:
            rows = connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one()
        assert rows == 1
        assert counts_between(again, NOON - timedelta(hours=1), NOON) == Counts(3, 4)
    finally:
        again.dispose()


def test_recording_the_same_minute_twice_adds_up(store):
    record(store, event(NOON - timedelta(seconds=50), 5, 6))
    record(store, event(NOON - timedelta(seconds=10), 2, 3), event(NOON, 1, 1))
    assert counts_between(store, NOON - timedelta(minutes=1), NOON) == Counts(8, 10)
    with store.connect() as connection:
        (series,) = series_ids(connection, [KEY], create=False).values()
        minutes = minute_counts(connection, series, minute_bucket(NOON) - 5, minute_bucket(NOON))
    assert minutes == [(minute_bucket(NOON), Counts(8, 10))]  # one row for the minute


def test_hour_rollups_and_minute_counts_give_the_same_sums(store):
    # 3 hours of one event a minute: windows over whole hours read the hour table
    start = NOON - timedelta(hours=3)
    record(store, *(event(start + timedelta(minutes=i, seconds=30), i % 2, 1) for i in range(180)))
    assert counts_between(store, start, NOON) == Counts(90, 180)
    assert counts_between(store, start + timedelta(minutes=7), NOON - timedelta(minutes=5)) == \
        Counts(sum(i % 2 for i in range(7, 175)), 168)


def test_an_event_on_a_minute_boundary_belongs_to_the_minute_it_ends(store):
    record(store, event(NOON, 1, 1), event(NOON + timedelta(microseconds=1), 0, 1))
    assert counts_between(store, NOON - timedelta(minutes=1), NOON) == Counts(1, 1)
    assert counts_between(store, NOON, NOON + timedelta(minutes=1)) == Counts(0, 1)


def test_last_event_minute_advances_and_never_goes_back(store):
    def last() -> int:
        with store.connect() as connection:
            (series,) = series_ids(connection, [KEY], create=False).values()
            return last_event_minutes(connection, [series])[series]
    record(store, event(NOON, 1, 1))
    assert last() == minute_bucket(NOON)
    record(store, event(NOON + timedelta(minutes=5), 1, 1))
    assert last() == minute_bucket(NOON) + 5
    record(store, event(NOON - timedelta(hours=2), 1, 1))  # a late backfill
    assert last() == minute_bucket(NOON) + 5


def test_window_counts_for_unknown_series_are_empty(store):
    record(store, event(NOON, 1, 1))
    window = (floor_minute(NOON) - 60, floor_minute(NOON))
    with store.connect() as connection:
        assert series_ids(connection, [("nobody/nothing", "x")], create=False) == {}
        assert window_counts(connection, [], [window]) == {window: {}}
        assert window_counts(connection, [987_654], [window]) == {window: {}}
        (series,) = series_ids(connection, [KEY], create=False).values()
        assert window_counts(connection, [series], [(window[1], window[1] + 60)]) == {
            (window[1], window[1] + 60): {}}


def test_series_of_different_objectives_do_not_mix(store):
    other = ("shop/orders", "api-latency")
    record(store, event(NOON, 1, 2), event(NOON, 7, 7, key=other))
    assert counts_between(store, NOON - timedelta(hours=1), NOON) == Counts(1, 2)
    assert counts_between(store, NOON - timedelta(hours=1), NOON, key=other) == Counts(7, 7)


def test_unreachable_postgres_gives_store_unavailable_without_the_password():
    with pytest.raises(StoreUnavailable) as caught:
        open_store("postgresql+psycopg://u:secretpw@127.0.0.1:1/x")
    message = str(caught.value)
    assert "secretpw" not in message
    assert "cannot open the store postgresql+psycopg://u:***@127.0.0.1:1/x" in message
    assert "127.0.0.1" in message and ("refused" in message or "failed" in message)


def test_sqlite_file_in_a_missing_directory_gives_store_unavailable(tmp_path):
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'meshwatch.db'}"
    with pytest.raises(StoreUnavailable, match="cannot open the store sqlite:///.*unable to open"):
        open_store(url)
