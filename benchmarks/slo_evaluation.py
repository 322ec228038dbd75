"""Evaluate 1,000 objectives over 30 days of 1-minute data (target ≤ 2 s, DESIGN.md §8).

Side by side: meshwatch's evaluation (hour rollups + minute edges) against the same sums taken
from the per-minute rows alone (what a store without rollups would scan). Also measures batched
ingest through `record_events` (targets: ≥ 100,000 events/s SQLite, ≥ 50,000/s PostgreSQL).

`--history`: a store as the default retention keeps it after `--days` of 1-minute data (issue 11):
day and hour rows for every day, minute rows only as recent as retention keeps them (pruned for
real by retention.prune, which records the minute tier's horizon). Measures the whole evaluation
round (evaluate_mesh over every objective; target ≤ 2 s) with 30 d and 90 d windows, the rows it
reads, the bytes a port holds per year at steady state, and a month's prune (PostgreSQL ≤ 1 s).

Run:  .venv/bin/python benchmarks/slo_evaluation.py [--objectives 1000] [--days 30] [--postgres URL]
      .venv/bin/python benchmarks/slo_evaluation.py --history --objectives 10000 --days 90 \
          [--minute-days 40] [--postgres URL | --sqlite]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import inspect, text

import monitor.evaluation.mesh as mesh_module
import monitor.store.events as events_module
from monitor.contracts.model import DataProduct, Indicator, Objective, Owner, Port
from monitor.contracts.results import ProbeResult
from monitor.evaluation.mesh import evaluate_mesh, objective_windows
from monitor.slo import AlertPolicy, Counts
from monitor.store import Event, open_store, partitions, record_events, series_ids
from monitor.store.events import tier_horizons, window_counts
from monitor.store.measurements import record_probe_results
from monitor.store.retention import Retention, horizons, prune, tier_stats
from monitor.store.rollups import (
    MINUTES_PER_DAY,
    Span,
    Tier,
    aligned_start,
    day_bucket,
    floor_minute,
    hour_bucket,
    minute_bucket,
    minute_time,
    split_window,
)

RESULTS = Path(__file__).parent / "results" / "slo_evaluation.txt"


def mesh(objectives: int, window: timedelta = timedelta(days=30),
         windows: tuple[timedelta, ...] | None = None) -> list[DataProduct]:
    """One product per objective (one availability objective of its one port, probed every
    minute); `windows`: the objectives' windows in turn (else all `window`)."""
    return [DataProduct(domain="bench", name=f"p{i:04d}", owner=Owner("bench"),
                        ports=(Port("api", "http", options={"url": "http://127.0.0.1:1/"}),),
                        objectives=(Objective("availability", Indicator.AVAILABILITY,
                                              Decimal("0.999"),
                                              windows[i % len(windows)] if windows else window),))
            for i in range(objectives)]


def fill(engine, products: list[DataProduct], end_minute: int, days: int) -> float:
    """One event per minute per objective for `days` (+3 for the longest alert window), about
    one in 2,000 bad; written straight into the minute, hour and day tables by SQL."""
    began = time.perf_counter()
    first = end_minute - (days + 3) * 1440
    with engine.begin() as connection:
        ids = series_ids(connection, [(p.id, "availability") for p in products])
        connection.execute(text("UPDATE series SET last_event_minute = :m"), {"m": end_minute})
        dialect = connection.dialect.name
        minutes = (f"WITH RECURSIVE m(minute) AS (SELECT {first} UNION ALL SELECT minute + 1 "
                   f"FROM m WHERE minute < {end_minute}) SELECT minute FROM m"
                   if dialect == "sqlite" else
                   f"SELECT generate_series({first}, {end_minute}) AS minute")
        connection.execute(text(
            f"INSERT INTO event_minute (series_id, minute, good, total) "
            f"SELECT s.id, m.minute, CASE WHEN (m.minute * 7919 + s.id * 104729) % 2000 = 0 "
            f"THEN 0 ELSE 1 END, 1 FROM series s CROSS JOIN ({minutes}) m "
            f"WHERE s.id IN ({','.join(map(str, ids.values()))}) ORDER BY s.id, m.minute"))
        connection.execute(text(
            "INSERT INTO event_hour (series_id, hour, good, total) SELECT series_id, "
            "(minute + 59) / 60, sum(good), sum(total) FROM event_minute GROUP BY series_id, "
            "(minute + 59) / 60"))
        connection.execute(text(
            "INSERT INTO event_day (series_id, day, good, total) SELECT series_id, (hour + 23) / 24, "
            "sum(good), sum(total) FROM event_hour GROUP BY series_id, (hour + 23) / 24"))
    return time.perf_counter() - began


def timed(function, repeat: int = 5) -> tuple[float, object]:
    times, value = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - began)
    return statistics.median(times), value


def minute_only(start: int, end: int, minutes_from: int | None = None,
                hours_from: int | None = None) -> list[Span]:
    """split_window as a store without rollups (and never pruned) would read a window."""
    return [Span("minute", start + 1, end)] if end > start else []


def ingest_rate(url: str, count: int = 300_000) -> float:
    engine = open_store(url)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    batch = [Event(f"ingest/p{i % 1000}", "availability", start + timedelta(seconds=i * 6 // 1000 * 10),
                   1, 1) for i in range(count)]
    began = time.perf_counter()
    for offset in range(0, count, 50_000):
        with engine.begin() as connection:
            record_events(connection, batch[offset:offset + 50_000])
    rate = count / (time.perf_counter() - began)
    engine.dispose()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objectives", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="PostgreSQL URL for the ingest figure ('' to skip); with --history, "
                             "the server to run on (a database of its own is created and dropped)")
    parser.add_argument("--history", action="store_true",
                        help="a store kept by the default retention (see the module's docstring)")
    parser.add_argument("--sqlite", action="store_true", help="with --history: on SQLite")
    parser.add_argument("--minute-days", type=float, default=None,
                        help="with --history: store the minutes of the last N days only (default: "
                             "what retention keeps), plus the days the windows' edges fall in")
    parser.add_argument("--prune-objectives", type=int, default=None,
                        help="with --history: also time the month's prune on a store of this many "
                             "objectives with all 40 days of minutes (a smaller one)")
    parser.add_argument("--keep", action="store_true",
                        help="with --history: keep the store (and its fill figures) in --folder")
    parser.add_argument("--reuse", action="store_true",
                        help="with --history: measure the store an earlier --keep run left in --folder")
    parser.add_argument("--skip-prune", action="store_true",
                        help="with --history: leave out the month's prune (it drops what it prunes)")
    parser.add_argument("--compare-minute-days", default=None, metavar="A,B",
                        help="with --history --sqlite: fill two stores of --objectives, one with "
                             "minute days A (e.g. 40: all) and one with B, and time their rounds in turn")
    parser.add_argument("--fill-only", action="store_true",
                        help="with --history --keep: fill the store, measure nothing")
    parser.add_argument("--print-only", action="store_true", help="do not append to the results file")
    parser.add_argument("--folder", default=None, help="where the SQLite files go (default: a temp dir)")
    args = parser.parse_args()
    if args.history and args.compare_minute_days:
        compare_minute_days(args)
        return
    if args.history:
        history(args)
        return
    lines = [f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.objectives} objectives, "
             f"{args.days} d of 1-minute data"]
    with tempfile.TemporaryDirectory() as folder:
        engine = open_store(f"sqlite:///{folder}/bench.db")
        products = mesh(args.objectives)
        at = datetime(2026, 11, 20, 13, 37, tzinfo=UTC)
        end = floor_minute(at)
        seconds = fill(engine, products, end, args.days)
        rows = args.objectives * (args.days + 3) * 1440
        lines.append(f"data: {rows:,} minute rows written by SQL in {seconds:.1f} s "
                     f"({Path(folder, 'bench.db').stat().st_size / 1e6:.0f} MB)")
        policy = AlertPolicy()

        def evaluate():
            with engine.connect() as connection:
                return evaluate_mesh(connection, products, at, policy)

        rollup_time, reports = timed(evaluate)
        assert len(reports) == args.objectives and all(r.evaluation.counts.total for r in reports)
        windows = [(end - m, end) for m in (5, 30, 60, 360, 4320, 43200)]

        def sums(split):
            original = events_module.split_window
            events_module.split_window = split
            try:
                with engine.connect() as connection:
                    ids = [row[0] for row in connection.execute(text("SELECT id FROM series"))]
                    return window_counts(connection, ids, windows)
            finally:
                events_module.split_window = original

        rollup_sums_time, with_rollups = timed(lambda: sums(events_module.split_window), 3)
        raw_time, without = timed(lambda: sums(minute_only), 3)
        assert with_rollups == without, "rollup sums differ from minute sums"
        lines += [
            f"evaluate_mesh, all {args.objectives} objectives (6 windows each): "
            f"{rollup_time:.3f} s  (target ≤ 2 s)",
            f"window sums with hour rollups: {rollup_sums_time:.3f} s; from minute rows only: "
            f"{raw_time:.3f} s; ratio {raw_time / rollup_sums_time:.1f}× (identical sums)",
        ]
        engine.dispose()
        lines.append(f"ingest, SQLite, batches of 50,000: "
                     f"{ingest_rate(f'sqlite:///{folder}/ingest.db'):,.0f} events/s "
                     f"(target ≥ 100,000)")
    if args.postgres:
        lines.append(f"ingest, PostgreSQL, batches of 50,000: {postgres_ingest(args.postgres):,.0f} "
                     f"events/s (target ≥ 50,000)")
    append(lines, not args.print_only)


def append(lines: list[str], record: bool = True) -> None:
    """Print the figures and append them to the results file (older results stay)."""
    report = "\n".join(lines)
    print(report)
    if not record:
        return
    with RESULTS.open("a") as out:
        out.write("\n" + report + "\n")


def postgres_database(admin_url: str, name: str) -> str:
    """A fresh database `name` on the server of `admin_url`; its URL."""
    from sqlalchemy import create_engine

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(admin_url: str, name: str) -> None:
    from sqlalchemy import create_engine

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def postgres_ingest(admin_url: str) -> float:
    import uuid

    from sqlalchemy import create_engine

    name = f"mw_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        return ingest_rate(admin_url.rsplit("/", 1)[0] + f"/{name}")
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))


# --- a store kept by retention (issue 11) --------------------------------------------------------

AT = datetime(2026, 11, 20, 13, 37, tzinfo=UTC)  # T of the history runs (a Friday afternoon)
WINDOWS = (timedelta(days=30), timedelta(days=90))
# fill()'s bad minutes: minute m of series s is bad when (7919·m + 104729·s) % 2000 = 0, that is
# when m ≡ phase(s) (mod 2000): at most one bad minute per hour and per day
INVERSE = pow(7919, -1, 2000)


def bad_phase(series: int) -> int:
    return (-series * 104729 * INVERSE) % 2000


def bad_phase_sql(series: str) -> str:
    return f"(((2000 - (CAST({series} AS BIGINT) * 104729) % 2000) % 2000) * {INVERSE}) % 2000"


def bad_minutes(series: int, first: int, last: int) -> int:
    """The bad minutes of `series` among minute buckets first..last (inclusive)."""
    phase = bad_phase(series)
    return (last - phase) // 2000 - (first - 1 - phase) // 2000


def numbers(dialect: str, first: int, last: int) -> str:
    """A subquery of the integers first..last as column `v`."""
    if dialect == "sqlite":
        return (f"(WITH RECURSIVE g(v) AS (SELECT {first} UNION ALL SELECT v + 1 FROM g "
                f"WHERE v < {last}) SELECT v FROM g)")
    return f"(SELECT generate_series(CAST({first} AS BIGINT), {last}) AS v)"


def fill_minutes(connection, dialect: str, first: int, last: int, ids: tuple[int, int]) -> None:
    """One event per minute, buckets first..last, for series ids[0]..ids[1], bad as in fill()."""
    connection.execute(text(
        f"INSERT INTO event_minute (series_id, minute, good, total) "
        f"SELECT s.id, b.v, CASE WHEN (b.v * 7919 + CAST(s.id AS BIGINT) * 104729) % 2000 = 0 "
        f"THEN 0 ELSE 1 END, 1 "
        f"FROM series s CROSS JOIN {numbers(dialect, first, last)} b "
        f"WHERE s.id BETWEEN {ids[0]} AND {ids[1]} ORDER BY s.id, b.v"))


def fill_buckets(connection, dialect: str, table: str, column: str, size: int, first: int, last: int,
                 end: int, ids: tuple[int, int]) -> None:
    """The hour (size 60, with bad_mask) or day (size 1440) rows buckets first..last would hold
    after fill_minutes of every minute up to `end`, computed from the bad minutes' phase."""
    least = "min" if dialect == "sqlite" else "least"
    count = f"({least}({size} * b.v, {end}) - {size} * (b.v - 1))"
    offset = f"((({bad_phase_sql('s.id')} - ({size} * (b.v - 1) + 1)) % 2000) + 2000) % 2000"
    bad = "CASE WHEN off < n THEN 1 ELSE 0 END"
    masks = ""
    mask = ""
    if column == "hour":  # the bad minute's bit, and (when the store has it) every minute seen
        masks = ", bad_mask"
        mask = ", CASE WHEN off < n THEN CAST(1 AS BIGINT) << CAST(off AS INTEGER) ELSE 0 END"
        if "seen_mask" in {c["name"] for c in inspect(connection).get_columns("event_hour")}:
            masks += ", seen_mask"
            mask += ", (CAST(1 AS BIGINT) << CAST(n AS INTEGER)) - 1"
    connection.execute(text(
        f"INSERT INTO {table} (series_id, {column}, good, total{masks}) "
        f"SELECT id, bucket, n - {bad}, n{mask} FROM (SELECT s.id AS id, b.v AS bucket, "
        f"{count} AS n, {offset} AS off FROM series s CROSS JOIN {numbers(dialect, first, last)} b "
        f"WHERE s.id BETWEEN {ids[0]} AND {ids[1]}) x ORDER BY id, bucket"))


def merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    for first, last in sorted(ranges):
        if found and first <= found[-1][1] + 1:
            found[-1] = (found[-1][0], max(found[-1][1], last))
        else:
            found.append((first, last))
    return found


def minute_ranges(end: int, kept: int, minute_days: float | None) -> list[tuple[int, int]]:
    """The minute buckets to write: from the hour before `kept` (the first minute retention keeps
    at T; that hour is pruned for real) to `end` — or, with `minute_days`, that hour, the last
    `minute_days` days, and the whole UTC days in which the windows' minute edges fall (the only
    other minutes an evaluation round reads: split_window reads minutes at a window's edges only)."""
    if minute_days is None:
        return [(kept - 60, end)]
    ranges = [(kept - 60, kept - 1), (max(kept, end - int(minute_days * MINUTES_PER_DAY)), end)]
    policy = AlertPolicy()
    for window in WINDOWS:
        product = mesh(1, window)[0]
        for length in objective_windows(product, product.objectives[0], policy):
            start = end - length // timedelta(minutes=1)
            for edge in (start - 60, start + 60):
                if edge >= kept:
                    day = (edge - 1) // MINUTES_PER_DAY
                    ranges.append((day * MINUTES_PER_DAY + 1, (day + 1) * MINUTES_PER_DAY))
    return [(max(first, kept - 60), min(last, end)) for first, last in merged(ranges)]


@dataclass
class Filled:
    seconds: dict[str, float]
    minute_ranges: list[tuple[int, int]]
    minute_rows: int
    hour_rows: int
    day_rows: int
    pruned: list


def fill_history(engine, products: list[DataProduct], days: int, minute_days: float | None,
                 log) -> Filled:
    """The store after `days` (+3) of 1-minute data under the default retention, at AT."""
    end = floor_minute(AT)
    first = end - (days + 3) * MINUTES_PER_DAY
    first_hour, last_hour = hour_bucket(first), hour_bucket(end)
    first_day, last_day = day_bucket(first_hour), day_bucket(last_hour)
    kept = minute_bucket(horizons(Retention(), AT)["minute"]) + 1
    ranges = minute_ranges(end, kept, minute_days)
    seconds: dict[str, float] = {}
    with engine.begin() as connection:
        dialect = connection.dialect.name
        ids = series_ids(connection, [(p.id, "availability") for p in products])
        connection.execute(text("UPDATE series SET last_event_minute = :m"), {"m": end})
        if dialect == "postgresql":  # every partition the daemon would have made, ahead too
            partitions.ensure(connection, partitions.MINUTES, ranges[0][0], end + 3 * MINUTES_PER_DAY)
            partitions.ensure(connection, partitions.HOURS, first_hour, last_hour + 72)
    low, high = min(ids.values()), max(ids.values())
    assert high - low + 1 == len(ids)
    chunk = 1000 if dialect == "sqlite" else high - low + 1

    def chunks():
        return [(at, min(at + chunk - 1, high)) for at in range(low, high + 1, chunk)]

    began = time.perf_counter()
    for part in chunks():
        with engine.begin() as connection:
            fill_buckets(connection, dialect, "event_day", "day", MINUTES_PER_DAY, first_day, last_day,
                         end, part)
            fill_buckets(connection, dialect, "event_hour", "hour", 60, first_hour, last_hour, end, part)
    seconds["days and hours"] = time.perf_counter() - began
    log(f"  days and hours: {seconds['days and hours']:.1f} s")
    began = time.perf_counter()
    minute_rows = 0
    for first_minute, last_minute in ranges:
        # PostgreSQL: one day (partition) per transaction; SQLite: chunks of series
        days = range((first_minute - 1) // MINUTES_PER_DAY, (last_minute - 1) // MINUTES_PER_DAY + 1)
        pieces = ([(max(first_minute, d * MINUTES_PER_DAY + 1), min(last_minute, (d + 1) * MINUTES_PER_DAY))
                   for d in days] if dialect == "postgresql" else [(first_minute, last_minute)])
        for a, b in pieces:
            for part in chunks():
                with engine.begin() as connection:
                    fill_minutes(connection, dialect, a, b, part)
            minute_rows += (b - a + 1) * len(ids)
            log(f"  minutes {minute_time(a - 1):%m-%d %H:%M}..{minute_time(b):%m-%d %H:%M}: "
                f"{minute_rows:,} rows so far, {time.perf_counter() - began:.0f} s")
    seconds["minutes"] = time.perf_counter() - began
    began = time.perf_counter()
    if dialect == "postgresql":  # what autovacuum does to a live store (SQLite's is never analysed)
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM (ANALYZE) series, event_minute, event_hour, event_day"))
    seconds["analyze"] = time.perf_counter() - began
    began = time.perf_counter()
    pruned = prune(engine, Retention(), AT)  # the hour before the horizon: removed, horizon recorded
    seconds["prune at T"] = time.perf_counter() - began
    hours = (last_hour - first_hour + 1) * len(ids)
    return Filled(seconds, ranges, minute_rows, hours, (last_day - first_day + 1) * len(ids), pruned)


def round_reads(engine, products: list[DataProduct]) -> dict[str, int]:
    """The buckets one evaluation round reads, per tier, and its statements: the windows
    evaluate_mesh asks window_sums for, split as window_sums splits them, each distinct span of a
    set of series read once (every series holds every bucket of the filled ranges, so buckets in
    a span = rows read)."""
    captured: dict = {}
    original = mesh_module.window_sums

    def capture(connection, wanted):
        captured.update(wanted)
        return original(connection, wanted)

    mesh_module.window_sums = capture
    try:
        with engine.connect() as connection:
            evaluate_mesh(connection, products, AT, AlertPolicy())
            minutes_from, hours_from = tier_horizons(connection)
    finally:
        mesh_module.window_sums = original
    groups: dict[frozenset, list] = {}
    for window, ids in captured.items():
        groups.setdefault(frozenset(ids), []).append(window)
    found = {"spans": 0, Tier.MINUTE: 0, Tier.HOUR: 0, Tier.DAY: 0, "windows": len(captured),
             "statements": 0}
    for ids, windows in groups.items():
        found["statements"] += -(-len(windows) // events_module.WINDOWS_PER_STATEMENT)
        spans = {span for window in windows for span in split_window(*window, minutes_from, hours_from)}
        found["spans"] += len(spans)
        for span in spans:
            found[Tier(span.size)] += (span.last - span.first + 1) * len(ids)
    found[Tier.MINUTE] += 3 * len(products)  # newest_minutes: the last slack (2 + 1) minutes
    return found


def round_without_reads(engine, products: list[DataProduct]) -> float:
    """The round with window_sums, newest_minutes and last_event_minutes answered from memory (what
    they returned before): the part of a round that is not those reads (median of 3)."""
    names = ("window_sums", "newest_minutes", "last_event_minutes")
    originals = {name: getattr(mesh_module, name) for name in names}
    answers: dict[str, object] = {}

    def recording(name):
        def function(*args):
            answers[name] = originals[name](*args)
            return answers[name]
        return function

    def evaluate():
        with engine.connect() as connection:
            return evaluate_mesh(connection, products, AT, AlertPolicy())

    try:
        for name in names:
            setattr(mesh_module, name, recording(name))
        evaluate()
        for name in names:
            setattr(mesh_module, name, lambda *args, answer=answers[name]: answer)
        return timed(evaluate, 3)[0]
    finally:
        for name, function in originals.items():
            setattr(mesh_module, name, function)


def check_counts(reports, products: list[DataProduct], minutes_from: int | None,
                 hours_from: int | None) -> None:
    """Each objective's window counts are the events of its window as the kept tiers hold them."""
    end = floor_minute(AT)
    ids = {p.id: i + 1 for i, p in enumerate(products)}
    for report in reports:
        length = report.objective.window // timedelta(minutes=1)
        start = aligned_start(end - length, minutes_from, hours_from)
        series = ids[report.product.id]
        expected = Counts(end - start - bad_minutes(series, start + 1, end), end - start)
        assert report.evaluation.counts == expected, (report.product.id, report.evaluation.counts,
                                                      expected)


def evaluation_rounds(engine, count: int, window: timedelta | None, repeat: int = 5
                      ) -> tuple[float, float, list]:
    """The first round on a fresh connection, then the median of `repeat`."""
    products = mesh(count, window or WINDOWS[0], None if window else WINDOWS)
    policy = AlertPolicy()

    def evaluate():
        with engine.connect() as connection:
            return evaluate_mesh(connection, products, AT, policy)

    engine.dispose()
    began = time.perf_counter()
    reports = evaluate()
    first = time.perf_counter() - began
    median, reports = timed(evaluate, repeat)
    return first, median, reports


def probe_result_bytes(engine, ports: int = 100, per_port: int = 1440) -> tuple[float, int]:
    """Bytes per stored probe result (with its indexes): `ports` × `per_port` real rows written
    by record_probe_results as the daemon writes them (an http probe's result, with its slot)."""
    start = AT - timedelta(days=1)
    results = [ProbeResult(f"probe/p{p:03d}", "api", "http", start + timedelta(minutes=minute),
                           True, latency=timedelta(milliseconds=12.5 + p % 7),
                           details={"status": 200}, slot=28_000_000 + minute)
               for minute in range(per_port) for p in range(ports)]
    with engine.begin() as connection:
        for at in range(0, len(results), 1000):  # the daemon's flushes write batches too
            record_probe_results(connection, results[at:at + 1000])
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM (ANALYZE) probe_result"))
        stats = tier_stats(connection)["probe_results"]
        size = stats.bytes or table_bytes(connection, "probe_result")
    return size / stats.rows, stats.rows


def table_bytes(connection, name: str) -> int:
    """PostgreSQL: a plain table's size with its indexes (tier_stats says 0 for a table that is not
    partitioned: pg_partition_tree lists no rows for it)."""
    if connection.dialect.name != "postgresql":
        return 0
    return int(connection.execute(text("SELECT pg_total_relation_size(CAST(:name AS regclass))"),
                                  {"name": name}).scalar_one())


STEADY_ROWS = {  # per port with one availability objective probed every minute, default retention
    Tier.MINUTE.value: 40 * MINUTES_PER_DAY, Tier.HOUR.value: 762 * 24,
    Tier.DAY.value: 365, "probe_results": 14 * MINUTES_PER_DAY}


def port_year_lines(engine) -> list[str]:
    with engine.connect() as connection:
        stats = tier_stats(connection)
        sizes = {tier: stats[tier].bytes or table_bytes(connection, f"event_{tier}")
                 for tier in (Tier.MINUTE.value, Tier.HOUR.value, Tier.DAY.value)}
    per_row = {tier: size / stats[tier].rows for tier, size in sizes.items()}
    per_row["probe_results"], probes = probe_result_bytes(engine)
    lines = ["bytes per port (one availability objective, probed every minute), default retention:"]
    total = 0.0
    for tier, rows in STEADY_ROWS.items():
        size = rows * per_row[tier]
        total += size
        source = (f"{probes:,} probe results written by record_probe_results" if tier == "probe_results"
                  else f"tier_stats: {sizes[tier]:,} B / {stats[tier].rows:,} rows"
                  + (" (estimated)" if stats[tier].rows_estimated else ""))
        lines.append(f"  {tier:>13}: {rows:>7,} rows × {per_row[tier]:5.1f} B = {size / 1e6:6.2f} MB  "
                     f"({source})")
    lines.append(f"  total at steady state: {total / 1e6:.2f} MB per port; the day tier then grows "
                 f"{365 * per_row[Tier.DAY.value] / 1e3:.1f} kB per port-year (kept for ever)")
    return lines


def history(args) -> None:
    import subprocess

    revision = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).parent).stdout.strip()
    started = datetime.now(UTC)
    loads = [" ".join(load_average())]

    def log(line: str) -> None:
        print(line, flush=True)

    on = "SQLite" if args.sqlite else "PostgreSQL"
    lines = [f"# {started:%Y-%m-%d %H:%M} UTC, --history on {on}, revision {revision}: "
             f"{args.objectives} objectives, {args.days} d of 1-minute data, default retention, "
             f"T = {AT:%Y-%m-%d %H:%M}Z",
             f"command: .venv/bin/python benchmarks/slo_evaluation.py {' '.join(sys.argv[1:])}"]
    folder = args.folder or tempfile.mkdtemp()
    name = "mw_bench_history"
    notes = Path(folder, f"{name}.{'sqlite' if args.sqlite else 'postgres'}.fill.txt")
    if args.reuse:  # a store kept by an earlier run with --keep: its fill figures are in `notes`
        url = f"sqlite:///{folder}/history.db" if args.sqlite else \
            args.postgres.rsplit("/", 1)[0] + f"/{name}"
    else:
        url = f"sqlite:///{folder}/history.db" if args.sqlite else postgres_database(args.postgres, name)
    try:
        engine = open_store(url)
        if args.reuse:
            lines += notes.read_text().splitlines()
        else:
            log(f"filling {url} ...")
            lines += fill_lines(fill_history(engine, mesh(args.objectives), args.days, args.minute_days,
                                             log), args)
            notes.write_text("\n".join(lines[2:]) + "\n")
        for line in lines[2:]:
            log(line)
        if args.fill_only:
            return
        with engine.connect() as connection:
            minutes_from, hours_from = tier_horizons(connection)
        lines.append(f"tier_horizon: minute {minute_time(minutes_from - 1):%Y-%m-%d %H:%M}Z"
                     + (f", hour {minute_time((hours_from - 1) * 60):%Y-%m-%d %H:%M}Z" if hours_from else ""))
        for count, window in ((args.objectives, WINDOWS[0]), (args.objectives, WINDOWS[1]),
                              (args.objectives, None), (args.objectives // 10, WINDOWS[0]),
                              (args.objectives // 10, WINDOWS[1])):
            first, median, reports = evaluation_rounds(engine, count, window)
            products_round = mesh(count, window or WINDOWS[0], None if window else WINDOWS)
            check_counts(reports, products_round, minutes_from, hours_from)
            reads = round_reads(engine, products_round)
            rest = round_without_reads(engine, products_round)
            label = f"{window.days} d windows" if window else "30 d and 90 d windows, half each"
            line = (f"evaluation round, {count:,} objectives, {label}: median of 5 {median:.3f} s, "
                    f"first (fresh connection) {first:.3f} s (target ≤ 2 s); reads "
                    f"{reads[Tier.DAY]:,} day + {reads[Tier.HOUR]:,} hour + {reads[Tier.MINUTE]:,} "
                    f"minute rows: {reads['spans']} distinct spans of {reads['windows']} windows in "
                    f"{reads['statements']} statement(s); counts checked; the round without those "
                    f"reads (answered from memory): {rest:.3f} s")
            lines.append(line)
            log(line)
        lines += port_year_lines(engine)
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM probe_result"))
            connection.execute(text("DELETE FROM port_state"))
        if not args.skip_prune:
            lines.append(month_prune(engine, on))
            log(lines[-1])
        engine.dispose()
        if args.prune_objectives:
            lines.append(full_month_prune(args, folder, log))
            log(lines[-1])
    finally:
        if not args.keep:
            if args.sqlite:
                Path(folder, "history.db").unlink(missing_ok=True)
                for suffix in ("-wal", "-shm"):
                    Path(folder, f"history.db{suffix}").unlink(missing_ok=True)
            else:
                drop_database(args.postgres, name)
            notes.unlink(missing_ok=True)
            if not args.folder:
                shutil.rmtree(folder, ignore_errors=True)
    loads.append(" ".join(load_average()))
    lines.append(f"machine: 2 cores, shared with other engineers' tests; load average (1, 5, 15 min) "
                 f"{loads[0]} before, {loads[1]} after; took "
                 f"{(datetime.now(UTC) - started).seconds / 60:.0f} min")
    append(lines, not args.print_only)


def compare_minute_days(args) -> None:
    """Two SQLite stores alike but for the minute days they hold, their rounds timed in turn (so
    the machine's other load falls on both alike): a round reads the same rows from both."""
    started = datetime.now(UTC)
    loads = [" ".join(load_average())]
    folder = args.folder or tempfile.mkdtemp()
    choices = [float(days) for days in args.compare_minute_days.split(",")]
    engines, lines = [], [
        f"# {started:%Y-%m-%d %H:%M} UTC, --history --compare-minute-days on SQLite: {args.objectives} "
        f"objectives, {args.days} d, T = {AT:%Y-%m-%d %H:%M}Z",
        f"command: .venv/bin/python benchmarks/slo_evaluation.py {' '.join(sys.argv[1:])}"]
    try:
        for number, days in enumerate(choices):
            engine = open_store(f"sqlite:///{folder}/compare{number}.db")
            filled = fill_history(engine, mesh(args.objectives), args.days,
                                  None if days >= 40 else days, lambda line: None)
            lines.append(f"store {number}: {filled.minute_rows:,} minute rows "
                         f"({filled.minute_rows / args.objectives / MINUTES_PER_DAY:.2f} d per series)")
            engines.append(engine)
        for window in WINDOWS:
            products = mesh(args.objectives, window)
            times: list[list[float]] = [[] for _ in engines]
            for _ in range(7):
                for number, engine in enumerate(engines):
                    with engine.connect() as connection:
                        began = time.perf_counter()
                        evaluate_mesh(connection, products, AT, AlertPolicy())
                        times[number].append(time.perf_counter() - began)
            lines.append(f"round, {args.objectives:,} objectives, {window.days} d windows, median of 7 "
                         "taken in turn: " + "; ".join(
                             f"store {number} {statistics.median(found):.3f} s"
                             for number, found in enumerate(times)))
    finally:
        for engine in engines:
            engine.dispose()
        for number in range(len(choices)):
            for suffix in ("", "-wal", "-shm"):
                Path(folder, f"compare{number}.db{suffix}").unlink(missing_ok=True)
    loads.append(" ".join(load_average()))
    lines.append(f"machine: 2 cores, shared; load average {loads[0]} before, {loads[1]} after")
    append(lines, not args.print_only)


def month_prune(engine, on: str) -> str:
    """retention.prune a month after T: about 30 more UTC days of minutes go (whole partitions on
    PostgreSQL)."""
    began = time.perf_counter()
    pruned = prune(engine, Retention(), AT + timedelta(days=31))
    seconds = time.perf_counter() - began
    minute = pruned[0]
    dropped = (f", {len(minute.partitions)} partitions dropped ({minute.partitions[0]}.."
               f"{minute.partitions[-1]})" if minute.partitions else "")
    return (f"a month's prune (retention.prune at T + 31 d, default retention) on {on}: {seconds:.3f} s"
            f"{' (target ≤ 1 s)' if on == 'PostgreSQL' else ''}; minutes before {minute.before:%Y-%m-%d}: "
            f"{minute.rows:,} rows{' (estimated)' if minute.estimated else ''}{dropped}; "
            + "; ".join(f"{p.tier} {p.rows:,} rows" for p in pruned[1:]))


def fill_lines(filled: Filled, args) -> list[str]:
    ranges = ", ".join(f"{minute_time(a - 1):%m-%d %H:%M}..{minute_time(b):%m-%d %H:%M}"
                       for a, b in filled.minute_ranges)
    per_series = filled.minute_rows / args.objectives / MINUTES_PER_DAY
    return [
        f"store: {filled.day_rows:,} day rows and {filled.hour_rows:,} hour rows ({args.days + 3} d), "
        f"written by SQL in {filled.seconds['days and hours']:.1f} s; {filled.minute_rows:,} minute rows "
        f"({per_series:.2f} d per series: {ranges}) in {filled.seconds['minutes']:.1f} s "
        f"({filled.minute_rows / filled.seconds['minutes']:,.0f} rows/s); "
        + (f"VACUUM (ANALYZE) {filled.seconds['analyze']:.1f} s" if not args.sqlite else "not analysed"),
        "prune at T (retention.prune, default retention): " + "; ".join(
            f"{p.tier} {p.rows:,} rows{' (estimated)' if p.estimated else ''}"
            f"{', ' + str(len(p.partitions)) + ' partitions' if p.partitions else ''}"
            for p in filled.pruned) + f" in {filled.seconds['prune at T']:.2f} s",
    ]


def load_average() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]


def full_month_prune(args, folder: str, log) -> str:
    """A month's prune on a store holding all 40 days of minutes of --prune-objectives series
    (the minutes only: the prune of minutes reads nothing else), after a first prune at T."""
    name = "mw_bench_prune"
    url = f"sqlite:///{folder}/prune.db" if args.sqlite else postgres_database(args.postgres, name)
    try:
        engine = open_store(url)
        end = floor_minute(AT)
        kept = minute_bucket(horizons(Retention(), AT)["minute"]) + 1
        with engine.begin() as connection:
            dialect = connection.dialect.name
            ids = series_ids(connection, [(p.id, "availability") for p in mesh(args.prune_objectives)])
            if dialect == "postgresql":
                partitions.ensure(connection, partitions.MINUTES, kept - 60, end + 3 * MINUTES_PER_DAY)
        low, high = min(ids.values()), max(ids.values())
        began = time.perf_counter()
        days = range((kept - 61) // MINUTES_PER_DAY, (end - 1) // MINUTES_PER_DAY + 1)
        for day in days:
            for at in range(low, high + 1, 1000):
                with engine.begin() as connection:
                    fill_minutes(connection, dialect, max(kept - 60, day * MINUTES_PER_DAY + 1),
                                 min(end, (day + 1) * MINUTES_PER_DAY), (at, min(at + 999, high)))
        rows = (end - kept + 61) * len(ids)
        log(f"  prune store: {rows:,} minute rows in {time.perf_counter() - began:.0f} s")
        if dialect == "postgresql":
            with engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                    text("VACUUM (ANALYZE) event_minute"))
        prune(engine, Retention(), AT)
        with engine.connect() as connection:
            size = tier_stats(connection)[Tier.MINUTE.value].bytes or 0
        line = month_prune(engine, "SQLite" if args.sqlite else "PostgreSQL")
        engine.dispose()
    finally:
        if args.sqlite:
            Path(folder, "prune.db").unlink(missing_ok=True)
            for suffix in ("-wal", "-shm"):
                Path(folder, f"prune.db{suffix}").unlink(missing_ok=True)
        else:
            drop_database(args.postgres, name)
    return (f"on a store of {args.prune_objectives:,} objectives with all 40 d of minutes "
            f"({rows:,} rows, {size / 1e9:.1f} GB): " + line)

if __name__ == "__main__":
    main()
