"""Open the store: SQLite (WAL) by default, PostgreSQL by URL, nothing else. Commands that write
open it with `open_store` (which migrates the schema, under a lock, so any number of processes may
start at once); commands that only read open it with `open_reader` (which neither creates nor
migrates anything, and whose connections refuse writes)."""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlmodel import create_engine

from monitor.values.extras import Extra, MissingExtra, require
from monitor.values.secrets import bounded, safe_text

MIGRATIONS = Path(__file__).parent / "migrations"
DEFAULT_URL = "sqlite:///meshwatch.db"
# the databases meshwatch's SQL is written for (store/dialect.py), with the drivers it ships
STORE_DRIVERS = frozenset({"sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg"})
STORES = "meshwatch stores in SQLite (sqlite:///path) or PostgreSQL (postgresql://…)"
# the key of the PostgreSQL advisory lock that migrations take: fixed, so every process agrees
MIGRATION_LOCK = int.from_bytes(b"meshwatc", "big")
SQLITE_BUSY_SECONDS = 30  # how long an SQLite connection waits for another one's lock


class StoreUnavailable(RuntimeError):
    """The database cannot be reached or opened; the message says which and why."""


def url_problem(url: str) -> str | None:
    """Why `url` cannot hold a store (not SQLite or PostgreSQL, or not a URL at all), or None.
    The answer never repeats the URL, so it never shows a password."""
    try:
        drivername = make_url(url).drivername
    except (ArgumentError, ValueError):
        return f"{STORES}; this is not a database URL"
    if drivername in STORE_DRIVERS:
        return None
    return f"{STORES}; {bounded(drivername, 60)} is not supported"


def _refuse_unsupported(url: str) -> None:
    problem = url_problem(url)
    if problem is None:
        return
    try:
        where = f" {describe(url)}"
    except (ArgumentError, ValueError):
        where = ""
    raise StoreUnavailable(f"cannot open the store{where}: {problem}")


def open_engine(url: str = DEFAULT_URL) -> Engine:
    """An engine on `url`; StoreUnavailable, before anything is created, when it is not SQLite or
    PostgreSQL."""
    _refuse_unsupported(url)
    if url.startswith("postgresql"):
        try:
            require(Extra.POSTGRES, "a PostgreSQL store")
        except MissingExtra as error:
            raise StoreUnavailable(f"cannot open the store {describe(url)}: {error}") from None
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS,
                                                 "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    _journal_in_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _journal_in_wal(cursor: sqlite3.Cursor) -> None:
    """PRAGMA journal_mode=WAL. Processes switching a fresh file at the same moment may be told
    "database is locked" at once, without the busy timeout's wait: they try again, as long."""
    deadline = time.monotonic() + SQLITE_BUSY_SECONDS
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(random.uniform(0.005, 0.05))  # jittered, so they do not collide again


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration, in one transaction that first takes
    the store's migration lock: a process that starts while another migrates waits for it, then
    finds the schema at head and has nothing to do."""
    config = _alembic_config()
    with engine.begin() as connection:
        _lock_migrations(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _lock_migrations(connection: Connection) -> None:
    """PostgreSQL: an advisory lock held until the transaction ends. SQLite: the write lock, taken
    at once (BEGIN IMMEDIATE; other writers wait up to the 30 s busy timeout), which also makes
    the whole migration one transaction instead of one autocommitted statement at a time."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def open_store(url: str = DEFAULT_URL) -> Engine:
    """An engine on a migrated store; StoreUnavailable with a readable reason otherwise."""
    try:
        engine = open_engine(url)
        migrate(engine)
    except (SQLAlchemyError, ImportError, ValueError) as error:
        reason = getattr(error, "orig", None) or error
        raise StoreUnavailable(f"cannot open the store {describe(url)}: {reason}".strip()) from None
    return engine


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


class StoreNotCreated(StoreUnavailable):
    """The store's database does not exist yet: nothing has been measured."""


def open_reader(url: str) -> Engine:
    """An engine on an existing store whose connections are read-only (SQLite `query_only`,
    PostgreSQL read-only transactions). It neither creates the database nor migrates it."""
    _refuse_unsupported(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not parsed.database.startswith("file:") and not Path(parsed.database).exists():
        raise StoreNotCreated(f"no store at {describe(url)} yet")
    engine = open_engine(url)
    event.listen(engine, "connect", _refuse_writes)
    return engine


def _refuse_writes(dbapi_connection, _record) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA query_only = ON")
        cursor.close()
        return
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True  # a SET inside a transaction would end with it
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    cursor.close()
    dbapi_connection.autocommit = autocommit


def open_current_reader(url: str) -> Engine:
    """`open_reader` on a store whose schema is this version's: StoreNotCreated when nothing was
    ever written there, StoreUnavailable (saying how to upgrade) when it is older."""
    engine = open_reader(url)
    try:
        with engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as error:
        reason = getattr(error, "orig", None) or error
        raise StoreUnavailable(f"cannot open the store {describe(url)}: {reason}".strip()) from None
    if revision is None:
        raise StoreNotCreated(f"no store at {describe(url)} yet")
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    if revision != head:
        raise StoreUnavailable(f"the store {describe(url)} has schema {revision}; this meshwatch "
                               f"reads {head}: run `meshwatch run` or `meshwatch check` once to "
                               f"upgrade it")
    return engine


def store_error_text(error: BaseException) -> str:
    """What went wrong with the store, in one redacted, bounded line (the driver's own message)."""
    original = getattr(error, "orig", None)
    lines = str(original or error).strip().splitlines()
    return safe_text(lines[0] if lines else type(error).__name__, 300)
