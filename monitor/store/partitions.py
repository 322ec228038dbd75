"""PostgreSQL stores keep the minute and hour counts in partitions by time, so retention drops
whole partitions instead of deleting rows one by one.

- `event_minute` has one partition per UTC day (`event_minute_20261203`: minute buckets
  (00:00, 24:00] of that day), `event_hour` one per UTC month (`event_hour_202612`).
- Each also has a DEFAULT partition: a write outside every partition (a daemon that was down for
  days, an import of old history) lands there, never lost. When the partition for its range is
  created later, its rows move out of the default first.
- The daemon creates partitions ahead (`ensure_ahead`: today and the next days) at its start and
  at every prune round; a store's existing rows were given their partitions by migration 0006.

SQLite has no partitions; its tiers are pruned by bounded DELETEs (retention.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, text

from monitor.store.rollups import MINUTES_PER_DAY, MINUTES_PER_HOUR, Tier, minute_bucket

DAYS_AHEAD = 3  # partitions the daemon keeps ready beyond today
LOCK_TIMEOUT = "5s"  # how long partition DDL waits for writers before it gives up for this round
# the advisory lock under which partitions are created and dropped: workers take turns
PARTITION_LOCK = int.from_bytes(b"mwparts!", "big")


@dataclass(frozen=True)
class Partitioned:
    """A partitioned count table: its name, its bucket column and the bucket's tier."""

    table: str
    column: str
    tier: Tier


MINUTES = Partitioned("event_minute", "minute", Tier.MINUTE)
HOURS = Partitioned("event_hour", "hour", Tier.HOUR)
PARTITIONED = (MINUTES, HOURS)


@dataclass(frozen=True)
class Partition:
    """One partition: buckets `first` ≤ b < `end` of its table."""

    table: Partitioned
    name: str
    first: int
    end: int


def is_partitioned(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def partition_of(table: Partitioned, bucket: int) -> Partition:
    """The partition that holds `bucket` (a minute or hour bucket, named by its end)."""
    if table.tier is Tier.MINUTE:
        day = (bucket - 1) // MINUTES_PER_DAY
        first_day = date(1970, 1, 1) + timedelta(days=day)
        return Partition(table, f"{table.table}_{first_day:%Y%m%d}",
                         day * MINUTES_PER_DAY + 1, (day + 1) * MINUTES_PER_DAY + 1)
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(hours=bucket - 1)
    start = datetime(moment.year, moment.month, 1, tzinfo=UTC)
    following = datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)
    return Partition(table, f"{table.table}_{start:%Y%m}", _hours(start) + 1, _hours(following) + 1)


def _hours(at: datetime) -> int:
    return minute_bucket(at) // MINUTES_PER_HOUR


def partitions_between(table: Partitioned, first: int, last: int) -> Iterator[Partition]:
    """The partitions that hold buckets first..last, oldest first."""
    bucket = first
    while bucket <= last:
        partition = partition_of(table, bucket)
        yield partition
        bucket = partition.end


_NAME = re.compile(r"^(event_minute|event_hour)_(\d{6}|\d{8})$")


def existing(connection: Connection, table: Partitioned) -> list[Partition]:
    """The table's time partitions in the database, oldest first (the default one aside)."""
    names = connection.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :table"),
        {"table": table.table}).scalars()
    found = []
    for name in names:
        match = _NAME.match(name)
        if match is None:
            continue
        stamp = match.group(2)
        if table.tier is Tier.MINUTE:
            day = datetime.strptime(stamp, "%Y%m%d").replace(tzinfo=UTC)
            bucket = minute_bucket(day) + 1
        else:
            month = datetime.strptime(stamp, "%Y%m").replace(tzinfo=UTC)
            bucket = _hours(month) + 1
        found.append(partition_of(table, bucket))
    return sorted(found, key=lambda p: p.first)


def ensure(connection: Connection, table: Partitioned, first: int, last: int) -> list[str]:
    """Create the partitions that hold buckets first..last and do not exist yet; rows of their
    ranges waiting in the default partition move into them. Returns the names created."""
    lock(connection)
    have = {p.name for p in existing(connection, table)}
    created = []
    for partition in partitions_between(table, first, last):
        if partition.name in have:
            continue
        _create(connection, partition)
        created.append(partition.name)
    return created


def _create(connection: Connection, partition: Partition) -> None:
    """A partition is created beside its table, filled from the default partition's rows of its
    range, then attached: attaching checks the default holds none of them any more."""
    table, name = partition.table, partition.name
    bounds = {"first": partition.first, "end": partition.end}
    connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    connection.execute(text(f"CREATE TABLE {name} (LIKE {table.table} INCLUDING DEFAULTS "
                            "INCLUDING CONSTRAINTS)"))
    connection.execute(text(f"ALTER TABLE {name} ADD PRIMARY KEY (series_id, {table.column})"))
    connection.execute(text(
        f"WITH moved AS (DELETE FROM {table.table}_default WHERE {table.column} >= :first "
        f"AND {table.column} < :end RETURNING *) INSERT INTO {name} SELECT * FROM moved"), bounds)
    connection.execute(text(f"ALTER TABLE {table.table} ATTACH PARTITION {name} "
                            f"FOR VALUES FROM ({partition.first}) TO ({partition.end})"))


def ensure_ahead(connection: Connection, now: datetime, days: int = DAYS_AHEAD) -> list[str]:
    """Partitions for the minutes and hours from yesterday to `days` days after `now`."""
    if not is_partitioned(connection):
        return []
    first = minute_bucket(now - timedelta(days=1))
    last = minute_bucket(now + timedelta(days=days))
    return (ensure(connection, MINUTES, first, last)
            + ensure(connection, HOURS, -(-first // MINUTES_PER_HOUR), -(-last // MINUTES_PER_HOUR)))


def create_partitioned(connection: Connection, table: Partitioned, columns: str) -> None:
    """Create `table` partitioned by range of its bucket, with its default partition."""
    connection.execute(text(f"CREATE TABLE {table.table} ({columns}, PRIMARY KEY "
                            f"(series_id, {table.column})) PARTITION BY RANGE ({table.column})"))
    connection.execute(text(f"CREATE TABLE {table.table}_default PARTITION OF {table.table} DEFAULT"))


def droppable(connection: Connection, table: Partitioned, horizon: int) -> list[Partition]:
    """The partitions holding only buckets before `horizon`."""
    return [p for p in existing(connection, table) if p.end <= horizon]


def lock(connection: Connection) -> None:
    """Take the partitions' lock until the transaction ends (several workers may prune)."""
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PARTITION_LOCK})


def drop(connection: Connection, partitions: list[Partition]) -> None:
    """Drop partitions found by `droppable` in the same transaction, under `lock`."""
    if not partitions:
        return
    connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    for partition in partitions:
        connection.execute(text(f"DROP TABLE IF EXISTS {partition.name}"))  # another worker's prune
