"""Write indicator events into the per-minute, per-hour and per-day counts; read window sums back."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, bindparam, case, select, text, update

from monitor.slo.budget import Counts
from monitor.store.dialect import dialect_insert
from monitor.store.rollups import (
    Span,
    Tier,
    day_bucket,
    hour_bucket,
    minute_bit,
    minute_bucket,
    split_window,
)
from monitor.store.tables import EventDay, EventHour, EventMinute, Series, TierHorizon, core_table

SeriesKey = tuple[str, str]  # (product id, objective name)


@dataclass(frozen=True)
class Event:
    """`good` of `total` indicator events of one objective, observed at `at` (aware UTC)."""

    product: str
    objective: str
    at: datetime
    good: int
    total: int


@dataclass
class SeriesCache:
    """What one writer already knows of the `series` table — ids, and the newest minute it
    recorded per series — so a flush does not ask again. What a transaction learns is staged and
    kept only when it commits (`commit`; `discard` after a rollback)."""

    ids: dict[SeriesKey, int] = field(default_factory=dict)
    newest: dict[int, int] = field(default_factory=dict)
    _ids: dict[SeriesKey, int] = field(default_factory=dict)
    _newest: dict[int, int] = field(default_factory=dict)

    def commit(self) -> None:
        self.ids.update(self._ids)
        self.newest.update(self._newest)
        self.discard()

    def discard(self) -> None:
        self._ids, self._newest = {}, {}


def series_ids(connection: Connection, keys: Iterable[SeriesKey], create: bool = True
               ) -> dict[SeriesKey, int]:
    """The id of each (product, objective) series, creating the missing ones when `create`."""
    wanted = set(keys)
    if not wanted:
        return {}
    table = core_table(Series)
    if create:
        insert = dialect_insert(connection)(table).on_conflict_do_nothing(
            index_elements=["product", "objective"])
        connection.execute(insert, [{"product": p, "objective": o} for p, o in sorted(wanted)])
    products = sorted({product for product, _ in wanted})
    rows = connection.execute(select(table.c.product, table.c.objective, table.c.id)
                              .where(table.c.product.in_(bindparam("products", expanding=True))),
                              {"products": products})
    return {(product, objective): id_ for product, objective, id_ in rows
            if (product, objective) in wanted}


def record_events(connection: Connection, events: Iterable[Event],
                  known_ids: Mapping[SeriesKey, int] | None = None,
                  cache: SeriesCache | None = None) -> int:
    """Add `events` to the minute, hour and day counts in one pass; returns how many were added.
    An hour also marks its minutes that held a bad event (`bad_mask`) and any event (`seen_mask`)."""
    by_key: dict[SeriesKey, list[tuple[int, int, int]]] = defaultdict(list)
    count = 0
    at, minute = None, 0
    for item in events:
        if item.at != at:  # the events of one probe result share their time
            at, minute = item.at, minute_bucket(item.at)
        by_key[(item.product, item.objective)].append((minute, item.good, item.total))
        count += 1
    if not count:
        return 0
    ids = dict(known_ids or {})
    if cache is not None:
        ids.update(cache.ids)
    missing = [key for key in by_key if key not in ids]
    if missing:
        found = series_ids(connection, missing)
        ids.update(found)
        if cache is not None:
            cache._ids.update(found)
    minutes: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    newest: dict[int, int] = {}
    for key, rows in by_key.items():
        series = ids[key]
        last = -1
        for minute, good, total in rows:
            bucket = minutes[(series, minute)]
            bucket[0] += good
            bucket[1] += total
            last = minute if minute > last else last
        newest[series] = last
    hours: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for (series, minute), (good, total) in minutes.items():
        bucket = hours[(series, hour_bucket(minute))]
        bucket[0] += good
        bucket[1] += total
        if good < total:
            bucket[2] |= minute_bit(minute)
        if total:
            bucket[3] |= minute_bit(minute)
    days: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for (series, hour), (good, total, _, _) in hours.items():
        bucket = days[(series, day_bucket(hour))]
        bucket[0] += good
        bucket[1] += total
    _add_counts(connection, core_table(EventMinute), Tier.MINUTE, minutes)
    _add_counts(connection, core_table(EventHour), Tier.HOUR, hours)
    _add_counts(connection, core_table(EventDay), Tier.DAY, days)
    if cache is not None:  # the stored minute only ever grows: skip what this writer stored already
        newest = {s: m for s, m in newest.items() if m > cache.newest.get(s, -1)}
        cache._newest.update(newest)
    if newest:
        _advance_last_event(connection, newest)
    return count


_UPSERTS: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}  # SQLite's, compiled once each
MASKS = ("bad_mask", "seen_mask")  # an hour's minutes with a bad event, with any event


def _add_counts(connection: Connection, table, bucket_column: str,
                buckets: Mapping[tuple[int, int], list[int]]) -> None:
    """Add the buckets' counts (upsert), and OR their minutes into an hour's `bad_mask` and
    `seen_mask`. The hottest write — every flush, every series — so its plain integer rows skip
    SQLAlchemy's work per row: PostgreSQL takes them as arrays in one statement (`unnest`),
    SQLite as tuples for SQLAlchemy's own statement, compiled once."""
    if not buckets:
        return
    masks = MASKS if "bad_mask" in table.c else ()
    columns = ("series_id", bucket_column, "good", "total", *masks)
    if connection.dialect.name == "postgresql":
        keys, counts = zip(*buckets.items(), strict=True)
        arrays = {"series": [k[0] for k in keys], "buckets": [k[1] for k in keys],
                  "good": [c[0] for c in counts], "total": [c[1] for c in counts]}
        for number, mask in enumerate(masks, start=2):
            arrays[mask] = [c[number] for c in counts]
        mask_arrays = "".join(f", %({mask})s::bigint[]" for mask in masks)
        mask_updates = "".join(f", {mask} = {table.name}.{mask} | excluded.{mask}" for mask in masks)
        connection.exec_driver_sql(
            f"INSERT INTO {table.name} ({', '.join(columns)}) "
            "SELECT * FROM unnest(%(series)s::integer[], %(buckets)s::bigint[], %(good)s::bigint[], "
            f"%(total)s::bigint[]{mask_arrays}) ON CONFLICT (series_id, {bucket_column}) DO UPDATE SET "
            f"good = {table.name}.good + excluded.good, total = {table.name}.total + excluded.total"
            f"{mask_updates}", arrays)
        return
    key = (connection.dialect.name, table.name)
    if key not in _UPSERTS:
        insert = dialect_insert(connection)(table)
        added = {"good": table.c.good + insert.excluded.good,
                 "total": table.c.total + insert.excluded.total}
        for mask in masks:
            added[mask] = table.c[mask].op("|")(insert.excluded[mask])
        upsert = insert.on_conflict_do_update(index_elements=["series_id", bucket_column], set_=added)
        compiled = upsert.compile(dialect=connection.dialect,
                                  column_keys=list(columns))
        _UPSERTS[key] = (str(compiled), tuple(compiled.positiontup or ()))
    sql, order = _UPSERTS[key]
    assert order == columns, order
    connection.exec_driver_sql(sql, [(series, bucket, *counts)
                                     for (series, bucket), counts in buckets.items()])


def _advance_last_event(connection: Connection, newest: Mapping[int, int]) -> None:
    column = core_table(Series).c.last_event_minute
    statement = (update(core_table(Series))
                 .where(core_table(Series).c.id == bindparam("series"))
                 .values(last_event_minute=case(
                     (column.is_(None) | (column < bindparam("minute")), bindparam("minute")),
                     else_=column)))
    connection.execute(statement, [{"series": s, "minute": m} for s, m in newest.items()])


def window_counts(connection: Connection, ids: Sequence[int],
                  windows: Iterable[tuple[int, int]]) -> dict[tuple[int, int], dict[int, Counts]]:
    """For each window (start, end] in epoch minutes, the counts of each series that has events."""
    return window_sums(connection, {window: ids for window in windows})


def window_sums(connection: Connection, wanted: Mapping[tuple[int, int], Collection[int]]
                ) -> dict[tuple[int, int], dict[int, Counts]]:
    """For each window (start, end] in epoch minutes, the counts of the series it is wanted for:
    whole days, then hours, then minutes at the edges. A window reaching past a pruned tier's
    horizon starts at the hour (or day) before its start (rollups.split_window).

    The cost of an evaluation round, so: one statement per set of series asked (and per
    WINDOWS_PER_STATEMENT of its windows) reads each distinct span once — the minutes after the
    last whole hour are the same for every window ending at T — and sums them per window in the
    database; the series go as one parameter (`_series_in`), not one per series."""
    minutes_from, hours_from = tier_horizons(connection)
    result: dict[tuple[int, int], dict[int, Counts]] = {window: {} for window in wanted}
    groups: dict[tuple[int, ...], list[tuple[int, int]]] = defaultdict(list)
    for window, ids in wanted.items():
        if ids:
            groups[tuple(sorted(set(ids)))].append(window)
    with _without_jit(connection):
        for ids, windows in groups.items():
            _sum_windows(connection, ids, windows, minutes_from, hours_from, result)
    return result


def _sum_windows(connection: Connection, ids: Sequence[int], windows: list[tuple[int, int]],
                 minutes_from: int | None, hours_from: int | None,
                 result: dict[tuple[int, int], dict[int, Counts]]) -> None:
    """window_sums of `windows`, all wanted for the series `ids`, into `result`."""
    condition, value = _series_in(connection, "series_id", ids)
    for at in range(0, len(windows), WINDOWS_PER_STATEMENT):
        chunk = windows[at:at + WINDOWS_PER_STATEMENT]
        spans: dict[Span, int] = {}
        uses = [(spans.setdefault(span, len(spans)), number) for number, window in enumerate(chunk)
                for span in split_window(*window, minutes_from, hours_from)]
        if not uses:
            continue
        reads = " UNION ALL ".join(
            f"SELECT {number} AS k, series_id, sum(good) AS good, sum(total) AS total "
            f"FROM {_COUNT_TABLES[Tier(span.size)]} WHERE {condition} "
            f"AND {span.size} BETWEEN {int(span.first)} AND {int(span.last)} GROUP BY series_id"
            for span, number in spans.items())
        sql = (f"WITH s AS ({reads}), m(k, w) AS (VALUES {', '.join(f'({k}, {w})' for k, w in uses)}) "
               "SELECT m.w, s.series_id, sum(s.good), sum(s.total) FROM s JOIN m ON m.k = s.k "
               "GROUP BY m.w, s.series_id")
        for number, series, good, total in connection.execute(text(sql), {"ids": value}):
            result[chunk[number]][series] = Counts(int(good), int(total))


@contextmanager
def _without_jit(connection: Connection) -> Iterator[None]:
    """PostgreSQL without its JIT compiler for these statements, then as before: their many
    index ranges look costly to the planner, which then spends more time compiling them (0.4 s
    for 2,000 series) than they take to run."""
    if connection.dialect.name != "postgresql":
        yield
        return
    previous = connection.execute(text("SELECT current_setting('jit')")).scalar_one()
    connection.execute(text("SELECT set_config('jit', 'off', true)"))  # until the transaction ends
    yield  # (after an error the transaction is rolled back, which restores it too)
    connection.execute(text("SELECT set_config('jit', :previous, true)"), {"previous": previous})


WINDOWS_PER_STATEMENT = 40  # at most 5 spans each: within SQLite's 500 terms of a compound SELECT
_COUNT_TABLES = {tier: core_table(model).name for tier, model in
                 ((Tier.MINUTE, EventMinute), (Tier.HOUR, EventHour), (Tier.DAY, EventDay))}


def _series_in(connection: Connection, column: str, ids: Sequence[int]) -> tuple[str, object]:
    """`column` among `ids` as SQL, and the value of its one parameter `:ids`: an array on
    PostgreSQL, a JSON list on SQLite (json_each). An evaluation round asks for 10,000 series,
    and a parameter per id costs more than the rows it finds (newest_minutes of 2,000 series on
    PostgreSQL: 66 ms with a parameter each, 10 ms with one)."""
    if connection.dialect.name == "postgresql":
        return f"{column} = ANY(CAST(:ids AS INTEGER[]))", list(ids)
    return f"{column} IN (SELECT value FROM json_each(:ids))", json.dumps(list(ids))


def tier_horizons(connection: Connection) -> tuple[int | None, int | None]:
    """The oldest minute and hour bucket still kept (None: that tier was never pruned)."""
    table = core_table(TierHorizon)
    found = dict(connection.execute(select(table.c.tier, table.c.first)).all())
    return found.get(Tier.MINUTE.value), found.get(Tier.HOUR.value)


def newest_minutes(connection: Connection, ids: Sequence[int], first: int, last: int
                   ) -> dict[int, int]:
    """For each series with events in minutes first..last, the newest of those minutes."""
    condition, value = _series_in(connection, "series_id", ids)
    query = text(f"SELECT series_id, max(minute) FROM {_COUNT_TABLES[Tier.MINUTE]} WHERE {condition} "
                 "AND minute BETWEEN :first AND :last AND total > 0 GROUP BY series_id")
    return {series: int(minute) for series, minute
            in connection.execute(query, {"ids": value, "first": first, "last": last})}


def last_event_minutes(connection: Connection, ids: Sequence[int]) -> dict[int, int]:
    condition, value = _series_in(connection, "id", ids)
    query = text(f"SELECT id, last_event_minute FROM {core_table(Series).name} WHERE {condition} "
                 "AND last_event_minute IS NOT NULL")
    return {series: int(minute) for series, minute in connection.execute(query, {"ids": value})}


def minute_counts(connection: Connection, series: int, first: int, last: int
                  ) -> list[tuple[int, Counts]]:
    """The per-minute counts of one series, minutes first..last inclusive (for charts)."""
    table = core_table(EventMinute)
    query = (select(table.c.minute, table.c.good, table.c.total)
             .where(table.c.series_id == series, table.c.minute.between(first, last))
             .order_by(table.c.minute))
    return [(minute, Counts(good, total)) for minute, good, total in connection.execute(query)]
