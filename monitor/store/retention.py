"""How long each tier of the store is kept, what a prune removes, and what each tier holds.

Tiers (the names of `meshwatch store stats --json`):
- `minute`: the counts per minute (and the skipped runs per minute), kept `minutes` (40 d);
- `hour`: the counts per hour with their bad minutes, kept `hours` (762 d, about 25 months);
- `day`: the counts per day, kept for ever (a few hundred bytes per objective and year);
- `probe_results`: single probe results and heartbeats, kept `probe_results` (14 d);
- `alert_history`: alert events and finished notifications, kept `alert_history` (400 d); the
  events of an alert that is pending or firing, and notifications not yet finished, stay.

Prunes keep whole UTC days of minutes and whole UTC months of hours, so a PostgreSQL store drops
whole partitions (partitions.py); SQLite deletes in batches of at most BATCH rows per
transaction. A pruned tier records its horizon (`tier_horizon`), and windows reaching past it read
the next coarser tier (rollups.split_window): a month's sums — and its downtime minutes, kept in
the hours' bad minutes — are the same before and after its minutes are pruned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, and_, delete, func, not_, select, text, tuple_
from sqlalchemy.exc import OperationalError

from monitor.store import partitions
from monitor.store.dialect import dialect_insert
from monitor.store.rollups import MINUTES_PER_DAY, MINUTES_PER_HOUR, Tier, minute_bucket, minute_time
from monitor.store.states import ACTIVE_STATES, NotificationState
from monitor.store.tables import (
    AlertEventRecord,
    AlertRecord,
    EventDay,
    EventHour,
    EventMinute,
    HeartbeatRecord,
    NotificationRecord,
    ProbeRecord,
    Series,
    SkippedRun,
    TierHorizon,
    core_table,
)

BATCH = 10_000  # rows per DELETE transaction on SQLite, and series per batch of counts
FINISHED = (NotificationState.SENT, NotificationState.FAILED, NotificationState.MUTED)


@dataclass(frozen=True)
class Retention:
    """How long each tier is kept (the settings' `store.retention`)."""

    minutes: timedelta = timedelta(days=40)
    hours: timedelta = timedelta(days=762)
    probe_results: timedelta = timedelta(days=14)
    alert_history: timedelta = timedelta(days=400)


DEFAULT_RETENTION = Retention()


def retention_by_tier(retention: Retention) -> dict[str, timedelta | None]:
    """How long each tier of `tier_stats` is kept (None: for ever)."""
    return {Tier.MINUTE.value: retention.minutes, Tier.HOUR.value: retention.hours,
            Tier.DAY.value: None, "probe_results": retention.probe_results,
            "alert_history": retention.alert_history}


@dataclass
class Pruned:
    """What a prune removed (or, dry, would remove) from one tier: rows older than `before`."""

    tier: str
    before: datetime
    rows: int = 0
    partitions: list[str] = field(default_factory=list)
    estimated: bool = False  # rows of dropped partitions are PostgreSQL's estimate (reltuples)

    def as_json(self) -> dict:
        return {"before": _iso(self.before), "rows": self.rows, "partitions": self.partitions,
                "rows_estimated": self.estimated}


def horizons(retention: Retention, now: datetime) -> dict[str, datetime]:
    """Per tier, the time before which it is pruned: whole UTC days for minutes and probe
    results, whole UTC months for hours, the exact time for the alert history."""
    def day_start(at: datetime) -> datetime:
        return datetime(at.year, at.month, at.day, tzinfo=UTC)

    hours = (now - retention.hours).astimezone(UTC)
    return {"minute": day_start((now - retention.minutes).astimezone(UTC)),
            "hour": datetime(hours.year, hours.month, 1, tzinfo=UTC),
            "probe_results": day_start((now - retention.probe_results).astimezone(UTC)),
            "alert_history": (now - retention.alert_history).astimezone(UTC)}


def prune(engine: Engine, retention: Retention, now: datetime, dry_run: bool = False
          ) -> list[Pruned]:
    """Remove what is older than its tier's retention (dry: count it); returns one entry per
    tier. On PostgreSQL, only one process prunes at a time (an advisory lock): another finds
    nothing to do, since prunes are idempotent."""
    before = horizons(retention, now)
    minute_first = minute_bucket(before["minute"]) + 1  # the first minute bucket kept
    hour_first = minute_bucket(before["hour"]) // MINUTES_PER_HOUR + 1
    return [
        _counts(engine, partitions.MINUTES, Tier.MINUTE, minute_first, before["minute"], dry_run,
                extra=(core_table(SkippedRun), "minute")),
        _counts(engine, partitions.HOURS, Tier.HOUR, hour_first, before["hour"], dry_run),
        _probe_results(engine, before["probe_results"], dry_run),
        _alert_history(engine, before["alert_history"], dry_run),
    ]


def _counts(engine: Engine, table: partitions.Partitioned, tier: Tier, first: int,
            before: datetime, dry_run: bool, extra: tuple | None = None) -> Pruned:
    """Prune the buckets of a count tier older than `first` (and of `extra`, a table with the
    same bucket column). The tier's horizon moves first, so windows read the coarser tier for
    what is about to go; on PostgreSQL each partition is then dropped in a transaction of its
    own, so the lock a drop takes on the table is held for one partition at a time."""
    found = Pruned(tier.value, before)
    if not dry_run:
        with engine.begin() as connection:
            _advance_horizon(connection, tier, first)
    with engine.begin() as connection:
        partitioned = partitions.is_partitioned(connection)
        old = partitions.droppable(connection, table, first) if partitioned else []
        found.partitions = [p.name for p in old]
        found.rows += sum(_estimated_rows(connection, p.name) for p in old)
        found.estimated = bool(old)
    if partitioned:
        default = f"{table.table}_default"
        with engine.begin() as connection:
            if dry_run:
                found.rows += connection.execute(text(
                    f"SELECT count(*) FROM {default} WHERE {table.column} < :first"),
                    {"first": first}).scalar_one()
            else:
                found.rows += connection.execute(text(
                    f"DELETE FROM {default} WHERE {table.column} < :first"), {"first": first}).rowcount
        for partition in [] if dry_run else old:
            with engine.begin() as connection:
                partitions.lock(connection)
                partitions.drop(connection, [partition])
    else:
        core = core_table(EventMinute if tier is Tier.MINUTE else EventHour)
        found.rows += _delete_per_series(engine, core, table.column, first, dry_run)
    if extra is not None:
        extra_table, column = extra
        key = [extra_table.c[c.name] for c in extra_table.primary_key.columns]
        found.rows += _delete_batched(engine, extra_table, extra_table.c[column] < first, key, dry_run)
    return found


def _estimated_rows(connection: Connection, name: str) -> int:
    estimate = connection.execute(text("SELECT reltuples FROM pg_class WHERE relname = :name"),
                                  {"name": name}).scalar()
    if estimate is None or estimate < 0:  # never analysed: count it
        return connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
    return int(estimate)


def _delete_per_series(engine: Engine, table, column: str, first: int, dry_run: bool) -> int:
    """SQLite: the buckets before `first`, deleted BATCH series at a time — each a range of the
    primary key (series_id, bucket) — in transactions of their own."""
    with engine.connect() as connection:
        ids = list(connection.execute(select(core_table(Series).c.id).order_by(core_table(Series).c.id))
                   .scalars())
    removed = 0
    step = max(1, BATCH // 1000)  # about a thousand buckets per series per daily prune
    for at in range(0, len(ids), step):
        chosen = table.c.series_id.in_(ids[at:at + step])
        with engine.begin() as connection:
            if dry_run:
                removed += connection.execute(select(func.count()).select_from(table).where(
                    chosen, table.c[column] < first)).scalar_one()
            else:
                removed += connection.execute(delete(table).where(
                    chosen, table.c[column] < first)).rowcount
    return removed


def _delete_batched(engine: Engine, table, condition, key: list, dry_run: bool) -> int:
    """Delete the rows matching `condition`, at most BATCH per transaction (a table without a
    time-ordered id: the skipped runs)."""
    if dry_run:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(table).where(condition)
                                      ).scalar_one()
    removed = 0
    while True:
        with engine.begin() as connection:
            chosen = select(*key).where(condition).limit(BATCH)
            selected = key[0] if len(key) == 1 else tuple_(*key)
            count = connection.execute(delete(table).where(selected.in_(chosen))).rowcount
        removed += count
        if count < BATCH:
            return removed


def _delete_old(engine: Engine, table, at, before: datetime, dry_run: bool, removable=None) -> int:
    """Delete the rows of `table` whose time `at` is before `before` (and that are `removable`),
    BATCH ids at a time, oldest ids first, each range read through the primary key. Ids grow with
    time, so the first range that holds rows but none older than `before` ends the prune: it
    never scans the rows it keeps."""
    ids = table.c.id
    with engine.connect() as connection:
        low = connection.execute(select(func.min(ids))).scalar()
    removed = 0
    while low is not None:
        within = and_(ids >= low, ids < low + BATCH)
        old = and_(within, at < before)
        chosen = old if removable is None else and_(old, removable)
        with engine.begin() as connection:
            if not connection.execute(select(select(ids).where(old).exists())).scalar():
                return removed  # a range of rows all kept: the rest are newer still
            if dry_run:
                removed += connection.execute(select(func.count()).select_from(table)
                                              .where(chosen)).scalar_one()
            else:
                removed += connection.execute(delete(table).where(chosen)).rowcount
            low = connection.execute(select(func.min(ids)).where(ids >= low + BATCH)).scalar()
    return removed


def _probe_results(engine: Engine, before: datetime, dry_run: bool) -> Pruned:
    found = Pruned("probe_results", before)
    results, beats = core_table(ProbeRecord), core_table(HeartbeatRecord)
    found.rows += _delete_old(engine, results, results.c.started_at, before, dry_run)
    found.rows += _delete_old(engine, beats, beats.c.received_at, before, dry_run)
    return found


def _alert_history(engine: Engine, before: datetime, dry_run: bool) -> Pruned:
    """Alert events older than `before`, but never those of an episode still pending or firing;
    notifications created before it that are finished (sent, failed for good, muted)."""
    found = Pruned("alert_history", before)
    events, alerts = core_table(AlertEventRecord), core_table(AlertRecord)
    live = select(alerts.c.id).where(alerts.c.id == events.c.alert_id,
                                     alerts.c.episode == events.c.episode,
                                     alerts.c.state.in_([s.value for s in ACTIVE_STATES]))
    found.rows += _delete_old(engine, events, events.c.at, before, dry_run, not_(live.exists()))
    outbox = core_table(NotificationRecord)
    found.rows += _delete_old(engine, outbox, outbox.c.created_at, before, dry_run,
                              outbox.c.status.in_([s.value for s in FINISHED]))
    return found


def _advance_horizon(connection: Connection, tier: Tier, first: int) -> None:
    table = core_table(TierHorizon)
    insert = dialect_insert(connection)(table).values(tier=tier.value, first=first)
    connection.execute(insert.on_conflict_do_update(
        index_elements=["tier"],
        set_={"first": func.max(table.c.first, insert.excluded.first)
              if connection.dialect.name == "sqlite" else func.greatest(table.c.first,
                                                                        insert.excluded.first)}))


# --- what each tier holds -----------------------------------------------------------------------


@dataclass(frozen=True)
class TierStats:
    rows: int
    oldest: datetime | None
    newest: datetime | None
    bytes: int | None
    rows_estimated: bool = False

    def as_json(self) -> dict:
        return {"rows": self.rows, "oldest": _iso(self.oldest), "newest": _iso(self.newest),
                "bytes": self.bytes, "rows_estimated": self.rows_estimated}


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def tier_stats(connection: Connection) -> dict[str, TierStats]:
    """Per tier, its rows, the time of its oldest and newest bucket (or row), and its size on
    disk. On PostgreSQL the partitioned tiers' rows are the planner's estimate."""
    series = core_table(Series)
    found: dict[str, TierStats] = {}
    for tier, model, scale in ((Tier.MINUTE, EventMinute, 1), (Tier.HOUR, EventHour, MINUTES_PER_HOUR),
                               (Tier.DAY, EventDay, MINUTES_PER_DAY)):
        table = core_table(model)
        bucket = table.c[tier.value]
        # the oldest and newest bucket of each series (a seek in the primary key), then of all
        first = select(func.min(bucket)).where(table.c.series_id == series.c.id).scalar_subquery()
        last = select(func.max(bucket)).where(table.c.series_id == series.c.id).scalar_subquery()
        oldest, newest = connection.execute(select(func.min(first), func.max(last))).one()
        rows, estimated = _rows(connection, table.name)
        found[tier.value] = TierStats(
            rows, None if oldest is None else minute_time((int(oldest) - 1) * scale),
            None if newest is None else minute_time(int(newest) * scale),
            _bytes(connection, table.name), estimated)
    results = core_table(ProbeRecord)
    found["probe_results"] = _timed(connection, [(results, results.c.started_at)])
    events, outbox = core_table(AlertEventRecord), core_table(NotificationRecord)
    found["alert_history"] = _timed(connection, [(events, events.c.at), (outbox, outbox.c.created_at)])
    return found


def _timed(connection: Connection, tables: list) -> TierStats:
    rows, oldest, newest, size = 0, [], [], 0
    for table, column in tables:
        count, first, last = connection.execute(
            select(func.count(), func.min(column), func.max(column)).select_from(table)).one()
        rows += count
        oldest += [first] if first else []
        newest += [last] if last else []
        size += _bytes(connection, table.name) or 0
    return TierStats(rows, min(oldest, default=None), max(newest, default=None), size)


def _rows(connection: Connection, name: str) -> tuple[int, bool]:
    if connection.dialect.name == "postgresql" and name in {p.table for p in partitions.PARTITIONED}:
        estimate = connection.execute(text(
            "SELECT coalesce(sum(greatest(c.reltuples, 0)), 0) FROM pg_partition_tree(:name) t "
            "JOIN pg_class c ON c.oid = t.relid WHERE t.isleaf"), {"name": name}).scalar_one()
        return int(estimate), True
    return connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one(), False


def _bytes(connection: Connection, name: str) -> int | None:
    """The table's size with its indexes (and its partitions'); None when the database will not say."""
    if connection.dialect.name == "postgresql":  # a partitioned table's size is its partitions'
        return int(connection.execute(text(
            "SELECT coalesce((SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree(:name)), "
            "pg_total_relation_size(CAST(:name AS regclass)))"), {"name": name}).scalar_one())
    try:  # the dbstat table (SQLITE_ENABLE_DBSTAT_VTAB): the table's pages and its indexes'
        return int(connection.execute(text(
            "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = :name OR name IN "
            "(SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :name)"),
            {"name": name}).scalar_one())
    except OperationalError:  # a build without dbstat
        return None

