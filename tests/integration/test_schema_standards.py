"""ODCS schema objects and DCS models are compared on their server's port: an ODCS contract on
the machine's PostgreSQL and on a real HTTP API, a DCS contract on MariaDB — each through
`meshwatch check` (the probe, the store, the evaluation)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from aiohttp import web
from sqlalchemy import create_engine, text

from monitor.cli.check import check_once, probe_json
from monitor.config.loading import load_config
from monitor.evaluation.mesh import objective_json
from monitor.store import open_store
from tests.support.daemon import write_config
from tests.support.postgres import postgres_database
from tests.support.serving import serving

MARIADB_URL = os.environ.get("MESHWATCH_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")

ODCS = """\
apiVersion: v3.0.2
kind: DataContract
id: sales-invoices
name: invoices
version: 1.0.0
status: active
domain: sales
dataProduct: invoices
servers:
  - {{server: db, type: postgres, host: 127.0.0.1, port: 5432, database: {database}, schema: sales}}
schema:
  - name: invoices
    physicalName: invoices
    physicalType: table
    properties:
      - {{name: invoice_id, logicalType: integer, physicalType: bigint}}
      - {{name: amount, logicalType: number, physicalType: "decimal(10,2)"}}
      - {{name: updated_at, logicalType: date, physicalType: timestamp}}
slaProperties:
  - {{property: availability, value: 99.5, unit: percent}}
"""
BINDING = """\
apiVersion: meshwatch/v1
kind: DataProduct
metadata: {{domain: sales, name: invoices}}
owner: {{team: sales}}
contract: {{source: invoices.odcs.yaml}}
ports:
  - {{name: db, type: sql, url: "{url}", interval: 5m}}
"""


@pytest.fixture
def sales_database() -> Iterator[str]:
    for url in postgres_database():
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("CREATE SCHEMA sales"))
            connection.execute(text("CREATE TABLE sales.invoices (invoice_id BIGINT, amount TEXT)"))
        engine.dispose()
        yield url


async def checked(directory, tmp_path) -> tuple[dict, dict]:
    """(the one probe, the one objective) of `meshwatch check --json` on `directory`."""
    config = load_config(directory)
    assert [str(p) for p in config.problems] == []
    engine = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        results, reports, _ = await check_once(config, engine)
    finally:
        engine.dispose()
    [probe] = [probe_json(r) for r in results]
    [objective] = [objective_json(r) for r in reports]
    return probe, objective


@pytest.mark.postgres
async def test_an_odcs_schema_object_is_compared_with_its_postgres_table(sales_database, tmp_path):
    database = sales_database.rsplit("/", 1)[1]
    directory = write_config(tmp_path / "config", {
        "invoices.odcs.yaml": ODCS.format(database=database),
        "invoices.yaml": BINDING.format(url=sales_database)}, "timezone: UTC\n")
    product = load_config(directory).registry.products["sales/invoices"]
    assert not [d for d in product.unmonitored if d.name == "schema invoices"]  # compared, not listed

    probe, objective = await checked(directory, tmp_path)

    findings = ["invoices.amount: declared decimal(10,2), found text", "invoices.updated_at: missing"]
    assert (probe["ok"], probe["schema_mismatch"]) == (True, findings)
    assert (objective["objective"], objective["status"]) == ("availability", "at_risk")
    assert [c["name"] for c in objective["conditions"]] == ["schema_mismatch"]
    assert objective["schema_mismatch"] == findings


DCS = """\
dataContractSpecification: 1.1.0
id: shipments
info: {{title: Shipments, version: 1.0.0, owner: logistics}}
servers:
  production: {{type: mysql, host: 127.0.0.1, port: 3306, database: test}}
models:
  {table}:
    type: table
    fields:
      shipment_id: {{type: long}}
      shipped: {{type: boolean}}
      shipped_at: {{type: timestamp}}
servicelevels:
  availability: {{percentage: 99%}}
"""
DCS_BINDING = """\
apiVersion: meshwatch/v1
kind: DataProduct
metadata: {{domain: default, name: shipments}}
owner: {{team: logistics}}
contract: {{source: shipments.dcs.yaml}}
ports:
  - {{name: production, type: sql, url: "{url}", interval: 5m}}
"""


@pytest.fixture
def shipments_table() -> Iterator[str]:
    name = f"mw_shipments_{uuid.uuid4().hex[:8]}"
    engine = create_engine(MARIADB_URL)
    with engine.begin() as connection:
        connection.execute(text(f"CREATE TABLE {name} (shipment_id BIGINT, shipped VARCHAR(5))"))
    try:
        yield name
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP TABLE IF EXISTS {name}"))
        engine.dispose()


async def test_a_dcs_model_is_compared_with_its_mariadb_table(shipments_table, tmp_path):
    directory = write_config(tmp_path / "config", {
        "shipments.dcs.yaml": DCS.format(table=shipments_table),
        "shipments.yaml": DCS_BINDING.format(url=MARIADB_URL)}, "timezone: UTC\n")

    probe, objective = await checked(directory, tmp_path)

    findings = [f"{shipments_table}.shipped: declared boolean, found varchar(5)",
                f"{shipments_table}.shipped_at: missing"]
    assert (probe["ok"], probe["schema_mismatch"]) == (True, findings)
    assert [c["name"] for c in objective["conditions"]] == ["schema_mismatch"]
    assert objective["schema_mismatch"] == findings


ODCS_API = """\
apiVersion: v3.0.2
kind: DataContract
id: sales-quotes
name: quotes
version: 1.0.0
status: active
domain: sales
dataProduct: quotes
servers:
  - {{server: api, type: api, location: "{url}"}}
schema:
  - name: quote
    properties:
      - {{name: id, logicalType: integer}}
      - {{name: price, logicalType: number}}
      - {{name: valid_until, logicalType: date}}
slaProperties:
  - {{property: availability, value: 99.5, unit: percent}}
"""


@pytest.fixture
async def quote_api():
    async def quote(_request: web.Request) -> web.Response:
        return web.json_response({"id": 7, "price": "12.00"})

    app = web.Application()
    app.router.add_get("/quote", quote)
    async with serving(app) as url:
        yield f"{url}/quote"


async def test_an_odcs_schema_object_is_compared_with_its_api_payload(quote_api, tmp_path):
    directory = write_config(tmp_path / "config", {
        "quotes.odcs.yaml": ODCS_API.format(url=quote_api)}, "timezone: UTC\n")

    probe, objective = await checked(directory, tmp_path)

    findings = ["price: declared number, found string", "valid_until: missing"]
    assert (probe["ok"], probe["schema_mismatch"]) == (True, findings)
    assert objective["schema_mismatch"] == findings
