"""Open the store: SQLite (WAL) by default, PostgreSQL by URL; migrate the schema on start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import create_engine

MIGRATIONS = Path(__file__).parent / "migrations"
DEFAULT_URL = "sqlite:///meshwatch.db"


class StoreUnavailable(RuntimeError):
    """The database cannot be reached or opened; the message says which and why."""


def open_engine(url: str = DEFAULT_URL) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


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
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
