"""The volume indicator against real sources: a count query with `:since` on SQLite, PostgreSQL
and MariaDB, blob sizes in Azurite, a count an HTTP API reports; and end to end through the
store: "at least 1,000 rows a day" is judged probe by probe, and a day that brings too few pages.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from aiohttp import web
from azure.storage.blob import ContainerClient
from sqlalchemy import create_engine, select, text

from monitor.contracts.model import DataProduct, Indicator, Objective, Owner, Port
from monitor.contracts.results import ErrorClass, ProbeResult, Volume
from monitor.evaluation.indicators import events_from_result
from monitor.evaluation.mesh import evaluate_mesh, objective_json
from monitor.probes.azure_blob import AzureBlobProbe
from monitor.probes.http import HttpOptions, HttpProbe
from monitor.probes.sql import SqlOptions, SqlProbe
from monitor.slo import Status
from monitor.store import record_events
from monitor.store.measurements import record_probe_results
from monitor.store.tables import ProbeRecord, core_table
from monitor.values.volumes import Amount, VolumeUnit
from tests.integration.test_probe_sql import MARIADB_URL, POSTGRES_ADMIN_URL
from tests.support.azurite import new_container, start_azurite_blob  # noqa: F401 - the `azurite_blob` fixture
from tests.support.clock import FakeClock
from tests.support.serving import serving

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
DAY = timedelta(days=1)
# rows created 1 h, 23 h, 25 h and 3 d before NOW: two of them in the last day
CREATED = [NOW - timedelta(hours=1), NOW - timedelta(hours=23), NOW - timedelta(hours=25),
           NOW - timedelta(days=3)]
COUNT_SINCE = "SELECT count(*) FROM {table} WHERE created_at >= :since"


def measure(probe) -> ProbeResult:
    async def once() -> ProbeResult:
        try:
            return await probe.measure()
        finally:
            await probe.close()
    return asyncio.run(once())


def sql_probe(url: str, **volume) -> SqlProbe:
    port = Port("warehouse", "sql", interval=timedelta(minutes=5), timeout=timedelta(seconds=5))
    return SqlProbe("checkout/orders", port, SqlOptions(url=url, volume=volume), FakeClock(NOW))


def table(url: str, column: str) -> Iterator[str]:
    name = f"mw_volume_{uuid.uuid4().hex[:10]}"
    engine = create_engine(url)
    naive = column.startswith("DATETIME")
    with engine.begin() as connection:
        connection.execute(text(f"CREATE TABLE {name} (id INTEGER, created_at {column})"))
        connection.execute(text(f"INSERT INTO {name} VALUES (:id, :at)"),
                           [{"id": i, "at": at.replace(tzinfo=None) if naive else at}
                            for i, at in enumerate(CREATED)])
    try:
        yield name
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP TABLE IF EXISTS {name}"))
        engine.dispose()


@pytest.fixture
def sqlite_orders(tmp_path) -> str:
    path = tmp_path / "orders.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE orders (id INTEGER, created_at TEXT)")
        connection.executemany("INSERT INTO orders VALUES (?, ?)",
                               [(i, at.strftime("%Y-%m-%d %H:%M:%S")) for i, at in enumerate(CREATED)])
    return f"sqlite:///{path}"


def test_a_count_query_counts_the_rows_of_the_last_day_on_sqlite(sqlite_orders):
    result = measure(sql_probe(sqlite_orders, query=COUNT_SINCE.format(table="orders")))
    assert (result.ok, result.volume) == (True, Volume(2, VolumeUnit.ROWS, DAY))


@pytest.mark.postgres
def test_a_count_query_counts_the_rows_of_the_last_day_on_postgres():
    for name in table(POSTGRES_ADMIN_URL, "TIMESTAMP WITH TIME ZONE"):
        six_hours = measure(sql_probe(POSTGRES_ADMIN_URL, query=COUNT_SINCE.format(table=name),
                                      per="6h"))
        assert six_hours.volume == Volume(1, VolumeUnit.ROWS, timedelta(hours=6))
        week = measure(sql_probe(POSTGRES_ADMIN_URL, query=COUNT_SINCE.format(table=name), per="7d"))
        assert week.volume == Volume(4, VolumeUnit.ROWS, timedelta(days=7))


def test_a_count_query_counts_the_rows_of_the_last_day_on_mariadb():
    for name in table(MARIADB_URL, "DATETIME(6)"):
        result = measure(sql_probe(MARIADB_URL, query=COUNT_SINCE.format(table=name)))
        assert result.volume == Volume(2, VolumeUnit.ROWS, DAY)


def test_a_count_query_without_since_is_run_as_written(sqlite_orders):
    result = measure(sql_probe(sqlite_orders, query="SELECT count(*) FROM orders"))
    assert result.volume == Volume(4, VolumeUnit.ROWS, DAY)


@pytest.mark.parametrize(("query", "error"), [
    ("SELECT 'many'", "volume query returned 'many', not an integer"),
    ("SELECT -3", "volume query returned -3, not a count of rows"),
    ("SELECT count(*) FROM nowhere", "volume query failed: "),
])
def test_a_volume_query_that_returns_no_count_is_a_classified_failure(sqlite_orders, query, error):
    result = measure(sql_probe(sqlite_orders, query=query))
    assert not result.ok and result.volume is None
    assert result.error_class in (ErrorClass.BAD_PAYLOAD, ErrorClass.QUERY_ERROR)
    assert result.error.startswith(error)


@pytest.fixture
def container(azurite_blob) -> Iterator[ContainerClient]:
    yield from new_container(azurite_blob, "volume")


def blob_probe(connection_string: str, container: str, clock, **options) -> AzureBlobProbe:
    port = Port("lake", "azure_blob", interval=timedelta(minutes=5), timeout=timedelta(seconds=5))
    return AzureBlobProbe("cart/events", port, AzureBlobProbe.Options(
        connection_string=connection_string, container=container, prefix="events/", **options),
        clock)


def test_blob_volume_is_the_bytes_or_blobs_modified_in_the_last_span(azurite_blob, container):
    for index, size in enumerate((100, 250, 650)):
        container.upload_blob(f"events/part-{index}.jsonl", b"x" * size)
    container.upload_blob("other/ignored.jsonl", b"x" * 999)
    uploaded = datetime.now(UTC)  # Azurite stamps last_modified with its own clock
    name = container.container_name
    in_a_day = blob_probe(azurite_blob, name, FakeClock(uploaded), volume={"per": "1d"})
    assert measure(in_a_day).volume == Volume(1000, VolumeUnit.BYTES, DAY)
    counted = blob_probe(azurite_blob, name, FakeClock(uploaded), volume={"unit": "blobs"})
    assert measure(counted).volume == Volume(3, VolumeUnit.BLOBS, DAY)
    # seen two days later, nothing landed in the last day
    later = blob_probe(azurite_blob, name, FakeClock(uploaded + 2 * DAY), volume={"per": "1d"})
    assert measure(later).volume == Volume(0, VolumeUnit.BYTES, DAY)


def test_a_listing_cut_at_max_blobs_knows_no_volume_and_says_why(azurite_blob, container):
    for index in range(3):
        container.upload_blob(f"events/part-{index}.jsonl", b"x")
    probe = blob_probe(azurite_blob, container.container_name, FakeClock(datetime.now(UTC)),
                       volume={}, max_blobs=2)
    result = measure(probe)
    assert (result.ok, result.volume) == (True, None)
    assert result.details["volume_unknown"] == ("the listing stopped at max_blobs (2): what "
                                                "landed is not known")


@pytest.fixture
async def api() -> AsyncIterator[str]:
    async def counts(_request):
        return web.json_response({"today": {"rows": 1234}, "items": [1, 2, 3], "odd": "many"})

    app = web.Application()
    app.router.add_get("/counts", counts)
    async with serving(app) as url:
        yield f"{url}/counts"


async def measured(url: str, **volume) -> ProbeResult:
    port = Port("api", "http", interval=timedelta(minutes=1), timeout=timedelta(seconds=5))
    probe = HttpProbe("checkout/orders", port, HttpOptions(url=url, volume=volume), FakeClock(NOW))
    try:
        return await probe.measure()
    finally:
        await probe.close()


async def test_an_api_reports_its_count_or_an_array_whose_length_is_counted(api):
    assert (await measured(api, json_path="today.rows")).volume == Volume(1234, VolumeUnit.ROWS, DAY)
    assert (await measured(api, json_path="items", unit="items", per="1h")).volume == Volume(
        3, VolumeUnit.ITEMS, timedelta(hours=1))
    odd = await measured(api, json_path="odd")
    assert (odd.ok, odd.error_class, odd.error) == (
        False, ErrorClass.BAD_PAYLOAD, "field odd is 'many', not a count or an array")


def orders(minimum: int) -> DataProduct:
    return DataProduct("checkout", "orders", Owner("checkout"),
                       ports=(Port("warehouse", "sql", interval=timedelta(hours=1)),),
                       objectives=(Objective("daily-rows", Indicator.VOLUME, Decimal("0.95"),
                                             window=timedelta(days=7), port="warehouse",
                                             minimum=Amount(minimum, VolumeUnit.ROWS)),))


def test_at_least_1000_rows_a_day_is_judged_probe_by_probe_through_the_store(store):
    """Hourly probes for a week; from day 5 the pipeline brings 600 rows a day instead of 1,500.
    Each probe is one event: the 48 probes of days 5 and 6 are bad, 10 % of 7 days' 168, twice
    the 5 % budget: breached, and the store keeps each probe's volume."""
    product = orders(1000)
    start = NOW - timedelta(days=7) + timedelta(hours=1)
    results = [ProbeResult(product.id, "warehouse", "sql", start + timedelta(hours=h), True,
                           latency=timedelta(milliseconds=5),
                           volume=Volume(1500 if h < 120 else 600, VolumeUnit.ROWS, DAY))
               for h in range(168)]
    with store.begin() as connection:
        record_probe_results(connection, results)
        record_events(connection, [e for r in results for e in events_from_result(product, r)])
    with store.connect() as connection:
        (report,) = evaluate_mesh(connection, [product], NOW)
        stored = connection.execute(select(core_table(ProbeRecord).c.details)
                                    .order_by(core_table(ProbeRecord).c.started_at)).scalars().all()
    evaluation = report.evaluation
    assert (evaluation.counts.good, evaluation.counts.total) == (120, 168)
    assert evaluation.status is Status.BREACHED
    assert stored[0] == {"volume": 1500, "volume_unit": "rows", "volume_per": 86400}
    assert stored[-1]["volume"] == 600
    shown = objective_json(report)
    assert (shown["indicator"], shown["min"], shown["max"], shown["status"]) == (
        "volume", 1000, None, "breached")
