"""The product page shows a schema mismatch with its columns: on the objective it holds on, and
under the ports, after one `meshwatch check` of a table that lost and retyped columns."""

from __future__ import annotations

import sqlite3

import streamlit as st
from streamlit.testing.v1 import AppTest

from monitor.cli.check import check_once
from monitor.config.loading import load_config
from monitor.store import open_store
from tests.support.daemon import write_config
from tests.support.repository import ROOT

APP = ROOT / "monitor" / "dashboard" / "app.py"
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


async def test_the_product_page_names_the_columns_that_differ_from_the_contract(tmp_path, monkeypatch):
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

    st.cache_data.clear()
    st.cache_resource.clear()
    monkeypatch.setenv("MESHWATCH_CONFIG", str(directory))
    monkeypatch.delenv("MESHWATCH_DATABASE_URL", raising=False)
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.run()
    app.query_params["product"] = "sales/invoices"
    app.switch_page("pages/product.py").run()
    assert not app.exception, app.exception

    assert "schema_mismatch (ticket)" in app.warning[0].value
    assert app.error[0].value == ("The port's schema differs from the contract: invoices.amount: "
                                  "declared decimal, found text; invoices.updated_at: missing")
    [mismatch] = [t.value for t in app.table if list(t.value.columns) == ["port", "column", "difference"]]
    assert mismatch.to_dict("records") == [
        {"port": "warehouse", "column": "invoices.amount", "difference": "declared decimal, found text"},
        {"port": "warehouse", "column": "invoices.updated_at", "difference": "missing"}]
    st.cache_data.clear()
    st.cache_resource.clear()
