"""The dashboard's product page for a calendar objective (issue 11), driven with streamlit.testing:
it names the calendar month and its zone, and its budget burn-down starts where the month did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from monitor.store import Event, open_store, record_events
from tests.support.dashboard import chart_data, open_dashboard_app  # noqa: F401 - `dashboard_app`
from tests.support.report_mesh import write_config

AT = datetime(2025, 11, 10, 12, 0, tzinfo=UTC)
MONTH_START = datetime(2025, 10, 31, 23, 0, tzinfo=UTC)  # 1 November 00:00 in Amsterdam
CONTRACT = """
apiVersion: meshwatch/v1
kind: DataProduct
metadata: {domain: checkout, name: orders}
owner: {team: checkout}
contract: {start: 2025-01-01}
ports:
  - {name: api, type: http, url: "http://127.0.0.1:9/orders", interval: 1m}
objectives:
  - {name: api-availability, port: api, indicator: availability, target: 99.9%,
     window: month, timezone: Europe/Amsterdam}
"""


@pytest.fixture
def product_page(tmp_path, dashboard_app):
    """A probe a minute from an hour before November (Amsterdam) began until AT, the last 10 bad."""
    url = f"sqlite:///{tmp_path / 'meshwatch.db'}"
    engine = open_store(url)
    events, end = [], MONTH_START - timedelta(hours=1) + timedelta(minutes=1)
    while end <= AT:
        events.append(Event("checkout/orders", "api-availability", end - timedelta(seconds=30),
                            int(end <= AT - timedelta(minutes=10)), 1))
        end += timedelta(minutes=1)
    with engine.begin() as connection:
        record_events(connection, events)
    engine.dispose()
    config = write_config(tmp_path / "config", url, timezone="Europe/Amsterdam",
                          contracts={"orders.yaml": CONTRACT})
    return dashboard_app(config, "pages/product.py", at=AT.isoformat().replace("+00:00", "Z"),
                         product="checkout/orders")


def texts(app: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "caption", "subheader")
                     for e in getattr(app, kind))


def test_the_product_page_names_the_calendar_month_and_counts_it_only(product_page):
    assert "api-availability: availability, 99.9% over the calendar month (Europe/Amsterdam)" \
        in texts(product_page)
    figures = {metric.label: metric.value for metric in product_page.metric[:4]}
    # buckets 31 Oct 23:01 … 10 Nov 12:00 UTC: 9 days 13 hours = 13,740 probes, 10 bad
    assert figures["Compliance (this month)"] == f"{13730 / 13740:.3%}"
    assert figures["Events good / total"] == "13,730 / 13,740"
    objectives = next(t.value for t in product_page.table if "indicator" in t.value.columns)
    assert list(objectives["window"]) == ["month (Europe/Amsterdam)"]


def test_the_budget_burn_down_starts_at_the_start_of_the_month(product_page):
    assert ("**Error budget burn-down** over this month (since 2025-11-01 00:00 "
            "Europe/Amsterdam)") in texts(product_page)
    burndown = chart_data(product_page.get("vega_lite_chart")[-1])[-1]
    assert burndown["at"].iloc[0] == pd.Timestamp("2025-11-01 00:00:00")  # wall time, Amsterdam
    assert burndown["budget left"].iloc[-1] == pytest.approx((1 - (10 / 13740) / 0.001) * 100)
