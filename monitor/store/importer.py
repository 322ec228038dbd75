"""Backfill indicator events from CSV or JSON Lines: every bad row reported, all or nothing stored."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from monitor.store.events import Event, SeriesKey, record_events, series_ids

COLUMNS = ("timestamp", "product", "objective", "good", "total")
BATCH = 50_000


@dataclass(frozen=True)
class RowProblem:
    line: int
    message: str


@dataclass
class ImportResult:
    imported: int = 0
    problems: list[RowProblem] = field(default_factory=list)


def import_events(engine: Engine, path: Path, known: Collection[SeriesKey],
                  on_progress: Callable[[int], None] = lambda done: None) -> ImportResult:
    """Read `path`, store its events in one transaction; store nothing when any row is bad."""
    result = ImportResult()
    with path.open("rb") as raw, engine.connect() as connection:
        transaction = connection.begin()
        ids = series_ids(connection, known)
        batch: list[Event] = []
        for line, row in _rows(path, raw):
            event = _event(row, known)
            if isinstance(event, str):
                result.problems.append(RowProblem(line, event))
            elif not result.problems:
                batch.append(event)
            if len(batch) >= BATCH:
                result.imported += record_events(connection, batch, ids)
                batch.clear()
                on_progress(raw.tell())
        if result.problems:
            transaction.rollback()
            result.imported = 0
            return result
        result.imported += record_events(connection, batch, ids)
        transaction.commit()
        on_progress(raw.tell())
    return result


def _rows(path: Path, raw) -> Iterator[tuple[int, dict | str]]:
    text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
    try:
        yield from _parsed_rows(path, text)
    finally:
        text.detach()  # a collected wrapper would close `raw`, which the caller still reads


def _parsed_rows(path: Path, text: io.TextIOWrapper) -> Iterator[tuple[int, dict | str]]:
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            yield 1, f"missing column(s): {', '.join(missing)} (need {', '.join(COLUMNS)})"
            return
        for row in reader:
            yield reader.line_num, row
        return
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            yield number, f"not JSON: {error.msg}"
            continue
        yield number, row if isinstance(row, dict) else "expected a JSON object"


def _event(row: dict | str, known: Collection[SeriesKey]) -> Event | str:
    """The event of one row, or what is wrong with it."""
    if isinstance(row, str):
        return row
    missing = [c for c in COLUMNS if row.get(c) in (None, "")]
    if missing:
        return f"missing {', '.join(missing)}"
    try:
        at = datetime.fromisoformat(str(row["timestamp"]).strip())
    except ValueError:
        return f"timestamp {row['timestamp']!r} is not ISO-8601"
    if at.tzinfo is None:
        return f"timestamp {row['timestamp']!r} has no time zone (e.g. 2026-11-01T12:00:00Z)"
    key = (str(row["product"]).strip(), str(row["objective"]).strip())
    if key not in known:
        return f"no objective {key[1]!r} in product {key[0]!r} (see `meshwatch contracts`)"
    try:
        good, total = _count(row["good"]), _count(row["total"])
    except ValueError as error:
        return str(error)
    if good > total:
        return f"good ({good}) is more than total ({total})"
    return Event(key[0], key[1], at, good, total)


def _count(value: object) -> int:
    text = str(value).strip()
    if not text.isdigit():
        raise ValueError(f"{value!r} is not a whole number of events")
    return int(text)
