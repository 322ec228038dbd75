"""Schema checks: a port's declared schema compared with the real table (SQLite, the machine's
PostgreSQL and MariaDB) and with a real HTTP server's JSON payload."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from aiohttp import web
from sqlalchemy import create_engine, text

from monitor.contracts.model import Port
from monitor.probes.http import HttpOptions, HttpProbe
from monitor.probes.sql import SqlOptions, SqlProbe
from tests.support.postgres import postgres_database
from tests.support.serving import serving

MARIADB_URL = os.environ.get("MESHWATCH_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")
TIMEOUT = timedelta(seconds=2)
DECLARED = {"id": "integer", "amount": "decimal", "name": "string", "updated_at": "timestamp",
            "active": "boolean", "booked_on": "date"}


@dataclass
class Database:
    """A database holding one table of invoices, which a test may replace by a broken one."""

    url: str
    table: str  # as a contract names it: `schema.table` or `table`
    types: dict[str, str]  # column → this database's type for the matching table

    def create(self, columns: dict[str, str]) -> None:
        engine = create_engine(self.url)
        with engine.begin() as connection:
            connection.execute(text(f"DROP TABLE IF EXISTS {self.table}"))
            connection.execute(text(f"CREATE TABLE {self.table} ("
                                    + ", ".join(f"{c} {t}" for c, t in columns.items()) + ")"))
        engine.dispose()

    def exists_empty(self) -> None:
        """The database is there (a SQLite file too) without the table."""
        engine = create_engine(self.url)
        with engine.begin() as connection:
            connection.execute(text(f"DROP TABLE IF EXISTS {self.table}"))
        engine.dispose()

    def matching(self) -> None:
        self.create(self.types)

    def with_amount_as_text_and_no_updated_at(self) -> None:
        broken = {**self.types, "amount": "TEXT"}
        del broken["updated_at"]
        self.create(broken)


def sqlite_database(tmp_path) -> Iterator[Database]:
    yield Database(f"sqlite:///{tmp_path / 'sales.db'}", "invoices", {
        "id": "INTEGER", "amount": "DECIMAL(10, 2)", "name": "VARCHAR(20)",
        "updated_at": "TIMESTAMP", "active": "BOOLEAN", "booked_on": "DATE"})


def postgres_schema_database() -> Iterator[Database]:
    for url in postgres_database():
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("CREATE SCHEMA sales"))
        engine.dispose()
        yield Database(url, "sales.invoices", {
            "id": "BIGINT", "amount": "NUMERIC(10, 2)", "name": "VARCHAR(20)",
            "updated_at": "TIMESTAMP WITH TIME ZONE", "active": "BOOLEAN", "booked_on": "DATE"})


def mariadb_database() -> Iterator[Database]:
    database = Database(MARIADB_URL, f"test.mw_invoices_{uuid.uuid4().hex[:8]}", {
        "id": "BIGINT", "amount": "DECIMAL(10, 2)", "name": "VARCHAR(20)",
        "updated_at": "DATETIME(6)", "active": "BOOLEAN", "booked_on": "DATE"})
    try:
        yield database
    finally:
        engine = create_engine(MARIADB_URL)
        with engine.begin() as connection:
            connection.execute(text(f"DROP TABLE IF EXISTS {database.table}"))
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres), "mariadb"])
def database(request, tmp_path) -> Iterator[Database]:
    if request.param == "sqlite":
        yield from sqlite_database(tmp_path)
    elif request.param == "postgresql":
        yield from postgres_schema_database()
    else:
        yield from mariadb_database()


@pytest.fixture
async def sql_probe(clock):
    made: list[SqlProbe] = []

    def make(database: Database, **options) -> SqlProbe:
        port = Port("warehouse", "sql", interval=timedelta(minutes=5), timeout=TIMEOUT)
        schema = {"table": database.table, "columns": DECLARED}
        made.append(SqlProbe("sales/invoices", port, SqlOptions(url=database.url, schema=schema,
                                                                **options), clock))
        return made[-1]

    yield make
    for each in made:
        await each.close()


def label(database: Database) -> str:
    return database.table.rpartition(".")[2]


async def test_a_table_matching_its_declared_schema_has_no_mismatch(database, sql_probe):
    database.matching()

    result = await sql_probe(database).measure()

    assert (result.ok, result.error) == (True, None)
    assert result.details == {"schema_mismatch": []}


async def test_a_dropped_and_a_retyped_column_are_named_and_the_port_stays_available(database, sql_probe):
    database.with_amount_as_text_and_no_updated_at()

    result = await sql_probe(database).measure()

    assert (result.ok, result.error_class) == (True, None)
    assert result.details["schema_mismatch"] == [
        f"{label(database)}.amount: declared decimal, found text",
        f"{label(database)}.updated_at: missing"]


async def test_a_missing_table_is_a_mismatch_not_an_unavailable_port(database, sql_probe):
    database.exists_empty()

    result = await sql_probe(database).measure()

    assert result.ok is True
    assert result.details["schema_mismatch"] == [f"{label(database)}: table missing"]


async def test_a_dropped_freshness_column_is_named_even_though_the_freshness_query_fails(
        database, sql_probe):
    database.with_amount_as_text_and_no_updated_at()

    result = await sql_probe(database, freshness_query=f"SELECT max(updated_at) FROM {database.table}"
                             ).measure()

    assert (result.ok, result.error_class) == (False, "query_error")
    assert f"{label(database)}.updated_at: missing" in result.details["schema_mismatch"]


async def test_a_mariadb_boolean_column_is_a_tinyint_that_still_matches_boolean(sql_probe):
    for database in mariadb_database():
        database.create({"id": "INT UNSIGNED", "active": "TINYINT(1)", "amount": "DOUBLE",
                         "name": "CHAR(3) CHARACTER SET latin1", "updated_at": "TIMESTAMP NULL",
                         "booked_on": "DATE"})
        result = await sql_probe(database).measure()
        assert result.details == {"schema_mismatch": []}


# --- JSON payloads ------------------------------------------------------------------------------

PAYLOADS = {
    "/invoices": {"items": [{"id": 1, "amount": 12.5, "customer": {"name": "Ann"},
                             "updated_at": "2026-11-02T10:00:00Z", "paid": True},
                            {"id": 2, "amount": 7, "customer": {"name": None},
                             "updated_at": "2026-11-02T10:05:00Z", "paid": False}]},
    "/invoices-broken": {"items": [{"id": 1, "amount": "12.50", "customer": {"name": "Ann"},
                                    "paid": True},
                                   {"id": "2", "amount": 7, "customer": {}, "paid": False}]},
}
FIELDS = {"id": "integer", "amount": "number", "customer.name": "string",
          "updated_at": "timestamp", "paid": "boolean"}


def payload_app() -> web.Application:
    def serve(body):
        async def handler(_request: web.Request) -> web.Response:
            return web.json_response(body)
        return handler

    async def html(_request: web.Request) -> web.Response:
        return web.Response(text="<html>maintenance</html>")

    app = web.Application()
    for path, body in PAYLOADS.items():
        app.router.add_get(path, serve(body))
    app.router.add_get("/html", html)
    return app


@pytest.fixture
async def payload_server():
    async with serving(payload_app()) as url:
        yield url


@pytest.fixture
async def http_probe(clock):
    made: list[HttpProbe] = []

    def make(url: str, json_path: str | None = "items") -> HttpProbe:
        port = Port("api", "http", interval=timedelta(minutes=1), timeout=TIMEOUT)
        schema = {"json_path": json_path, "fields": FIELDS}
        made.append(HttpProbe("sales/invoices", port, HttpOptions(url=url, schema=schema), clock))
        return made[-1]

    yield make
    for each in made:
        await each.close()


async def test_a_json_payload_matching_its_declared_fields_has_no_mismatch(payload_server, http_probe):
    result = await http_probe(f"{payload_server}/invoices").measure()

    assert (result.ok, result.details) == (True, {"status": 200, "schema_mismatch": []})


async def test_a_missing_and_a_retyped_json_field_are_named_and_the_port_stays_available(
        payload_server, http_probe):
    result = await http_probe(f"{payload_server}/invoices-broken").measure()

    assert result.ok is True
    assert result.details["schema_mismatch"] == [
        "id: declared integer, found string",  # the second record's
        "amount: declared number, found string",
        "customer.name: missing",
        "updated_at: missing"]


async def test_a_payload_that_is_not_json_or_lacks_its_records_is_a_mismatch(payload_server, http_probe):
    not_json = await http_probe(f"{payload_server}/html").measure()
    no_records = await http_probe(f"{payload_server}/invoices", json_path="data.items").measure()

    assert (not_json.ok, not_json.details["schema_mismatch"]) == (
        True, ["items: declared JSON, found not JSON"])
    assert no_records.details["schema_mismatch"] == ["data.items: missing"]
