"""The overview's picture of the mesh, over the dashboard's store of known measurements
(tests/support/report_mesh.py) as of 2025-11-10 12:00 UTC: cart/events is breached, feeds
checkout/orders (at risk), which feeds marketing/campaign-features (no data). Driven with
streamlit.testing (the DOT the page sends) and in headless Chromium (the SVG a person sees)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from monitor.contracts.lineage import Lineage
from monitor.contracts.model import DataProduct, Owner
from monitor.dashboard.charts import mesh_dot
from monitor.slo import Status
from tests.support.browser import CHROMIUM, chromium_page, served_dashboard, settle
from tests.support.dashboard import open_dashboard_app  # noqa: F401 - `dashboard_app`
from tests.support.report_mesh import fill_dashboard_mesh, write_config
from tests.support.repository import ROOT

AT = "2025-11-10T12:00:00Z"
RED, ORANGE, PURPLE, GREEN = "#d62728", "#ff7f0e", "#9e9ac8", "#2ca02c"
EXPECTED = {  # product → (its domain's cluster, label lines, fill)
    "cart/events": ("cart", ["events", "breached", "starts here"], RED),
    "checkout/orders": ("checkout", ["orders", "at risk"], ORANGE),
    "marketing/campaign-features": ("marketing", ["campaign-features", "no data"], PURPLE),
}


@pytest.fixture(scope="module")
def mesh_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("lineage-mesh")
    url = f"sqlite:///{directory / 'meshwatch.db'}"
    fill_dashboard_mesh(url)
    return write_config(directory / "config", url)


def node(product_id: str, *upstream: str) -> DataProduct:
    domain, name = product_id.split("/")
    return DataProduct(domain=domain, name=name, owner=Owner(domain), upstream=upstream)


def test_the_dot_has_a_cluster_per_domain_a_coloured_node_per_product_and_lineage_arrows():
    products = [node("cart/events"), node("checkout/orders", "cart/events"),
                node("checkout/returns", "checkout/orders")]
    dot = mesh_dot(products, {"cart/events": Status.OK, "checkout/orders": Status.BREACHED,
                              "checkout/returns": Status.AT_RISK}, Lineage.of(products))
    lines = [line.strip() for line in dot.splitlines()]
    assert lines.count('subgraph "cluster_checkout" {') == 1
    assert ('"checkout/orders" [label="orders\\nbreached\\nstarts here", fillcolor="#d62728", '
            'fontcolor="white", tooltip="checkout/orders: breached", penwidth=3];') in lines
    assert ('"checkout/returns" [label="returns\\nat risk", fillcolor="#ff7f0e", '
            'fontcolor="black", tooltip="checkout/returns: at_risk", penwidth=1];') in lines
    assert ('"cart/events" [label="events\\nok", fillcolor="#2ca02c", fontcolor="white", '
            'tooltip="cart/events: ok", penwidth=1];') in lines
    assert [line for line in lines if "->" in line] == [
        '"cart/events" -> "checkout/orders";',
        '"checkout/orders" -> "checkout/returns" [color="#d62728", penwidth=2.5];']


@pytest.fixture
def overview(dashboard_app, mesh_dir) -> AppTest:
    return dashboard_app(mesh_dir, at=AT)


def test_the_overview_sends_the_mesh_picture_with_each_product_in_its_status_colour(overview):
    [chart] = overview.get("graphviz_chart")
    dot = chart.proto.spec
    for product, (domain, label, fill) in EXPECTED.items():
        assert f'subgraph "cluster_{domain}"' in dot
        shown = "\\n".join(label)  # DOT's own line break, as the page sends it
        assert f'"{product}" [label="{shown}", fillcolor="{fill}"' in dot
    assert re.findall(r'^\s*(".*?" -> ".*?")', dot, re.MULTILINE) == [
        '"cart/events" -> "checkout/orders"',
        '"checkout/orders" -> "marketing/campaign-features"']
    assert [s.value for s in overview.subheader] == ["Lineage"]


# ── in a real browser ───────────────────────────────────────────────────────────────────────

@pytest.fixture(scope="module")
def dashboard_url(mesh_dir) -> Iterator[str]:
    with served_dashboard(mesh_dir) as base:
        yield base


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"headless Chromium is needed at {CHROMIUM}")
def test_the_browser_draws_each_product_in_its_domain_with_its_status_colour(dashboard_url):
    with chromium_page(height=1400) as page:
        page.goto(f"{dashboard_url}/?at={AT}")
        settle(page, "Evaluated at 2025-11-10 12:00")
        page.locator('[data-testid="stGraphVizChart"] svg g.node').nth(2).wait_for()
        nodes = page.evaluate("""() => [...document.querySelectorAll(
                '[data-testid="stGraphVizChart"] svg g.node')].map(g => ({
            title: g.querySelector('title').textContent,
            texts: [...g.querySelectorAll('text')].map(t => t.textContent),
            fill: g.querySelector('path, polygon').getAttribute('fill')}))""")
        clusters = page.evaluate("""() => [...document.querySelectorAll(
                '[data-testid="stGraphVizChart"] svg g.cluster')].map(g =>
            [...g.querySelectorAll('text')].map(t => t.textContent))""")
        edges = page.evaluate("""() => [...document.querySelectorAll(
                '[data-testid="stGraphVizChart"] svg g.edge title')].map(t => t.textContent)""")
        (ROOT / "test-artifacts").mkdir(exist_ok=True)
        page.locator('[data-testid="stGraphVizChart"]').screenshot(
            path=str(ROOT / "test-artifacts" / "dashboard-lineage.png"))
    assert sorted((n["title"], n["texts"], n["fill"]) for n in nodes) == sorted(
        (product, label, fill) for product, (_, label, fill) in EXPECTED.items())
    assert sorted(clusters) == [["cart"], ["checkout"], ["marketing"]]
    assert sorted(edges) == ["cart/events->checkout/orders",
                             "checkout/orders->marketing/campaign-features"]
