"""Backfill indicator events from CSV or JSON Lines: every bad row reported, all or nothing stored."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from monitor.store.events import Event, SeriesKey, record_events, series_ids

COLUMNS = ("timestamp", "product", "objective", "good", "total")
BATCH = 50_000
MAX_COUNT = 10**15  # events per row: far above any real minute, far below the columns' 2**63


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
    """The rows of the file with their line numbers; a line that is not UTF-8, or text the CSV
    reader refuses, ends the file with a problem at its line."""
    lines = _Utf8Lines(raw)
    try:
        yield from _parsed_rows(path, lines)
    except _NotUtf8 as error:
        yield error.line, f"not UTF-8 text (byte 0x{error.byte:02x}); nothing after it was read"
    except csv.Error as error:
        yield lines.number, f"not CSV: {error}"


class _NotUtf8(Exception):
    def __init__(self, line: int, byte: int):
        self.line, self.byte = line, byte


class _Utf8Lines:
    """The lines of a binary file as text, counted; raises _NotUtf8 at the first bad one."""

    def __init__(self, raw) -> None:
        self.raw, self.number = raw, 0

    def __iter__(self) -> Iterator[str]:
        for line in self.raw:
            self.number += 1
            try:
                yield line.decode("utf-8")
            except UnicodeDecodeError as error:
                raise _NotUtf8(self.number, line[error.start]) from None


def _parsed_rows(path: Path, text: Iterable[str]) -> Iterator[tuple[int, dict | str]]:
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
        except (ValueError, RecursionError):  # a number of more than 4,300 digits, deep nesting
            yield number, "not JSON this importer can read (a huge number or deep nesting)"
            continue
        yield number, row if isinstance(row, dict) else "expected a JSON object"


def _event(row: dict | str, known: Collection[SeriesKey]) -> Event | str:
    """The event of one row, or what is wrong with it."""
    if isinstance(row, str):
        return row
    missing = [c for c in COLUMNS if row.get(c) in (None, "")]
    if missing:
        return f"missing {', '.join(missing)}"
    shown = _shown(row["timestamp"])
    try:
        at = datetime.fromisoformat(str(row["timestamp"]).strip())
    except ValueError:
        return f"timestamp {shown} is not ISO-8601"
    if at.tzinfo is None:
        return f"timestamp {shown} has no time zone (e.g. 2026-11-01T12:00:00Z)"
    try:
        at = at.astimezone(UTC)
    except OverflowError:
        return f"timestamp {shown} is out of range"
    key = (str(row["product"]).strip(), str(row["objective"]).strip())
    if key not in known:
        return (f"no objective {_shown(key[1])} in product {_shown(key[0])} "
                "(see `meshwatch contracts`)")
    try:
        good, total = _count(row["good"]), _count(row["total"])
    except ValueError as error:
        return str(error)
    if good > total:
        return f"good ({good}) is more than total ({total})"
    return Event(key[0], key[1], at, good, total)


def _count(value: object) -> int:
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"{_shown(value)} is not a whole number of events")
    if len(text) > 18 or int(text) > MAX_COUNT:
        raise ValueError(f"{_shown(value)} is more events than a minute can hold (at most {MAX_COUNT})")
    return int(text)


def _shown(value: object) -> str:
    """A value of the file as a message quotes it: its repr, cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"
