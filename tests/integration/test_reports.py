"""The monthly uptime report, its figures counted by hand (see tests/support/report_mesh.py for the data).

A probe covers its port's interval (monitor/reports/coverage.py): a minute is measured when a probe
covers it, down when a failed probe does, and not measured minutes are never counted as up. So a
failed probe of a port probed every 5 minutes is 5 downtime minutes, not 1 (issue 12, item 7): the
4 minutes after it were counted as up before, though nothing said they were."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.config.loading import load_config
from monitor.contracts.model import DataProduct, MaintenanceWindow, Owner
from monitor.reports.months import Month, recent_months
from monitor.reports.period import maintenance_minutes as maintenance_spans
from monitor.reports.period import report_period
from monitor.reports.render import render_csv, render_html, render_json, render_markdown
from monitor.reports.uptime import uptime_report
from monitor.slo.budget import Counts
from monitor.store.engine import open_reader
from monitor.store.events import series_ids, window_counts
from monitor.store.reads import bucket_counts
from monitor.store.rollups import floor_minute
from tests.support.postgres import postgres_database
from tests.support.report_mesh import fill_october, store_before_alerts, write_config

LATER = datetime(2025, 11, 15, tzinfo=UTC)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql",
                                                                 marks=pytest.mark.postgres)])
def store_url(request, tmp_path_factory) -> Iterator[str]:
    """One store per database for the whole module: the tests only read it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('store') / 'meshwatch.db'}"
    else:
        yield from postgres_database()


@pytest.fixture(scope="module")
def october(store_url, tmp_path_factory):
    engine = store_before_alerts(store_url)
    fill_october(engine)
    engine.dispose()
    config = load_config(write_config(tmp_path_factory.mktemp("config"), store_url))
    assert config.valid, config.problems
    return config


def report_for(config, store_url, timezone="UTC", now=LATER):
    engine = open_reader(store_url)
    try:
        with engine.connect() as connection:
            return uptime_report(connection, config.registry.products.values(),
                                 Month(2025, 10), timezone, now)
    finally:
        engine.dispose()


def by_product(report):
    return {p.product: p for p in report.products}


def test_a_month_with_known_bad_minutes_gives_exact_downtime_and_uptime(october, store_url):
    orders = by_product(report_for(october, store_url))["checkout/orders"]

    assert orders.minutes == 31 * 24 * 60 == 44640
    # the api's 45 bad minutes 12:01..12:45 hold the lake's first 4 failed probes (12:01..12:20);
    # its 6 failed probes on 20 Oct (08:00:30..08:25:30) cover 5 minutes each: 08:01..08:30
    assert orders.downtime_minutes == 45 + 6 * 5 == 75
    assert (orders.measured_minutes, orders.unmeasured_minutes) == (44640, 0)  # probed all month
    assert orders.up_minutes == 44640 - 75
    assert orders.uptime == pytest.approx(1 - 75 / 44640)
    assert orders.availability == pytest.approx((44595 + 8918) / (44640 + 8928))
    objectives = {o.objective: o for o in orders.objectives}
    assert (objectives["api-availability"].counts.good,
            objectives["api-availability"].counts.total) == (44595, 44640)
    assert objectives["api-availability"].met is False  # 99.899 % < 99.9 %
    assert objectives["api-availability"].budget_spent == pytest.approx((45 / 44640) / 0.001)
    assert objectives["lake-availability"].met is True
    assert (objectives["api-latency"].counts.good, objectives["api-latency"].counts.total,
            objectives["api-latency"].met) == (739, 744, True)
    assert orders.incidents is None  # no alert tables in this store yet


def test_maintenance_kept_out_of_the_slo_leaves_the_period_and_the_counts(october, store_url):
    cart = by_product(report_for(october, store_url))["cart/events"]

    assert cart.maintenance_counted is False
    assert cart.maintenance_minutes == 5 * 120
    assert cart.minutes == 44640 - 600
    assert cart.downtime_minutes == 3 * 5  # three failed probes of a port probed every 5 minutes
    assert (cart.measured_minutes, cart.unmeasured_minutes) == (44040, 0)
    assert cart.uptime == pytest.approx(1 - 15 / 44040)
    assert (cart.availability_counts.good, cart.availability_counts.total) == (8805, 8808)


def test_a_contract_that_starts_mid_month_counts_from_its_start_and_has_no_data(october, store_url):
    features = by_product(report_for(october, store_url))["marketing/campaign-features"]

    assert features.minutes == 16 * 24 * 60
    assert features.uptime is None and features.availability is None
    assert (features.measured_minutes, features.unmeasured_minutes) == (0, 16 * 24 * 60)
    assert features.objectives[0].met is None


def test_months_follow_the_configured_time_zone(october, store_url):
    orders = by_product(report_for(october, store_url, "Europe/Amsterdam"))["checkout/orders"]

    # 30 Sep 22:00Z .. 31 Oct 23:00Z: one hour longer (summer time ends on 26 Oct)
    assert orders.minutes == 44640 + 60
    api = orders.objectives[0]
    assert (api.counts.good, api.counts.total) == (44640 - 60 + 1 - 46, 44640 - 60 + 1)
    assert orders.downtime_minutes == 75 + 1  # and the bad api probe of 30 Sep 22:30:30Z
    # October up to 31 Oct 23:00Z is measured; of the 120 minutes of 30 September in the Amsterdam
    # month, one api probe measured one
    assert (orders.measured_minutes, orders.unmeasured_minutes) == (44640 - 60 + 1, 119)
    assert orders.uptime == pytest.approx(1 - 76 / 44581)  # not 1 - 76 / 44700


def test_a_month_in_progress_counts_up_to_now(october, store_url):
    now = datetime(2025, 10, 11, tzinfo=UTC)
    report = report_for(october, store_url, now=now)
    orders = by_product(report)["checkout/orders"]

    assert not report.complete
    assert orders.minutes == 10 * 1440
    assert orders.downtime_minutes == 45
    assert orders.measured_minutes == 10 * 1440
    assert "month in progress" in render_markdown(report)


def test_csv_has_one_row_per_product_with_the_figures(october, store_url):
    rows = list(csv.DictReader(io.StringIO(render_csv(report_for(october, store_url)))))
    orders = next(r for r in rows if r["product"] == "checkout/orders")
    cart = next(r for r in rows if r["product"] == "cart/events")

    assert [r["product"] for r in rows] == ["cart/events", "checkout/orders",
                                           "marketing/campaign-features"]
    assert orders["uptime_percent"] == "99.8320"  # 1 - 75 / 44640
    assert orders["downtime_minutes"] == "75"
    assert orders["period_minutes"] == "44640"
    assert (orders["measured_minutes"], orders["not_measured_minutes"]) == ("44640", "0")
    features = next(r for r in rows if r["product"] == "marketing/campaign-features")
    assert (features["measured_minutes"], features["not_measured_minutes"]) == ("0", "23040")
    assert features["uptime_percent"] == ""
    assert orders["availability_percent"] == "99.8973"  # 53513 / 53568
    assert (orders["objectives_met"], orders["objectives_missed"]) == ("2", "1")
    assert "api-availability=missed (99.899% of 99.9%)" in orders["objectives"]
    assert orders["incidents"] == ""
    assert (cart["maintenance"], cart["maintenance_minutes"], cart["uptime_percent"]) == (
        "excluded", "600", "99.9659")  # 1 - 15 / 44040


def test_markdown_shows_the_products_and_the_objectives(october, store_url):
    text = render_markdown(report_for(october, store_url))

    assert text.startswith("# Uptime report 2025-10 (UTC)\n")
    assert "| product | owner | availability | uptime | downtime (min) | not measured (min) |" in text
    assert ("| checkout/orders | checkout | 99.897% | 99.832% | 75 | 0 | — | counted | 2/3 |"
            in text)
    assert "| cart/events | cart | 99.966% | 99.966% | 15 | 0 | — | excluded (600 min) | 1/1 |" in text
    assert "| marketing/campaign-features | growth | — | — | 0 | 23040 | — |" in text
    assert "not measured minutes are never counted as up" in text
    assert "| checkout/orders | api-availability | availability | 99.9% | 99.899% | missed | " \
           "100.8% | 44595/44640 |" in text
    assert "Incidents: not known" in text


def test_json_carries_every_figure(october, store_url):
    document = json.loads(render_json(report_for(october, store_url)))
    orders = next(p for p in document["products"] if p["product"] == "checkout/orders")

    assert document["month"] == "2025-10" and document["complete"] is True
    assert document["start"] == "2025-10-01T00:00:00Z" and document["end"] == "2025-11-01T00:00:00Z"
    assert orders["downtime_minutes"] == 75 and orders["period_minutes"] == 44640
    assert (orders["measured_minutes"], orders["unmeasured_minutes"]) == (44640, 0)
    assert orders["uptime"] == pytest.approx(1 - 75 / 44640)
    assert orders["incidents"] is None
    assert {o["objective"]: o["met"] for o in orders["objectives"]} == {
        "api-availability": False, "api-latency": True, "lake-availability": True}


def test_html_escapes_and_contains_the_tables(october, store_url):
    text = render_html(report_for(october, store_url))

    assert text.startswith("<!doctype html>")
    assert "<td>checkout/orders</td>" in text and "<td>75</td>" in text


def test_the_cli_writes_the_report_in_each_format(october, store_url, tmp_path, monkeypatch):
    monkeypatch.setenv("MESHWATCH_DATABASE_URL", store_url)
    runner = CliRunner()
    target = tmp_path / "october.csv"

    result = runner.invoke(app, ["report", "uptime", "--month", "2025-10", "--config",
                                 str(october.directory), "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert "99.8320" in target.read_text()  # the format follows the file's suffix

    result = runner.invoke(app, ["report", "uptime", "--month", "2025-10", "--format", "json",
                                 "--config", str(october.directory)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["products"][1]["downtime_minutes"] == 75

    result = runner.invoke(app, ["report", "uptime", "--month", "2025-13", "--config",
                                 str(october.directory)])
    assert result.exit_code == 2 and "not a month" in result.output


def test_the_cli_says_when_there_is_no_store_yet(tmp_path, monkeypatch):
    monkeypatch.delenv("MESHWATCH_DATABASE_URL", raising=False)
    directory = write_config(tmp_path / "config", f"sqlite:///{tmp_path / 'none.db'}")

    result = CliRunner().invoke(app, ["report", "uptime", "--month", "2025-10", "--config",
                                      str(directory)])

    assert result.exit_code == 3 and "meshwatch run" in result.output
    assert not (tmp_path / "none.db").exists()  # reading never creates the store


def test_repeating_maintenance_is_cut_to_the_period_and_merged():
    start = datetime(2025, 10, 1, 23, tzinfo=UTC)
    low, high = floor_minute(datetime(2025, 10, 2, tzinfo=UTC)), floor_minute(
        datetime(2025, 10, 4, tzinfo=UTC))
    windows = [MaintenanceWindow(start, timedelta(hours=2), timedelta(days=1)),
               MaintenanceWindow(datetime(2025, 10, 3, 0, 30, tzinfo=UTC), timedelta(hours=1))]

    spans = maintenance_spans(windows, low, high)

    assert [(s - low, e - low) for s, e in spans] == [(0, 60), (1380, 1530), (2820, 2880)]


def test_a_product_without_contract_dates_or_maintenance_covers_the_whole_month():
    product = DataProduct("d", "p", Owner("t"))
    start, end = Month(2025, 2).bounds(ZoneInfo("UTC"))

    assert report_period(product, start, end, LATER).minutes == 28 * 1440


def test_months_parse_and_step_across_years():
    assert Month.parse("2025-01").previous() == Month(2024, 12)
    assert Month(2025, 12).next() == Month(2026, 1)
    assert [str(m) for m in recent_months(datetime(2025, 2, 10, tzinfo=UTC), ZoneInfo("UTC"), 3)] \
        == ["2025-02", "2025-01", "2024-12"]
    with pytest.raises(ValueError, match="not a month"):
        Month.parse("October")
    assert Decimal("0.999") * 44640 > 44595  # why api-availability is missed


def test_chart_buckets_add_up_to_the_window_they_cover(october, store_url):
    start = floor_minute(datetime(2025, 10, 10, 12, 7, tzinfo=UTC))
    end = floor_minute(datetime(2025, 10, 20, 8, 13, tzinfo=UTC))
    engine = open_reader(store_url)
    try:
        with engine.connect() as connection:
            ids = series_ids(connection, [("checkout/orders", "api-availability")], create=False)
            series = ids[("checkout/orders", "api-availability")]
            hours = bucket_counts(connection, [series], start, end, "hour")[series]
            minutes = bucket_counts(connection, [series], start, end, "minute")[series]
            window = window_counts(connection, [series], [(start, end)])[(start, end)][series]
    finally:
        engine.dispose()

    assert sum((c for _, c in hours), Counts()) == window == sum((c for _, c in minutes), Counts())
    assert window.bad == 45 - 7  # the api's bad minutes 12:01..12:45 after 12:07
    # the partial hours at the edges by the minute (53 and 13 of them), whole hours between
    assert (hours[0][0], hours[52][0], hours[53][0], hours[-1][0]) == (start + 1, start + 53,
                                                                       start + 113, end)
    assert len(hours) == 53 + (end - 13 - (start + 53)) // 60 + 13


def test_a_month_outside_the_contract_says_not_in_force_rather_than_no_data(october, store_url):
    features = by_product(report_for(october, store_url))["marketing/campaign-features"]
    assert features.in_force and features.objectives[0].result == "no data"

    engine = open_reader(store_url)
    try:
        with engine.connect() as connection:  # September: before the contract starts
            report = uptime_report(connection, october.registry.products.values(),
                                   Month(2025, 9), "UTC", LATER)
    finally:
        engine.dispose()
    features = by_product(report)["marketing/campaign-features"]
    assert not features.in_force and features.minutes == 0
    assert {o.result for o in features.objectives} == {"not in force"}
    row = next(r for r in csv.DictReader(io.StringIO(render_csv(report)))
               if r["product"] == "marketing/campaign-features")
    assert row["objectives_not_in_force"] == str(len(features.objectives))
    assert row["objectives_without_data"] == "0"
    document = json.loads(render_json(report))
    product = next(p for p in document["products"] if p["product"] == "marketing/campaign-features")
    assert product["in_force"] is False
    assert product["objectives"][0]["result"] == "not in force"


def test_a_contract_that_ended_before_the_month_is_not_in_force():
    from datetime import date

    product = DataProduct("d", "p", Owner("t"), start=date(2025, 1, 1), end=date(2025, 3, 1))
    start, end = Month(2025, 4).bounds(ZoneInfo("UTC"))
    period = report_period(product, start, end, LATER)
    assert (period.minutes, period.in_force) == (0, False)
    start, end = Month(2025, 2).bounds(ZoneInfo("UTC"))
    assert report_period(product, start, end, LATER).in_force


PARTLY_MEASURED = {"ops-batch.yaml": """
apiVersion: meshwatch/v1
kind: DataProduct
metadata: {domain: ops, name: batch}
owner: {team: ops}
contract: {version: 1.0.0, start: 2025-01-01}
ports:
  - {name: lake, type: http, url: "http://127.0.0.1:9/batch", interval: 5m}
objectives:
  - {name: lake-availability, port: lake, indicator: availability, target: 99%}
"""}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def partly_measured(request, tmp_path):
    """ops/batch, probed every 5 minutes on 20 Oct only, from 00:00:30 for 200 probes (1,000
    minutes), the first 132 of them failed; one good probe at 30 Sep 23:57:30 and one at 31 Oct
    23:58:30, whose intervals reach 2 minutes into October each."""
    from monitor.store import Event, open_store, record_events

    def events():
        start = datetime(2025, 10, 20, 0, 0, 30, tzinfo=UTC)
        for number in range(200):
            yield Event("ops/batch", "lake-availability", start + timedelta(minutes=5 * number),
                        int(number >= 132), 1)
        for at in (datetime(2025, 9, 30, 23, 57, 30, tzinfo=UTC),
                   datetime(2025, 10, 31, 23, 58, 30, tzinfo=UTC)):
            yield Event("ops/batch", "lake-availability", at, 1, 1)

    def sqlite_database() -> Iterator[str]:
        yield f"sqlite:///{tmp_path / 'meshwatch.db'}"

    urls = sqlite_database() if request.param == "sqlite" else postgres_database()
    url = next(urls)
    engine = open_store(url)
    with engine.begin() as connection:
        record_events(connection, events())
    engine.dispose()
    config = load_config(write_config(tmp_path / "config", url, contracts=PARTLY_MEASURED))
    assert config.valid, config.problems
    yield config, url
    urls.close()


def test_unmeasured_minutes_are_their_own_column_and_never_counted_up(partly_measured):
    config, url = partly_measured
    batch = by_product(report_for(config, url))["ops/batch"]

    assert batch.availability == pytest.approx(69 / 201)  # 34 %: 132 of October's 201 probes failed
    # before issue 12 (item 7): uptime 1 - 132 / 44640 = 99.7 %, every unmeasured minute up.
    # Measured: 20 Oct's 1,000 minutes, and 2 at each end of the month from the probes whose
    # intervals reach into it (30 Sep 23:57:30 covers 00:01..00:02; 31 Oct 23:58:30 the last two)
    assert (batch.measured_minutes, batch.downtime_minutes) == (1000 + 2 + 2, 132 * 5)
    assert batch.unmeasured_minutes == 44640 - 1004
    assert batch.up_minutes == 1004 - 660
    assert batch.uptime == pytest.approx(1 - 660 / 1004)  # 34.3 %

    row = next(csv.DictReader(io.StringIO(render_csv(report_for(config, url)))))
    assert (row["measured_minutes"], row["not_measured_minutes"], row["uptime_percent"]) == (
        "1004", "43636", f"{(1 - 660 / 1004) * 100:.4f}")
