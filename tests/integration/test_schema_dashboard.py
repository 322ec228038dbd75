"""The product page shows a schema mismatch with its columns: on the objective it holds on, and
under the ports, after one `meshwatch check` of a table that lost and retyped columns."""

from __future__ import annotations

import sqlite3

from monitor.cli.check import check_once
from monitor.config.loading import load_config
from monitor.store import open_store
from tests.support.daemon import write_config
from tests.support.dashboard import open_dashboard_app  # noqa: F401 - `dashboard_app`

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


async def test_the_product_page_names_the_columns_that_differ_from_the_contract(tmp_path, dashboard_app):
    data = tmp_path / "sales.db"
    with sqlite3.connect(data) as connection:
        connection.execute("CREATE TABLE invoices (id INTEGER, amount TEXT)")
    connection.close()
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    directory = write_config(tmp_path / "config", {"invoices.yaml": CONTRACT.format(url=f"sqlite:///{data}")},
                             f"timezone: UTC\ndatabase_url: {store_url}\n")
    engine = open_store(store_url)
    await check_once(load_config(directory), engine)
    engine.dispose()

    app = dashboard_app(directory, "pages/product.py", product="sales/invoices")

    assert "schema_mismatch (ticket)" in app.warning[0].value
    assert app.error[0].value == ("The port's schema differs from the contract: invoices.amount: "
                                  "declared decimal, found text; invoices.updated_at: missing")
    [mismatch] = [t.value for t in app.table if list(t.value.columns) == ["port", "column", "difference"]]
    assert mismatch.to_dict("records") == [
        {"port": "warehouse", "column": "invoices.amount", "difference": "declared decimal, found text"},
        {"port": "warehouse", "column": "invoices.updated_at", "difference": "missing"}]
