"""The product page shows a volume objective with its bound and the volume each probe counted,
after two `meshwatch check` rounds of a table whose last day brought 3 rows, then 1,200."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from monitor.cli.check import check_once
from monitor.config.loading import load_config
from monitor.store import open_store
from tests.support.daemon import write_config
from tests.support.dashboard import chart_data, open_dashboard_app  # noqa: F401 - `dashboard_app`

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
    volume: {{query: "SELECT count(*) FROM invoices WHERE created_at >= :since", per: 1d}}
objectives:
  - {{name: daily-rows, port: warehouse, indicator: volume, min: 1k rows, target: 99%}}
"""


def add_rows(path, count: int) -> None:
    at = (datetime.now(UTC) - timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M:%S")
    with sqlite3.connect(path) as connection:
        connection.executemany("INSERT INTO invoices VALUES (?)", [(at,)] * count)
    connection.close()


async def test_the_product_page_charts_the_volume_of_each_probe_against_its_min(tmp_path, dashboard_app):
    data = tmp_path / "sales.db"
    with sqlite3.connect(data) as connection:
        connection.execute("CREATE TABLE invoices (created_at TEXT)")
    connection.close()
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    directory = write_config(tmp_path / "config", {"invoices.yaml": CONTRACT.format(url=f"sqlite:///{data}")},
                             f"timezone: UTC\ndatabase_url: {store_url}\n")
    engine = open_store(store_url)
    add_rows(data, 3)
    await check_once(load_config(directory), engine)
    add_rows(data, 1197)
    *_, checked = await check_once(load_config(directory), engine)
    engine.dispose()

    # pages evaluate at a whole minute: the one after the checks, so both probes are in the window
    app = dashboard_app(directory, "pages/product.py", at=(checked + timedelta(minutes=1)).isoformat(),
                        product="sales/invoices")

    texts = [m.value for m in app.markdown] + [s.value for s in app.subheader]
    assert any(t.startswith("daily-rows: volume ≥ 1,000 rows, 99%") for t in texts), texts
    assert "**Volume per probe** (volume ≥ 1,000 rows)" in texts
    [objectives] = [t.value for t in app.table if "indicator" in t.value.columns]
    assert objectives.iloc[0]["threshold"] == "≥ 1,000 rows"
    [chart] = [c for c in app.get("vega_lite_chart") if '"title": "volume"' in c.proto.spec]
    layers = {tuple(frame.columns): frame for frame in chart_data(chart)}
    points, bound = layers[("at", "value")], layers[("threshold",)]
    assert list(points["value"]) == [3.0, 1200.0]  # what each probe counted in the last day
    assert list(bound["threshold"]) == [1000.0]  # the min, drawn as a rule
