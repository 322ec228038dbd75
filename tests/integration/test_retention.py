"""Retention on both stores: each tier pruned to its own horizon, reports and window sums of a
month identical before and after its minutes are pruned, PostgreSQL partitions dropped whole,
and the `store prune` / `store stats` commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select, text
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.config.loading import load_config
from monitor.contracts.results import ProbeResult
from monitor.daemon.scheduler import Daemon
from monitor.reports.months import Month
from monitor.reports.render import render
from monitor.reports.uptime import uptime_report
from monitor.slo.budget import Counts
from monitor.store import Event, open_store, partitions, record_events, series_ids
from monitor.store.events import window_counts
from monitor.store.measurements import record_heartbeat, record_probe_results
from monitor.store.reads import bucket_counts
from monitor.store.retention import Retention, prune
from monitor.store.rollups import floor_minute, minute_bucket
from monitor.store.states import NotificationState, State
from monitor.store.tables import (
    AlertEventRecord,
    AlertRecord,
    EventDay,
    EventHour,
    EventMinute,
    HeartbeatRecord,
    NotificationRecord,
    ProbeRecord,
    SkippedRun,
    core_table,
)
from tests.support.report_mesh import fill_october, write_config

# Everything of October 2025 is older than 40 days at NOW: its minutes are pruned, its hours kept.
NOW = datetime(2025, 12, 15, 12, 0, tzinfo=UTC)
OCTOBER = datetime(2025, 10, 1, tzinfo=UTC)
NOVEMBER = datetime(2025, 11, 1, tzinfo=UTC)


def count(connection, model, *where) -> int:
    return connection.execute(select(func.count()).select_from(core_table(model)).where(*where)
                              ).scalar_one()


def reports(config, engine) -> dict[str, str]:
    """The October report, every figure, in UTC and in Europe/Amsterdam (a month from 22:00
    UTC on 30 September)."""
    with engine.connect() as connection:
        return {zone: render(uptime_report(connection, config.registry.products.values(),
                                           Month(2025, 10), zone, NOW), "json")
                for zone in ("UTC", "Europe/Amsterdam")}


def month_sums(engine) -> dict:
    windows = [(floor_minute(OCTOBER), floor_minute(NOVEMBER)),
               (floor_minute(OCTOBER - timedelta(hours=2)), floor_minute(NOVEMBER - timedelta(hours=1)))]
    with engine.connect() as connection:
        ids = list(series_ids(connection, [("checkout/orders", "api-availability"),
                                           ("cart/events", "lake-availability")],
                              create=False).values())
        return window_counts(connection, ids, windows)


def test_a_months_report_and_sums_are_the_same_after_its_minutes_are_pruned(store_url, tmp_path):
    engine = open_store(store_url)
    fill_october(engine)
    config = load_config(write_config(tmp_path, store_url))
    before, sums = reports(config, engine), month_sums(engine)
    assert json.loads(before["UTC"])["products"][0]["downtime_minutes"] is not None

    pruned = {p.tier: p for p in prune(engine, Retention(), NOW)}

    assert pruned["minute"].before == datetime(2025, 11, 5, tzinfo=UTC)  # whole days: 40 d back
    assert pruned["minute"].rows > 44_640  # all of October's minutes (and 30 September's)
    assert pruned["hour"].rows == 0  # kept 762 days
    with engine.connect() as connection:
        assert count(connection, EventMinute) == 0
        assert count(connection, EventHour) > 0 and count(connection, EventDay) > 0
    assert reports(config, engine) == before
    assert month_sums(engine) == sums


def test_a_window_in_pruned_minutes_reads_the_whole_hours_that_cover_it(store_url):
    engine = open_store(store_url)
    fill_october(engine)
    start = floor_minute(datetime(2025, 10, 10, 12, 7, tzinfo=UTC))
    end = floor_minute(datetime(2025, 10, 20, 8, 13, tzinfo=UTC))
    covering = (start - 7, end + 47)  # 12:00 .. 09:00

    def sums(window):
        with engine.connect() as connection:
            series = series_ids(connection, [("checkout/orders", "api-availability")],
                                create=False)[("checkout/orders", "api-availability")]
            chart = bucket_counts(connection, [series], *window, "hour")[series]
            return (window_counts(connection, [series], [window])[window][series],
                    sum((counts for _, counts in chart), Counts()))

    whole = sums(covering)
    assert sums((start, end))[0].total == end - start  # one event a minute, before the prune
    prune(engine, Retention(), NOW)
    assert sums((start, end)) == whole == (whole[0], whole[0])
    assert whole[0].total == covering[1] - covering[0]


def test_each_tier_is_pruned_to_its_own_retention(store_url):
    engine = open_store(store_url)
    old, recent = NOW - timedelta(days=50), NOW - timedelta(days=2)
    with engine.begin() as connection:
        record_events(connection, [Event("p/a", "availability", at, 1, 1) for at in (old, recent)])
        record_probe_results(connection, [
            ProbeResult("p/a", "api", "http", NOW - timedelta(days=20), ok=True),
            ProbeResult("p/a", "api", "http", recent, ok=True)])
        record_heartbeat(connection, "p/a", "pipe", NOW - timedelta(days=20), True, None, None)
        connection.execute(insert(core_table(SkippedRun)), [
            {"product": "p/a", "port": "api", "minute": minute_bucket(old), "runs": 1},
            {"product": "p/a", "port": "api", "minute": minute_bucket(recent), "runs": 1}])
        resolved, firing = (connection.execute(insert(core_table(AlertRecord)).values(
            product="p/a", objective="availability", condition=condition, severity=severity,
            state=state, episode=1)).inserted_primary_key[0]
            for condition, severity, state in (("fast_burn", "page", State.RESOLVED),
                                               ("slow_burn", "ticket", State.FIRING)))
        long_ago = NOW - timedelta(days=500)
        connection.execute(insert(core_table(AlertEventRecord)), [
            {"alert_id": resolved, "episode": 1, "kind": "firing", "at": long_ago},
            {"alert_id": resolved, "episode": 1, "kind": "resolved", "at": long_ago},
            {"alert_id": firing, "episode": 1, "kind": "firing", "at": long_ago}])
        connection.execute(insert(core_table(NotificationRecord)), [
            {"group_key": f"g{n}", "destination": "email:a@example.com", "product": "p/a",
             "status": status.value, "created_at": long_ago, "attempts": 0}
            for n, status in enumerate((NotificationState.SENT, NotificationState.PENDING))])

    dry = {p.tier: p.rows for p in prune(engine, Retention(), NOW, dry_run=True)}
    with engine.connect() as connection:
        assert count(connection, EventMinute) == 2  # a dry run removes nothing
    done = {p.tier: p.rows for p in prune(engine, Retention(), NOW)}

    assert dry == done == {"minute": 2, "hour": 0, "probe_results": 2, "alert_history": 3}
    with engine.connect() as connection:
        assert count(connection, EventMinute) == 1 and count(connection, EventHour) == 2
        assert count(connection, EventDay) == 2  # days are kept for ever
        assert count(connection, SkippedRun) == 1
        assert count(connection, ProbeRecord) == 1 and count(connection, HeartbeatRecord) == 0
        # the firing alert's episode keeps its history; the pending notification stays
        events = core_table(AlertEventRecord)
        assert connection.execute(select(events.c.alert_id)).scalars().all() == [firing]
        outbox = core_table(NotificationRecord)
        assert connection.execute(select(outbox.c.status)).scalars().all() == ["pending"]
    again = {p.tier: p.rows for p in prune(engine, Retention(), NOW)}
    assert again == {"minute": 0, "hour": 0, "probe_results": 0, "alert_history": 0}


def test_shorter_hour_retention_leaves_the_days(store_url):
    engine = open_store(store_url)
    with engine.begin() as connection:
        record_events(connection, [Event("p/a", "availability", NOW - timedelta(days=90), 0, 1)])
    pruned = {p.tier: p for p in prune(engine, Retention(minutes=timedelta(days=10),
                                                         hours=timedelta(days=30)), NOW)}
    assert pruned["hour"].before == datetime(2025, 11, 1, tzinfo=UTC)  # whole months of hours
    assert (pruned["minute"].rows, pruned["hour"].rows) == (1, 1)
    with engine.connect() as connection:
        ids = list(series_ids(connection, [("p/a", "availability")], create=False).values())
        start = floor_minute(NOW - timedelta(days=91))
        # a window reaching back past the hours reads the day, from the day's start
        sums = window_counts(connection, ids, [(start + 17, floor_minute(NOW))])
    assert sums[(start + 17, floor_minute(NOW))][ids[0]].bad == 1


@pytest.mark.postgres
def test_postgres_keeps_minutes_in_day_partitions_and_drops_them_whole(postgres_url):
    engine = open_store(postgres_url)
    late = datetime(2025, 10, 3, 6, 0, 30, tzinfo=UTC)
    with engine.begin() as connection:  # no partition for October yet: the default holds it
        record_events(connection, [Event("p/a", "availability", late, 1, 1)])
        assert connection.execute(text("SELECT count(*) FROM event_minute_default")).scalar() == 1
    with engine.begin() as connection:
        created = partitions.ensure(connection, partitions.MINUTES, minute_bucket(OCTOBER) + 1,
                                    minute_bucket(NOVEMBER))
        assert created[0] == "event_minute_20251001" and len(created) == 31
        assert connection.execute(text("SELECT count(*) FROM event_minute_default")).scalar() == 0
        assert connection.execute(text("SELECT count(*) FROM event_minute_20251003")).scalar() == 1
        record_events(connection, [Event("p/a", "availability", late + timedelta(days=1), 1, 1)])
        assert connection.execute(text("SELECT count(*) FROM event_minute_20251004")).scalar() == 1

    pruned = {p.tier: p for p in prune(engine, Retention(), NOW)}

    dropped = pruned["minute"].partitions  # those of October, none from 5 November on
    assert dropped == sorted(dropped) and dropped[:31] == created
    assert all(name < "event_minute_20251105" for name in dropped)
    with engine.connect() as connection:
        names = {p.name for p in partitions.existing(connection, partitions.MINUTES)}
        assert not any(name.startswith("event_minute_202510") for name in names)
        assert count(connection, EventMinute) == 0 and count(connection, EventHour) == 2


def test_store_prune_and_stats_say_what_they_did(store_url, tmp_path, monkeypatch):
    config = write_config(tmp_path, store_url, contracts={})
    engine = open_store(store_url)
    old = datetime.now(UTC) - timedelta(days=45)
    with engine.begin() as connection:
        record_events(connection, [Event("p/a", "availability", old, 1, 1),
                                   Event("p/a", "availability", datetime.now(UTC), 0, 1)])
    runner = CliRunner()

    stats = json.loads(runner.invoke(app, ["store", "stats", "-c", str(config), "--json"]).stdout)
    minute = stats["tiers"]["minute"]
    assert set(stats["tiers"]) == {"minute", "hour", "day", "probe_results", "alert_history"}
    assert minute["retention"] == "40d" and stats["tiers"]["day"]["retention"] is None
    assert all(tier["bytes"] > 0 for tier in stats["tiers"].values())  # partitioned or not
    assert minute["oldest"] == (datetime.fromtimestamp((minute_bucket(old) - 1) * 60, UTC)
                                .isoformat().replace("+00:00", "Z"))
    if not minute["rows_estimated"]:
        assert minute["rows"] == 2

    dry = runner.invoke(app, ["store", "prune", "--dry-run", "-c", str(config), "--json"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["tiers"]["minute"]["rows"] == 1
    said = runner.invoke(app, ["store", "prune", "-c", str(config)])
    assert said.exit_code == 0, said.output
    assert "minute: removed 1 row(s) before" in said.stdout
    with engine.connect() as connection:
        assert count(connection, EventMinute) == 1


def test_retention_settings_are_checked_and_read_from_the_environment(tmp_path, monkeypatch):
    directory = write_config(tmp_path, "sqlite:///x.db", contracts={})
    with open(directory / "meshwatch.yaml", "a") as settings:
        settings.write("store:\n  retention:\n    minutes: 12h\n")
    problems = [str(p) for p in load_config(directory).problems]
    assert any("meshwatch.yaml:5" in p and "at least 1d" in p for p in problems), problems

    monkeypatch.setenv("MESHWATCH_STORE__RETENTION__MINUTES", "20d")
    monkeypatch.setenv("MESHWATCH_STORE__RETENTION__ALERT_HISTORY", "2y")
    kept = load_config(directory).settings.retention()
    assert (kept.minutes, kept.alert_history) == (timedelta(days=20), timedelta(days=730))


async def test_the_daemon_prunes_on_its_own_and_says_what(store, tmp_path, clock, caplog):
    directory = write_config(tmp_path, "sqlite:///unused.db", contracts={})
    with open(directory / "meshwatch.yaml", "a") as settings:
        settings.write("store:\n  retention:\n    probe_results: 3d\n")
    with store.begin() as connection:
        record_probe_results(connection, [
            ProbeResult("p/a", "api", "http", clock() - timedelta(days=5), ok=True),
            ProbeResult("p/a", "api", "http", clock() - timedelta(hours=1), ok=True)])
    daemon = Daemon(load_config(directory), store, clock=clock)
    await daemon.start()
    try:
        with caplog.at_level("INFO", logger="meshwatch.daemon"):
            await daemon._prune()
    finally:
        await daemon.stop()
    with store.connect() as connection:
        assert count(connection, ProbeRecord) == 1
    assert any("pruned 1 row(s) of probe_results before" in r.getMessage() for r in caplog.records)


def test_old_probe_results_go_in_batches_of_ids_and_the_prune_stops_at_the_kept_ones(
        store_url, monkeypatch):
    import monitor.store.retention as retention

    monkeypatch.setattr(retention, "BATCH", 3)
    engine = open_store(store_url)
    with engine.begin() as connection:  # ids grow with time: 7 old results, then 5 recent ones
        record_probe_results(connection, [
            ProbeResult("p/a", "api", "http", NOW - timedelta(days=30 - n), ok=True) for n in range(7)]
            + [ProbeResult("p/a", "api", "http", NOW - timedelta(hours=n), ok=True) for n in range(5)])
    assert {p.tier: p.rows for p in prune(engine, Retention(), NOW, dry_run=True)}["probe_results"] == 7
    assert {p.tier: p.rows for p in prune(engine, Retention(), NOW)}["probe_results"] == 7
    with engine.connect() as connection:
        assert count(connection, ProbeRecord) == 5
        kept = core_table(ProbeRecord).c.started_at
        assert count(connection, ProbeRecord, kept < NOW - timedelta(days=14)) == 0
