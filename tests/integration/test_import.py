"""`meshwatch import`: backfill events from CSV or JSON Lines; every bad row reported, all or nothing
stored — through `import_events` and through the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.config.loading import KINDS
from monitor.contracts import load_contracts
from monitor.evaluation.mesh import evaluate_mesh
from monitor.slo import Counts
from monitor.store.importer import COLUMNS, import_events
from tests.support.repository import ROOT

CONFIG = ROOT / "config"
NOON = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
HEADER = ",".join(COLUMNS)
ORDERS = "checkout/orders,api-availability"

GOOD_CSV = f"""\
{HEADER}
2026-11-02T11:59:30Z,{ORDERS},59,60
2026-11-02T11:58:30+00:00,{ORDERS},60,60
2026-11-02T13:58:30+02:00,marketing/campaign-features,request-errors,990,1000
2026-11-02T12:00:30Z,{ORDERS},0,60
"""

BAD_CSV = f"""\
{HEADER}
2026-11-02T11:59:30Z,{ORDERS},59,60
yesterday,{ORDERS},1,1
2026-11-02T11:59:30,{ORDERS},1,1
2026-11-02T11:59:30Z,checkout/orders,api-errors,1,1
2026-11-02T11:59:30Z,{ORDERS},5,4
2026-11-02T11:59:30Z,{ORDERS},-1,4
2026-11-02T11:59:30Z,{ORDERS},1.5,4
2026-11-02T11:59:30Z,{ORDERS},,4
2026-11-02T11:58:30Z,{ORDERS},60,60
"""

BAD_CSV_PROBLEMS = [
    (3, "timestamp 'yesterday' is not ISO-8601"),
    (4, "timestamp '2026-11-02T11:59:30' has no time zone (e.g. 2026-11-01T12:00:00Z)"),
    (5, "no objective 'api-errors' in product 'checkout/orders' (see `meshwatch contracts`)"),
    (6, "good (5) is more than total (4)"),
    (7, "'-1' is not a whole number of events"),
    (8, "'1.5' is not a whole number of events"),
    (9, "missing good"),
]


def jsonl(*rows: dict | str) -> str:
    return "".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows)


def row(timestamp: str = "2026-11-02T11:59:30Z", product: str = "checkout/orders",
        objective: str = "api-availability", good: object = 59, total: object = 60) -> dict:
    return {"timestamp": timestamp, "product": product, "objective": objective,
            "good": good, "total": total}


GOOD_JSONL = jsonl(row(), row(timestamp="2026-11-02T11:58:30Z", good="60", total="60"),
                   "", row(timestamp="2026-11-02T11:58:00Z", product="marketing/campaign-features",
                           objective="request-errors", good=990, total=1000))

BAD_JSONL = jsonl(
    row(),
    '{"timestamp": "2026-11-02T11:59:30Z", "product": ',
    row(good=2.5),
    row(good=True),
    '["2026-11-02T11:59:30Z", "checkout/orders", "api-availability", 1, 1]',
    {k: v for k, v in row().items() if k != "total"},
    row(timestamp="2026-11-02 11:59"),
)

BAD_JSONL_PROBLEMS = [
    (2, "not JSON: Expecting value"),
    (3, "2.5 is not a whole number of events"),
    (4, "True is not a whole number of events"),
    (5, "expected a JSON object"),
    (6, "missing total"),
    (7, "timestamp '2026-11-02 11:59' has no time zone (e.g. 2026-11-01T12:00:00Z)"),
]


@pytest.fixture(scope="module")
def mesh():
    registry = load_contracts([CONFIG], KINDS)
    assert registry.problems == []
    return registry.products


def known(mesh) -> set[tuple[str, str]]:
    return {(p.id, o.name) for p in mesh.values() for o in p.objectives}


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(content), encoding="utf-8")
    return path


def evaluated_counts(store, mesh, at: datetime = NOON) -> dict[tuple[str, str], Counts]:
    with store.connect() as connection:
        reports = evaluate_mesh(connection, mesh.values(), at)
    return {(r.product.id, r.objective.name): r.evaluation.counts for r in reports}


def stored_rows(store) -> dict[str, int]:
    with store.connect() as connection:
        return {table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("series", "event_minute", "event_hour")}


EMPTY = {"series": 0, "event_minute": 0, "event_hour": 0}


# --- through import_events ----------------------------------------------------------------------

def test_csv_events_are_stored_and_evaluate_counts_them(store, mesh, tmp_path):
    result = import_events(store, write(tmp_path, "events.csv", GOOD_CSV), known(mesh))
    assert (result.imported, result.problems) == (4, [])
    counts = evaluated_counts(store, mesh)
    # the row at 12:00:30 lies after the evaluation time; +02:00 is 11:58:30 UTC
    assert counts[("checkout/orders", "api-availability")] == Counts(119, 120)
    assert counts[("marketing/campaign-features", "request-errors")] == Counts(990, 1000)
    assert counts[("cart/events", "lake-freshness")] == Counts()
    later = evaluated_counts(store, mesh, datetime(2026, 11, 2, 12, 1, tzinfo=UTC))
    assert later[("checkout/orders", "api-availability")] == Counts(119, 180)


def test_jsonl_events_are_stored_and_evaluate_counts_them(store, mesh, tmp_path):
    progress: list[int] = []
    path = write(tmp_path, "events.jsonl", GOOD_JSONL)
    result = import_events(store, path, known(mesh), on_progress=progress.append)
    assert (result.imported, result.problems) == (3, [])
    counts = evaluated_counts(store, mesh)
    assert counts[("checkout/orders", "api-availability")] == Counts(119, 120)
    assert counts[("marketing/campaign-features", "request-errors")] == Counts(990, 1000)
    assert progress[-1] == path.stat().st_size  # the whole file was read


def test_importing_the_same_file_twice_adds_the_events_twice(store, mesh, tmp_path):
    path = write(tmp_path, "events.csv", GOOD_CSV)
    import_events(store, path, known(mesh))
    import_events(store, path, known(mesh))
    assert evaluated_counts(store, mesh)[("checkout/orders", "api-availability")] == Counts(238, 240)


def test_a_csv_with_bad_rows_reports_each_with_its_line_and_stores_nothing(store, mesh, tmp_path):
    result = import_events(store, write(tmp_path, "bad.csv", BAD_CSV), known(mesh))
    assert [(p.line, p.message) for p in result.problems] == BAD_CSV_PROBLEMS
    assert result.imported == 0
    assert stored_rows(store) == EMPTY
    assert evaluated_counts(store, mesh)[("checkout/orders", "api-availability")] == Counts()


def test_a_jsonl_file_with_bad_lines_reports_each_with_its_line_and_stores_nothing(
        store, mesh, tmp_path):
    result = import_events(store, write(tmp_path, "bad.jsonl", BAD_JSONL), known(mesh))
    assert [(p.line, p.message[:len(m)]) for p, (_, m) in zip(
        result.problems, BAD_JSONL_PROBLEMS, strict=True)] == BAD_JSONL_PROBLEMS
    assert result.imported == 0
    assert stored_rows(store) == EMPTY


def test_a_csv_without_a_column_is_refused_on_its_first_line(store, mesh, tmp_path):
    path = write(tmp_path, "no-total.csv", f"timestamp,product,objective,good\n"
                                           f"2026-11-02T11:59:30Z,{ORDERS},1\n")
    result = import_events(store, path, known(mesh))
    assert [(p.line, p.message) for p in result.problems] == [
        (1, "missing column(s): total (need timestamp, product, objective, good, total)")]
    assert stored_rows(store) == EMPTY


def test_a_bad_row_after_many_good_ones_still_stores_nothing(store, mesh, tmp_path, monkeypatch):
    monkeypatch.setattr("monitor.store.importer.BATCH", 10)  # the good rows are written in batches first
    good = "".join(f"2026-11-02T11:{m:02d}:30Z,{ORDERS},1,1\n" for m in range(30))
    path = write(tmp_path, "late.csv", f"{HEADER}\n{good}2026-11-02T11:59:30Z,{ORDERS},2,1\n")
    result = import_events(store, path, known(mesh))
    assert [(p.line, p.message) for p in result.problems] == [(32, "good (2) is more than total (1)")]
    assert stored_rows(store) == EMPTY


# --- through the CLI ----------------------------------------------------------------------------

def cli(store_url: str, *args: str):
    return CliRunner().invoke(app, list(args), env={"MESHWATCH_DATABASE_URL": store_url,
                                                    "MESHWATCH_CONFIG": str(CONFIG)})


def test_cli_imports_a_csv_and_evaluate_shows_the_counts(store, store_url, tmp_path):
    path = write(tmp_path, "events.csv", GOOD_CSV)
    result = cli(store_url, "import", str(path))
    assert result.exit_code == 0, result.output
    assert f"imported 4 event row(s) from {path}" in result.stderr
    evaluated = cli(store_url, "evaluate", "--json", "--at", "2026-11-02T12:00:00Z")
    assert evaluated.exit_code == 0, evaluated.output
    (orders,) = [o for o in json.loads(evaluated.stdout)["objectives"]
                 if (o["product"], o["objective"]) == ("checkout/orders", "api-availability")]
    assert (orders["good"], orders["total"]) == (119, 120)


def test_cli_import_of_a_jsonl_file_reports_bad_lines_exits_1_and_stores_nothing(
        store, store_url, tmp_path):
    path = write(tmp_path, "bad.jsonl", BAD_JSONL)
    result = cli(store_url, "import", str(path))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [
        f"{path}:{number}" for number, _ in BAD_JSONL_PROBLEMS]
    assert "6 bad row(s); nothing was imported" in result.stderr
    assert stored_rows(store) == EMPTY


def test_cli_import_of_a_csv_with_bad_rows_lists_every_row(store, store_url, tmp_path):
    path = write(tmp_path, "bad.csv", BAD_CSV)
    result = cli(store_url, "import", str(path))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [f"{path}:{n}: {m}" for n, m in BAD_CSV_PROBLEMS]
    assert stored_rows(store) == EMPTY


def test_cli_import_of_a_missing_file_says_so(tmp_path):
    result = cli(f"sqlite:///{tmp_path / 'm.db'}", "import", str(tmp_path / "nope.csv"))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"{tmp_path / 'nope.csv'}: no such file"]


# --- hostile files ------------------------------------------------------------------------------

HUGE = "9" * 5000


@pytest.mark.parametrize("name, content, expected", [
    ("latin1.csv",
     f"{HEADER}\n2026-11-02T11:59:30Z,{ORDERS},1,1\n2026-11-02T11:59:30Z,caf\xe9,x,1,1\n".encode("latin-1"),
     (3, "not UTF-8 text (byte 0xe9); nothing after it was read")),
    ("nul.csv", f"{HEADER}\n2026-11-02T11:59:30Z,{ORDERS},1,1\n2026-11-02\x00,{ORDERS},1,1\n".encode(),
     (3, "timestamp '2026-11-02\\x00' is not ISO-8601")),
    ("huge.csv", f"{HEADER}\n2026-11-02T11:59:30Z,{ORDERS},{HUGE},{HUGE}\n".encode(),
     (2, f"'{HUGE[:58]}… is more events than a minute can hold (at most {10**15})")),
    ("digits.csv", f"{HEADER}\n2026-11-02T11:59:30Z,{ORDERS},\u0661\u0662,\u00b2\u00b3\n".encode(),
     (2, "'١٢' is not a whole number of events")),
    ("edge.csv", f"{HEADER}\n9999-12-31T23:59:59-14:00,{ORDERS},1,1\n".encode(),
     (2, "timestamp '9999-12-31T23:59:59-14:00' is out of range")),
    ("huge.jsonl", ('{"timestamp": ' + HUGE + "}\n").encode(),
     (1, "not JSON this importer can read (a huge number or deep nesting)")),
    ("deep.jsonl", (b"[" * 100_000 + b"]" * 100_000 + b"\n"),
     (1, "not JSON this importer can read (a huge number or deep nesting)")),
    ("long.jsonl", (json.dumps(row(product="p" * 10_000)) + "\n").encode(),
     (1, f"no objective 'api-availability' in product '{'p' * 58}… (see `meshwatch contracts`)")),
], ids=lambda value: value if isinstance(value, str) and len(value) < 20 else None)
def test_a_hostile_file_is_a_located_problem_and_stores_nothing(store, mesh, tmp_path, name,
                                                                 content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    result = import_events(store, path, known(mesh))
    assert [(p.line, p.message) for p in result.problems][-1] == expected
    assert result.imported == 0 and stored_rows(store) == EMPTY
