"""Time to compute and render the dashboard with 1,000 products and 30 days of 1-minute data.

Targets (issue "Dashboard and reports", DESIGN.md §8): the mesh overview ≤ 2 s, a product page
≤ 1 s. The mesh: 1,000 contracts in 20 domains, each with an availability objective on a port
probed every minute and a freshness objective on one probed every 5 minutes (51 M minute rows,
1.4 M hour rows, SQL-generated); 4 % of the products breached, 4 % burning fast, 1 % without data;
a firing alert per breached product. Everything is looked at as of one fixed minute (`?at=`).

Three measures, each a median over several runs:
1. the query layer alone: evaluate_mesh + firing alerts + the overview table;
2. streamlit.testing's AppTest running the page script (what the server does per page view),
   with the data caches cleared first (config already loaded), then with warm caches;
3. headless Chromium against `meshwatch dashboard`: from navigation to the page settled (script
   finished, metrics and table on screen); a different `?at=` minute on every load so that no
   cached evaluation is reused.

Run:  .venv/bin/python benchmarks/dashboard_render.py [--products 1000] [--days 30]
                                                       [--keep DIR] [--no-browser]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results" / "dashboard.txt"
APP = ROOT / "monitor" / "dashboard" / "app.py"
AT = datetime(2026, 11, 20, 13, 37, tzinfo=UTC)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DOMAINS = 20

CONTRACT = """apiVersion: meshwatch/v1
kind: DataProduct
metadata: {{domain: {domain}, name: {name}, description: Benchmark product {index}}}
owner: {{team: team-{team}, contact: team-{team}@contoso.example}}
contract:
  version: 1.0.0
  start: 2026-01-01
  lineage: {{upstream: [{upstream}]}}
ports:
  - {{name: api, type: http, url: "http://127.0.0.1:9/{index}", interval: 1m}}
  - {{name: lake, type: http, url: "http://127.0.0.1:9/{index}/lake", interval: 5m}}
objectives:
  - {{name: api-availability, port: api, indicator: availability, target: 99.9%}}
  - {{name: lake-freshness, port: lake, indicator: freshness, threshold: 1h, target: 99%}}
consumers:
  - {{team: team-{consumer}, contact: team-{consumer}@contoso.example}}
"""


def product_id(index: int) -> str:
    return f"domain-{index % DOMAINS:02d}/product-{index:04d}"


def write_config(folder: Path, products: int) -> Path:
    config = folder / "config"
    (config / "contracts").mkdir(parents=True, exist_ok=True)
    (config / "meshwatch.yaml").write_text(
        f"database_url: sqlite:///{folder / 'dashboard.db'}\ntimezone: Europe/Amsterdam\n")
    for index in range(products):
        domain, name = product_id(index).split("/")
        upstream = product_id(index - DOMAINS) if index >= DOMAINS else ""
        (config / "contracts" / f"{domain}-{name}.yaml").write_text(CONTRACT.format(
            domain=domain, name=name, index=index, team=index % 50, upstream=upstream,
            consumer=(index + 7) % 50))
    return config


def fill(folder: Path, products: int, days: int) -> tuple[float, int]:
    """The store, by SQL: minute rows, hour rollups, port states, alerts. (seconds, minute rows)"""
    from monitor.store import open_store
    from monitor.store.events import series_ids
    from monitor.store.rollups import floor_minute

    engine = open_store(f"sqlite:///{folder / 'dashboard.db'}")
    began = time.perf_counter()
    end = floor_minute(AT)
    first = end - days * 1440 + 1
    measured = [i for i in range(products) if i % 100 != 99]  # 1 % never measured: no data
    breached = [i for i in measured if i % 25 == 0]
    burning = [i for i in measured if i % 25 == 1]
    with engine.begin() as connection:
        ids = series_ids(connection, [(product_id(i), o) for i in measured
                                      for o in ("api-availability", "lake-freshness")])

        def id_list(indexes, objective):
            return ",".join(str(ids[(product_id(i), objective)]) for i in indexes) or "-1"

        minutes = (f"WITH RECURSIVE m(minute) AS (SELECT {first} UNION ALL SELECT minute + 1 "
                   f"FROM m WHERE minute < {end}) SELECT minute FROM m")
        availability = id_list(measured, "api-availability")
        connection.execute(text(
            "INSERT INTO event_minute (series_id, minute, good, total) "
            "SELECT s.id, m.minute, CASE "
            f"WHEN s.id IN ({id_list(breached, 'api-availability')}) "
            "AND (m.minute * 7919 + s.id * 104729) % 10000 < 50 THEN 0 "
            f"WHEN s.id IN ({id_list(burning, 'api-availability')}) AND m.minute > {end - 20} "
            "THEN 0 WHEN (m.minute * 7919 + s.id * 104729) % 10000 < 1 THEN 0 ELSE 1 END, 1 "
            f"FROM series s CROSS JOIN ({minutes}) m WHERE s.id IN ({availability}) "
            "ORDER BY s.id, m.minute"))
        connection.execute(text(
            "INSERT INTO event_minute (series_id, minute, good, total) "
            "SELECT s.id, m.minute, CASE WHEN (m.minute * 7919 + s.id * 104729) % 1000 < 2 "
            "THEN 0 ELSE 1 END, 1 "
            f"FROM series s CROSS JOIN ({minutes}) m WHERE s.id IN "
            f"({id_list(measured, 'lake-freshness')}) AND m.minute % 5 = 0 "
            "ORDER BY s.id, m.minute"))
        connection.execute(text(
            "INSERT INTO event_hour (series_id, hour, good, total) SELECT series_id, "
            "(minute + 59) / 60, sum(good), sum(total) FROM event_minute "
            "GROUP BY series_id, (minute + 59) / 60"))
        connection.execute(text(
            "UPDATE series SET last_event_minute = (SELECT max(minute) FROM event_minute "
            "WHERE series_id = series.id)"))
        rows = connection.execute(text("SELECT count(*) FROM event_minute")).scalar_one()
        probed = AT - timedelta(seconds=30)
        connection.execute(text(
            "INSERT INTO port_state (product, port, kind, last_started_at, ok, latency_ms, "
            "newest_data_at, error_class, error, failing_since) VALUES (:product, :port, 'http', "
            ":at, :ok, 42.0, :newest, :error_class, :error, :failing)"),
            [{"product": product_id(i), "port": port, "at": probed.replace(tzinfo=None),
              "ok": i not in breached, "newest": (AT - timedelta(minutes=10)).replace(tzinfo=None),
              "error_class": None if i not in breached else "http_status",
              "error": None if i not in breached else "HTTP 503",
              "failing": None if i not in breached else (AT - timedelta(hours=2)).replace(
                  tzinfo=None)}
             for i in measured for port in ("api", "lake")])
        for number, index in enumerate(breached, start=1):
            connection.execute(text(
                "INSERT INTO alert (id, product, objective, condition, severity, state, version, "
                "episode, since, fired_at) VALUES (:id, :product, 'api-availability', "
                "'budget_exhausted', 'ticket', 'firing', 1, 1, :at, :at)"),
                {"id": number, "product": product_id(index),
                 "at": (AT - timedelta(hours=3)).replace(tzinfo=None)})
            connection.execute(text(
                "INSERT INTO alert_event (alert_id, episode, kind, at) VALUES (:id, 1, 'firing', "
                ":at)"), {"id": number, "at": (AT - timedelta(hours=3)).replace(tzinfo=None)})
    engine.dispose()
    return time.perf_counter() - began, rows


def median_time(function: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def query_layer(config_dir: Path, repeat: int) -> tuple[float, float]:
    """(seconds to load the 1,000 contracts, median seconds for the overview's reads + table)."""
    from monitor.config.loading import load_config
    from monitor.dashboard import frames
    from monitor.evaluation.mesh import evaluate_mesh
    from monitor.store.engine import open_reader
    from monitor.store.reads import firing_alerts

    began = time.perf_counter()
    config = load_config(config_dir)
    loading = time.perf_counter() - began
    assert not config.problems, config.problems[:3]
    engine = open_reader(config.settings.database_url)
    products = list(config.registry.products.values())

    def overview():
        with engine.connect() as connection:
            reports = evaluate_mesh(connection, products, AT, config.settings.slo.policy())
            firing = firing_alerts(connection)
        return frames.overview_frame(products, reports, firing)

    table = overview()
    assert len(table) == len(products)
    seconds = median_time(overview, repeat)
    engine.dispose()
    return loading, seconds


def app_test(config_dir: Path, repeat: int) -> dict[str, float]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["MESHWATCH_CONFIG"] = str(config_dir)
    figures: dict[str, float] = {}
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.query_params["at"] = AT.isoformat()
    st.cache_data.clear()
    st.cache_resource.clear()
    began = time.perf_counter()
    app.run()
    figures["overview, first view (loads the contracts)"] = time.perf_counter() - began
    assert not app.exception, app.exception
    assert app.metric[0].value == "1000", app.metric[0].value

    def cold():
        st.cache_data.clear()
        app.run()

    figures["overview, data caches cleared"] = median_time(cold, repeat)
    figures["overview, warm caches"] = median_time(app.run, repeat)
    app.query_params["product"] = product_id(0)
    app.switch_page("pages/product.py").run()
    assert not app.exception, app.exception
    assert app.title[0].value == product_id(0)
    figures["product page, data caches cleared"] = median_time(cold, repeat)
    figures["product page, warm caches"] = median_time(app.run, repeat)
    return figures


def browser(config_dir: Path, repeat: int) -> dict[str, float]:
    from playwright.sync_api import expect, sync_playwright

    sys.path.insert(0, str(ROOT))  # the test helpers live in the source tree, not the package
    from tests.support.browser import settle, wait_until_healthy
    from tests.support.ports import free_port

    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MESHWATCH_")}
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("meshwatch")), "dashboard", "--port", str(port),
         "--config", str(config_dir)], env=environment, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    figures: dict[str, float] = {}
    try:
        wait_until_healthy(base, process)
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = chromium.new_page(viewport={"width": 1440, "height": 1000})
            page.set_default_timeout(120_000)

            def load(path: str, minute: int, ready: str) -> float:
                at = (AT - timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%MZ")
                began = time.perf_counter()
                page.goto(f"{base}/{path}{'&' if '?' in path else '?'}at={at}")
                settle(page, ready)
                expect(page.locator('[data-testid="stMetricValue"]').first).to_be_visible()
                return time.perf_counter() - began

            figures["overview, first view (loads the contracts)"] = load("", 0, "Evaluated at")
            page.locator('[data-testid="stDataFrame"]').first.wait_for()
            (ROOT / "test-artifacts").mkdir(exist_ok=True)
            page.screenshot(path=str(ROOT / "test-artifacts" / "dashboard-overview-1000.png"))
            figures["overview, new evaluation, full page load"] = statistics.median(
                load("", minute, "Evaluated at") for minute in range(1, repeat + 1))
            figures["product page, full page load"] = statistics.median(
                load(f"product?product={product_id(index)}", index, "Ports: latest probe")
                for index in range(2, repeat + 2))

            def follow_upstream(index: int) -> float:
                """Click the upstream link of the product page showing `index`: in-app."""
                upstream = product_id(index - DOMAINS)
                began = time.perf_counter()
                page.locator('[data-testid="stPageLink"]').filter(has_text=upstream).first.click()
                page.locator("h1").filter(has_text=upstream).wait_for()
                settle(page, "Ports: latest probe")
                return time.perf_counter() - began

            start = len(list((config_dir / "contracts").iterdir())) - 1
            load(f"product?product={product_id(start)}", 0, "Ports: latest probe")
            figures["product page, in-app link from another product"] = statistics.median(
                follow_upstream(start - step * DOMAINS) for step in range(repeat))
            chromium.close()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build the mesh here once and reuse it")
    parser.add_argument("--no-browser", action="store_true", help="skip headless Chromium")
    args = parser.parse_args()
    holder = None if args.keep else tempfile.TemporaryDirectory()
    folder = args.keep or Path(holder.name)
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / f"built-{args.products}-{args.days}"
    lines = [f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.products} products "
             f"(2 objectives each), {args.days} d of 1-minute data, {os.cpu_count()} CPUs "
             f"(load average {os.getloadavg()[0]:.1f} at start); medians of {args.repeat} runs"]
    config_dir = write_config(folder, args.products)
    if marker.exists():
        lines.append(f"data: reused from {folder}")
    else:
        (folder / "dashboard.db").unlink(missing_ok=True)
        seconds, rows = fill(folder, args.products, args.days)
        marker.touch()
        size = (folder / "dashboard.db").stat().st_size / 1e6
        lines.append(f"data: {rows:,} minute rows written by SQL in {seconds:.1f} s ({size:.0f} MB)")
    loading, reads = query_layer(config_dir, args.repeat)
    lines.append(f"load and validate {args.products} contract files: {loading:.2f} s "
                 "(once per change of the config directory)")
    lines.append(f"query layer, overview (evaluate {2 * args.products} objectives, firing "
                 f"alerts, table): {reads:.3f} s")
    for name, seconds in app_test(config_dir, args.repeat).items():
        target = "  (target ≤ 2 s)" if name.startswith("overview, data") else (
            "  (target ≤ 1 s)" if name.startswith("product page, data") else "")
        lines.append(f"AppTest, {name}: {seconds:.3f} s{target}")
    if args.no_browser or not CHROMIUM.exists():
        lines.append("headless Chromium: skipped")
    else:
        for name, seconds in browser(config_dir, args.repeat).items():
            target = "  (target ≤ 2 s)" if name.startswith("overview, new") else (
                "  (target ≤ 1 s)" if name.startswith("product") else "")
            lines.append(f"Chromium, {name}, navigation to settled page: {seconds:.3f} s{target}")
    report = "\n".join(lines)
    print(report)
    RESULTS.write_text(report + "\n")
    if holder is not None:
        holder.cleanup()


if __name__ == "__main__":
    main()
