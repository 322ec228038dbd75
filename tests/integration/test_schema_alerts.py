"""A schema mismatch from the probe to the alert: the port's latest findings are stored with its
state (SQLite and PostgreSQL stores), evaluation makes them a `schema_mismatch` ticket condition
of each objective on the port, and the alert engine opens a ticket naming the columns."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from monitor.alerting import Notifiers, deliver_due, process_evaluations
from monitor.alerting.messages import AlertItem, describe_measure
from monitor.cli.app import app
from monitor.contracts.model import DataProduct, Indicator, Objective, Owner, Port
from monitor.daemon.buffer import MeasurementBuffer
from monitor.demo.webhooks import WebhookReceiver
from monitor.evaluation.mesh import evaluate_mesh, objective_json
from monitor.probes.sql import SqlOptions, SqlProbe
from monitor.store.measurements import port_states
from tests.support.alerting import settings
from tests.support.daemon import write_config

SCHEMA = {"table": "invoices", "columns": {"id": "integer", "amount": "decimal",
                                           "updated_at": "timestamp"}}
MATCHING = "CREATE TABLE invoices (id INTEGER, amount DECIMAL(10, 2), updated_at TIMESTAMP)"
BROKEN = "CREATE TABLE invoices (id INTEGER, amount TEXT)"
FINDINGS = ["invoices.amount: declared decimal, found text", "invoices.updated_at: missing"]
AVAILABILITY = Objective("warehouse-availability", Indicator.AVAILABILITY, Decimal("0.99"),
                         window=timedelta(days=30), port="warehouse")
ELSEWHERE = Objective("api-availability", Indicator.AVAILABILITY, Decimal("0.99"), port="api")


def sales_table(path, create: str) -> str:
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as connection:
        connection.execute(create)
    connection.close()
    return f"sqlite:///{path}"


def invoices_product(url: str, notify=()) -> DataProduct:
    return DataProduct(domain="sales", name="invoices", owner=Owner("sales", None, tuple(notify)),
                       start=date(2026, 1, 1),
                       ports=(Port("warehouse", "sql", timedelta(minutes=1), timedelta(seconds=2),
                                   {"url": url, "schema": SCHEMA}),
                              Port("api", "http", options={"url": "http://127.0.0.1:9/"})),
                       objectives=(AVAILABILITY, ELSEWHERE))


async def probe_once(store, product: DataProduct, clock) -> None:
    """One probe of the warehouse, stored as the daemon stores it (history, state, events)."""
    port = product.port("warehouse")
    assert port is not None
    probe = SqlProbe(product.id, port, SqlOptions.model_validate(port.options), clock)
    buffer = MeasurementBuffer(store)
    buffer.products = {product.id: product}
    buffer.add(await probe.measure())
    await probe.close()
    assert buffer.flush().written == 1


def evaluated(store, product: DataProduct, at) -> dict:
    with store.connect() as connection:
        return {r.objective.name: r for r in evaluate_mesh(connection, [product], at,
                                                           monitoring_since=at)}


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


async def test_a_retyped_and_a_dropped_column_open_one_ticket_naming_them(store, tmp_path, clock,
                                                                         receiver):
    data = tmp_path / "sales.db"
    product = invoices_product(sales_table(data, BROKEN), [{"webhook": receiver.url("/owner")}])
    config = settings()

    await probe_once(store, product, clock)
    reports = evaluated(store, product, clock())

    warehouse = reports["warehouse-availability"]
    assert [(c.name, c.severity) for c in warehouse.evaluation.conditions] == [
        ("schema_mismatch", "ticket")]
    assert warehouse.evaluation.schema_mismatch == tuple(FINDINGS)
    assert warehouse.evaluation.counts.good == warehouse.evaluation.counts.total == 1  # still available
    assert objective_json(warehouse)["schema_mismatch"] == FINDINGS
    assert reports["api-availability"].evaluation.conditions == ()  # another port's objective

    process_evaluations(store, reports.values(), clock(), config)
    deliver_due(store, clock(), Notifiers(config), "worker-1")
    [firing] = receiver.at("/owner")
    assert (firing.json["objective"], firing.json["condition"], firing.json["severity"]) == (
        "warehouse-availability", "schema_mismatch", "ticket")
    assert firing.json["measured"]["schema_mismatch"] == FINDINGS
    assert ("schema differs from the contract: invoices.amount: declared decimal, found text; "
            "invoices.updated_at: missing") in describe_measure(AlertItem(**firing.json["alerts"][0]))

    # the database goes away: the probe fails, and the findings it could not renew are kept
    data.unlink()
    clock.advance(timedelta(minutes=1))
    await probe_once(store, product, clock)
    with store.connect() as connection:
        assert port_states(connection)[("sales/invoices", "warehouse")].schema_mismatch == FINDINGS
    assert evaluated(store, product, clock())["warehouse-availability"].evaluation.schema_mismatch \
        == tuple(FINDINGS)

    # the table is fixed: the condition clears and the ticket resolves
    sales_table(data, MATCHING)
    clock.advance(timedelta(minutes=1))
    await probe_once(store, product, clock)
    reports = evaluated(store, product, clock())
    assert [c.name for c in reports["warehouse-availability"].evaluation.conditions] == []
    process_evaluations(store, reports.values(), clock(), config)
    deliver_due(store, clock(), Notifiers(config), "worker-1")
    assert [r.json["status"] for r in receiver.at("/owner")] == ["firing", "resolved"]


CONTRACT = """\
apiVersion: meshwatch/v1
kind: DataProduct
metadata: {{domain: sales, name: invoices}}
owner: {{team: sales}}
ports:
  - name: warehouse
    type: sql
    url: {url}
    interval: 5m
    schema: {{table: invoices, columns: {{id: integer, amount: decimal, updated_at: timestamp}}}}
objectives:
  - {{name: warehouse-availability, port: warehouse, indicator: availability, target: 99%}}
"""


def test_check_json_shows_the_mismatch_on_the_probe_and_on_the_objective(tmp_path):
    url = sales_table(tmp_path / "sales.db", BROKEN)
    directory = write_config(tmp_path / "config", {"invoices.yaml": CONTRACT.format(url=url)},
                             "timezone: UTC\n")

    result = CliRunner().invoke(app, ["check", "--json", "--config", str(directory)],
                                env={"MESHWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}"})

    assert result.exit_code == 0, result.output  # at risk, not breached: the port answers
    document = json.loads(result.stdout)
    [probe] = document["probes"]
    assert (probe["ok"], probe["schema_mismatch"]) == (True, FINDINGS)
    [objective] = document["objectives"]
    assert objective["status"] == "at_risk"
    assert [c["name"] for c in objective["conditions"]] == ["schema_mismatch"]
    assert objective["schema_mismatch"] == FINDINGS


def test_a_native_schema_that_cannot_be_read_is_refused_at_its_line(tmp_path):
    contract = CONTRACT.format(url="sqlite:///x.db").replace(
        "{table: invoices, columns: {id: integer, amount: decimal, updated_at: timestamp}}",
        "{table: invoices, columns: {}}")
    directory = write_config(tmp_path / "config", {"invoices.yaml": contract}, "timezone: UTC\n")

    result = CliRunner().invoke(app, ["validate", "--config", str(directory)])

    assert result.exit_code != 0
    assert "invoices.yaml:10" in result.output and "schema" in result.output, result.output
