"""Workers and shard leases: how several `meshwatch run` processes divide a mesh through its store.

A product belongs to one of `SHARDS` shards (a hash of its id). A worker holds a shard while its
lease row names it and has not expired; taking a shard over from anyone else bumps the row's
`epoch`. Every change is one conditional UPDATE, so two workers can never both win a shard:
the database decides. Skipped runs (the daemon's own overload) are counted here too.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, func, or_, select, update

from monitor.store.dialect import dialect_insert
from monitor.store.tables import ShardLease, SkippedRun, WorkerRecord, core_table

SHARDS = 64  # fixed: a product's shard never changes, only the shard's owner does


def shard_of(product: str) -> int:
    return zlib.crc32(product.encode()) % SHARDS


def see_worker(connection: Connection, worker: WorkerRecord) -> None:
    """Insert or refresh a worker's row (its `seen_at` and load)."""
    table = core_table(WorkerRecord)
    insert = dialect_insert(connection)(table)
    connection.execute(insert.on_conflict_do_update(
        index_elements=["id"], set_={"seen_at": insert.excluded.seen_at, "load": insert.excluded.load}),
        [{"id": worker.id, "host": worker.host, "pid": worker.pid, "started_at": worker.started_at,
          "seen_at": worker.seen_at, "load": worker.load}])


def live_workers(connection: Connection, seen_since: datetime) -> list[WorkerRecord]:
    table = core_table(WorkerRecord)
    rows = connection.execute(select(table).where(table.c.seen_at >= seen_since)
                              .order_by(table.c.id)).mappings()
    return [WorkerRecord(**row) for row in rows]


def forget_workers(connection: Connection, ids: Iterable[str] = (), seen_before: datetime | None = None
                   ) -> None:
    """Remove the rows of `ids` (a worker that stops) and of workers not seen since `seen_before`."""
    table = core_table(WorkerRecord)
    ids = list(ids)
    if ids:
        connection.execute(delete(table).where(table.c.id.in_(bindparam("ids", expanding=True))),
                           {"ids": ids})
    if seen_before is not None:
        connection.execute(delete(table).where(table.c.seen_at < seen_before))


def ensure_shards(connection: Connection) -> None:
    table = core_table(ShardLease)
    insert = dialect_insert(connection)(table).on_conflict_do_nothing(index_elements=["shard"])
    connection.execute(insert, [{"shard": shard, "epoch": 0} for shard in range(SHARDS)])


def shard_leases(connection: Connection) -> list[ShardLease]:
    table = core_table(ShardLease)
    return [ShardLease(**row) for row in
            connection.execute(select(table).order_by(table.c.shard)).mappings()]


def renew(connection: Connection, owner: str, shards: Iterable[int], until: datetime) -> dict[int, int]:
    """Extend the leases `owner` holds among `shards` to `until`, in one statement; the shards
    still held, with their epochs (a shard another worker took meanwhile is not among them)."""
    table = core_table(ShardLease)
    shards = sorted(shards)
    if not shards:
        return {}
    rows = connection.execute(
        update(table).where(table.c.owner == owner,
                            table.c.shard.in_(bindparam("shards", expanding=True)))
        .values(expires_at=until).returning(table.c.shard, table.c.epoch), {"shards": shards})
    return {shard: epoch for shard, epoch in rows}


def acquire(connection: Connection, owner: str, shard: int, now: datetime, until: datetime) -> int | None:
    """Take `shard` when it is free or its lease expired: its new epoch, or None when another
    worker holds it."""
    table = core_table(ShardLease)
    epoch = connection.execute(select(table.c.epoch).where(table.c.shard == shard)).scalar()
    if epoch is None:
        return None
    taken = connection.execute(
        update(table).where(table.c.shard == shard, table.c.epoch == epoch,
                            or_(table.c.owner.is_(None), table.c.owner == owner,
                                table.c.expires_at.is_(None), table.c.expires_at < now))
        .values(owner=owner, epoch=epoch + 1, acquired_at=now, expires_at=until)).rowcount
    return epoch + 1 if taken else None


def release(connection: Connection, owner: str, shards: Iterable[int]) -> None:
    """Give up `shards` at once, so their next owner need not wait for the lease to expire."""
    table = core_table(ShardLease)
    shards = list(shards)
    if shards:
        connection.execute(update(table).where(table.c.owner == owner,
                                               table.c.shard.in_(bindparam("shards", expanding=True)))
                           .values(owner=None, expires_at=None), {"shards": shards})


def record_skipped(connection: Connection, runs: Mapping[tuple[str, str, int], int]) -> None:
    """Add skipped runs, keyed (product, port, epoch minute)."""
    if not runs:
        return
    table = core_table(SkippedRun)
    insert = dialect_insert(connection)(table)
    connection.execute(insert.on_conflict_do_update(
        index_elements=["product", "port", "minute"], set_={"runs": table.c.runs + insert.excluded.runs}),
        [{"product": product, "port": port, "minute": minute, "runs": count}
         for (product, port, minute), count in runs.items()])


def skipped_runs(connection: Connection, first_minute: int, last_minute: int | None = None
                 ) -> dict[tuple[str, str], int]:
    """Runs skipped per port in minutes first..last (epoch minute buckets, inclusive)."""
    table = core_table(SkippedRun)
    query = (select(table.c.product, table.c.port, func.sum(table.c.runs))
             .where(table.c.minute >= first_minute).group_by(table.c.product, table.c.port))
    if last_minute is not None:
        query = query.where(table.c.minute <= last_minute)
    return {(product, port): int(runs) for product, port, runs in connection.execute(query)}
