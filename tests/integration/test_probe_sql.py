"""The SQL probe against SQLite files, the machine's PostgreSQL (:5432) and MariaDB (:3306)."""

from __future__ import annotations

import os
import secrets
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from monitor.contracts.model import Port
from monitor.contracts.results import ErrorClass
from monitor.probes import probe_class
from monitor.probes.sql import SqlOptions, SqlProbe

POSTGRES_ADMIN_URL = os.environ.get(
    "MESHWATCH_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MARIADB_URL = os.environ.get("MESHWATCH_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")
TIMEOUT = timedelta(seconds=0.5)
NEWEST = datetime(2026, 11, 2, 11, 45, tzinfo=UTC)
ROWS = [("o-1", NEWEST - timedelta(hours=2)), ("o-2", NEWEST), ("o-3", NEWEST - timedelta(minutes=5))]


@pytest.fixture
async def probe(clock):
    made: list[SqlProbe] = []

    def make(url: str, **options: str) -> SqlProbe:
        port = Port("warehouse", "sql", interval=timedelta(minutes=5), timeout=TIMEOUT)
        made.append(SqlProbe("checkout/orders", port, SqlOptions(url=url, **options), clock))
        return made[-1]

    yield make
    for each in made:
        await each.close()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    path = tmp_path / "checkout.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE orders (order_id TEXT PRIMARY KEY, updated_at TEXT NOT NULL)")
        connection.execute("CREATE TABLE returns (order_id TEXT, updated_at TEXT)")
        connection.executemany("INSERT INTO orders VALUES (?, ?)",
                               [(order, at.strftime("%Y-%m-%d %H:%M:%S")) for order, at in ROWS])
        connection.execute("INSERT INTO returns VALUES ('o-1', NULL)")
    return f"sqlite:///{path}"


def table_with_rows(url: str, timestamp_type: str) -> Iterator[str]:
    """A uniquely named table holding ROWS on the server at `url`, dropped afterwards."""
    name = f"mw_probe_{uuid.uuid4().hex[:10]}"
    engine = create_engine(url)
    naive = timestamp_type == "DATETIME(6)"  # MariaDB keeps no zone: write UTC wall time
    with engine.begin() as connection:
        connection.execute(text(f"CREATE TABLE {name} (order_id VARCHAR(20), updated_at {timestamp_type})"))
        connection.execute(text(f"INSERT INTO {name} VALUES (:order_id, :updated_at)"),
                           [{"order_id": order, "updated_at": at.replace(tzinfo=None) if naive else at}
                            for order, at in ROWS])
    try:
        yield name
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP TABLE IF EXISTS {name}"))
        engine.dispose()


@pytest.fixture
def postgres_table() -> Iterator[str]:
    yield from table_with_rows(POSTGRES_ADMIN_URL, "TIMESTAMP WITH TIME ZONE")


@pytest.fixture
def mariadb_table() -> Iterator[str]:
    yield from table_with_rows(MARIADB_URL, "DATETIME(6)")


@pytest.fixture
def mariadb_user() -> Iterator[str]:
    """The password of a MariaDB user `mw_probe_test` that may read the `test` database."""
    password = secrets.token_urlsafe(12)
    engine = create_engine(MARIADB_URL)
    with engine.begin() as connection:
        connection.execute(text("CREATE OR REPLACE USER 'mw_probe_test'@'%' IDENTIFIED BY :password"),
                           {"password": password})
        connection.execute(text("GRANT SELECT ON test.* TO 'mw_probe_test'@'%'"))
    try:
        yield password
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP USER IF EXISTS 'mw_probe_test'@'%'"))
        engine.dispose()


async def test_a_sqlite_table_is_available_and_its_newest_row_says_how_fresh_it_is(sqlite_url, probe, clock):
    result = await probe(sqlite_url, freshness_query="SELECT max(updated_at) FROM orders",
                         row_count_query="SELECT count(*) FROM orders").measure()
    assert (result.ok, result.error_class, result.error) == (True, None, None)
    assert result.newest_data_at == NEWEST  # a naive text timestamp, read as UTC
    assert result.details == {"row_count": 3}
    assert result.started_at == clock.now
    assert (result.product, result.port, result.kind) == ("checkout/orders", "warehouse", "sql")


@pytest.mark.postgres
async def test_a_postgres_table_reports_its_newest_row_and_row_count(postgres_table, probe):
    result = await probe(POSTGRES_ADMIN_URL, freshness_query=f"SELECT max(updated_at) FROM {postgres_table}",
                         row_count_query=f"SELECT count(*) FROM {postgres_table}").measure()
    assert (result.ok, result.newest_data_at, result.details) == (True, NEWEST, {"row_count": 3})


async def test_a_mariadb_table_reports_its_newest_row_as_utc_and_its_row_count(mariadb_table, probe):
    result = await probe(MARIADB_URL, freshness_query=f"SELECT max(updated_at) FROM {mariadb_table}",
                         row_count_query=f"SELECT count(*) FROM {mariadb_table}").measure()
    assert (result.ok, result.newest_data_at, result.details) == (True, NEWEST, {"row_count": 3})


async def test_rounds_reuse_the_probes_engine(sqlite_url, probe):
    warehouse = probe(sqlite_url)
    assert all([(await warehouse.measure()).ok for _ in range(3)])


@pytest.mark.parametrize("url", [
    pytest.param(POSTGRES_ADMIN_URL, marks=pytest.mark.postgres, id="postgres"),
    pytest.param(MARIADB_URL, id="mariadb"),
    pytest.param("sqlite", id="sqlite"),
])
@pytest.mark.parametrize(("options", "failed"), [
    ({"query": "SELEC 1"}, "query failed: "),
    ({"freshness_query": "SELECT max(updated_at) FROM mw_no_such_table"}, "freshness_query failed: "),
], ids=["bad SQL", "missing table"])
async def test_sql_the_database_refuses_is_a_query_error(url, options, failed, sqlite_url, probe):
    result = await probe(sqlite_url if url == "sqlite" else url, **options).measure()
    assert (result.ok, result.error_class) == (False, ErrorClass.QUERY_ERROR)
    assert result.error.startswith(failed)


@pytest.mark.parametrize("url", [
    pytest.param("postgresql+psycopg://postgres:hunter2secret@127.0.0.1:1/test", id="postgres"),
    pytest.param("mysql+pymysql://root:hunter2secret@127.0.0.1:1/test", id="mariadb"),
])
async def test_a_port_with_nothing_listening_is_refused_without_showing_the_password(url, probe):
    result = await probe(url).measure()
    assert (result.ok, result.error_class) == (False, ErrorClass.REFUSED)
    assert "127.0.0.1" in result.error and ":***@" in result.error
    assert "hunter2secret" not in result.error


@pytest.mark.parametrize("given_as", ["url", "option"])
async def test_a_wrong_mariadb_password_is_an_auth_failure_that_never_shows_a_password(
        mariadb_user, probe, given_as):
    def user(password: str) -> dict[str, str]:
        if given_as == "url":
            return {"url": f"mysql+pymysql://mw_probe_test:{password}@127.0.0.1:3306/test"}
        return {"url": "mysql+pymysql://mw_probe_test@127.0.0.1:3306/test", "password": password}

    assert (await probe(**user(mariadb_user)).measure()).ok
    wrong = "Wr0ng-" + secrets.token_urlsafe(8)
    result = await probe(**user(wrong)).measure()
    assert (result.ok, result.error_class) == (False, ErrorClass.AUTH)
    assert "Access denied for user 'mw_probe_test'" in result.error
    assert wrong not in result.error and mariadb_user not in result.error


@pytest.mark.parametrize("url", [
    pytest.param("postgresql+psycopg://postgres@nonexistent.invalid:5432/test", id="postgres"),
    pytest.param("mysql+pymysql://root@nonexistent.invalid:3306/test", id="mariadb"),
])
async def test_an_unknown_host_is_a_dns_failure(url, probe):
    result = await probe(url).measure()
    assert result.error_class == ErrorClass.DNS
    assert "nonexistent.invalid" in result.error


@pytest.mark.postgres
async def test_a_query_slower_than_the_timeout_is_a_timeout(probe):
    result = await probe(POSTGRES_ADMIN_URL, query="SELECT pg_sleep(1)").measure()
    assert (result.ok, result.error_class) == (False, ErrorClass.TIMEOUT)
    assert result.error == "no answer within 0.5s"


async def test_a_missing_sqlite_file_is_refused_and_not_created(tmp_path, probe):
    missing = tmp_path / "gone.db"
    result = await probe(f"sqlite:///{missing}").measure()
    assert (result.error_class, result.error) == (ErrorClass.REFUSED, f"no SQLite database file at {missing}")
    assert not missing.exists()


async def test_an_empty_table_is_available_but_holds_no_newest_data(sqlite_url, probe):
    result = await probe(sqlite_url, freshness_query="SELECT max(updated_at) FROM orders WHERE 0").measure()
    assert (result.ok, result.newest_data_at) == (True, None)


@pytest.mark.parametrize(("options", "message"), [
    ({"freshness_query": "SELECT max(updated_at) FROM returns",
      "row_count_query": "SELECT count(*) FROM returns"},
     "freshness_query returned NULL though row_count_query counted 1 rows"),
    ({"freshness_query": "SELECT 'soon'"}, "freshness_query: not a timestamp: 'soon'"),
    ({"row_count_query": "SELECT 'many'"}, "row_count_query returned 'many', not an integer"),
])
async def test_answers_that_are_not_what_the_query_promised_are_a_bad_payload(
        sqlite_url, probe, options, message):
    result = await probe(sqlite_url, **options).measure()
    assert (result.ok, result.error_class, result.error) == (False, ErrorClass.BAD_PAYLOAD, message)


async def test_a_driver_that_is_not_installed_is_a_configuration_problem(probe):
    result = await probe("mysql+mysqldb://root:hunter2secret@127.0.0.1/test").measure()
    assert result.error_class == ErrorClass.CONFIG
    assert "hunter2secret" not in result.error


def test_the_registry_finds_the_sql_probe_by_its_kind():
    assert probe_class("sql") is SqlProbe


def test_options_accept_a_placeholder_url_and_refuse_one_sqlalchemy_cannot_read():
    assert SqlOptions(url="${CHECKOUT_SQL_URL}").query == "SELECT 1"
    with pytest.raises(ValueError) as raised:
        SqlOptions(url="user:hunter2secret@warehouse")
    [problem] = raised.value.errors()
    assert problem["loc"] == ("url",)
    assert problem["msg"].startswith("Value error, not a SQLAlchemy URL")
    assert "hunter2secret" not in problem["msg"]
