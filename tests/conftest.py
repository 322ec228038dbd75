"""Shared fixtures: a store on SQLite and on the machine's PostgreSQL, and a hand-driven clock;
each test is marked `unit` or `integration` after its folder."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from monitor.store import open_store
from tests.support.clock import FakeClock
from tests.support.postgres import postgres_database
from tests.support.repository import ROOT

KINDS = {"unit", "integration"}  # the folder a test lies in is its kind


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks each test `unit` or `integration` after its folder, so `pytest -m unit` runs the pure ones."""
    for item in items:
        kind = next((part for part in item.path.relative_to(ROOT / "tests").parts if part in KINDS), None)
        if kind:
            item.add_marker(kind)


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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path) -> Iterator[str]:
    """A fresh, empty store URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'meshwatch.db'}"
    else:
        yield from postgres_database()


@pytest.fixture
def store(store_url):
    """A migrated engine on `store_url`."""
    engine = open_store(store_url)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database (for tests that only make sense there)."""
    yield from postgres_database()
