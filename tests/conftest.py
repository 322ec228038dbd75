"""Shared fixtures: a store on SQLite and on the machine's PostgreSQL, and a hand-driven clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from monitor.store import open_store

ROOT = Path(__file__).resolve().parent.parent
STANDARDS = ROOT.parent / "shared" / "fixtures" / "standards"
POSTGRES_ADMIN_URL = os.environ.get(
    "MESHWATCH_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


KINDS = {"unit", "integration"}  # the folder a test lies in is its kind


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks each test `unit` or `integration` after its folder, so `pytest -m unit` runs the pure ones."""
    for item in items:
        kind = next((part for part in item.path.relative_to(ROOT / "tests").parts if part in KINDS), None)
        if kind:
            item.add_marker(kind)


class FakeClock:
    """A clock tests move by hand: `clock()` reads it, `clock.advance(...)` moves it."""

    def __init__(self, start: datetime = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta = timedelta(minutes=1)) -> datetime:
        self.now += delta
        return self.now


@pytest.fixture(autouse=True)
def _environment_restored() -> Iterator[None]:
    """Each test sees the environment the session started with: the demo sets MESHWATCH_*
    variables in its own process (for the dashboard it starts), which must not leak on."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _postgres_database() -> Iterator[str]:
    name = f"mw_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # the machine's PostgreSQL is part of the test environment
        pytest.fail(f"PostgreSQL at {POSTGRES_ADMIN_URL} is needed for the store tests: {error}")
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path) -> Iterator[str]:
    """A fresh, empty store URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'meshwatch.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def store(store_url):
    """A migrated engine on `store_url`."""
    engine = open_store(store_url)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database (for tests that only make sense there)."""
    yield from _postgres_database()
