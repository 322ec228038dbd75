"""Evaluate 1,000 objectives over 30 days of 1-minute data (target ≤ 2 s, DESIGN.md §8).

Side by side: meshwatch's evaluation (hour rollups + minute edges) against the same sums taken
from the per-minute rows alone (what a store without rollups would scan). Also measures batched
ingest through `record_events` (targets: ≥ 100,000 events/s SQLite, ≥ 50,000/s PostgreSQL).

Run:  .venv/bin/python benchmarks/slo_evaluation.py [--objectives 1000] [--days 30] [--postgres URL]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import text

import monitor.store.events as events_module
from monitor.contracts.model import DataProduct, Indicator, Objective, Owner, Port
from monitor.evaluation.mesh import evaluate_mesh
from monitor.slo import AlertPolicy
from monitor.store import Event, open_store, record_events, series_ids
from monitor.store.events import window_counts
from monitor.store.rollups import Span, floor_minute

RESULTS = Path(__file__).parent / "results" / "slo_evaluation.txt"


def mesh(objectives: int) -> list[DataProduct]:
    return [DataProduct(domain="bench", name=f"p{i:04d}", owner=Owner("bench"),
                        ports=(Port("api", "http", options={"url": "http://127.0.0.1:1/"}),),
                        objectives=(Objective("availability", Indicator.AVAILABILITY,
                                              Decimal("0.999"), timedelta(days=30)),))
            for i in range(objectives)]


def fill(engine, products: list[DataProduct], end_minute: int, days: int) -> float:
    """One event per minute per objective for `days` (+3 for the longest alert window), about
    one in 2,000 bad; written straight into the minute and hour tables by SQL."""
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
    return time.perf_counter() - began


def timed(function, repeat: int = 5) -> tuple[float, object]:
    times, value = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - began)
    return statistics.median(times), value


def minute_only(start: int, end: int) -> list[Span]:
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
                        help="PostgreSQL URL for the ingest figure ('' to skip)")
    args = parser.parse_args()
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
    report = "\n".join(lines)
    print(report)
    RESULTS.write_text(report + "\n")


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


if __name__ == "__main__":
    main()
