"""End to end: `meshwatch dashboard` started headless on a free port, driven in real headless
Chromium over a store of known measurements (tests/support/report_mesh.py) looked at as of
2025-11-10 12:00 UTC. Screenshots of every page go to test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.browser import CHROMIUM, chromium_page, served_dashboard, settle
from tests.support.report_mesh import fill_dashboard_mesh, write_config
from tests.support.repository import ROOT

ARTIFACTS = ROOT / "test-artifacts"
AT = "at=2025-11-10T12:00:00Z"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason=f"headless Chromium is needed at {CHROMIUM} (apt install "
                                       "chromium)")


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{directory / 'meshwatch.db'}"
    fill_dashboard_mesh(url)
    config_dir = write_config(directory / "config", url)
    with served_dashboard(config_dir) as base:
        yield base


@pytest.fixture(scope="module")
def browser_page(dashboard_url):
    with chromium_page() as page:
        yield page


def expect_metrics(page, expected: list[tuple[str, str]]) -> None:
    """Wait (Playwright's auto-retrying assertions) until the first metrics read `expected`."""
    from playwright.sync_api import expect

    for index, (label, value) in enumerate(expected):
        expect(page.locator('[data-testid="stMetricLabel"]').nth(index)).to_have_text(label)
        expect(page.locator('[data-testid="stMetricValue"]').nth(index)).to_have_text(value)


def shoot(page, name: str) -> Path:
    """A screenshot of the whole page: Streamlit scrolls inside its main block, so the window is
    made as tall as that block first."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"dashboard-{name}.png"
    height = page.evaluate("""() => Math.max(...['stMain', 'stAppViewContainer', 'stMainBlockContainer']
        .map(id => document.querySelector(`[data-testid="${id}"]`))
        .filter(Boolean).map(e => e.scrollHeight))""")
    page.set_viewport_size({"width": 1440, "height": max(1000, min(height + 80, 9000))})
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": 1440, "height": 1000})
    return path


def test_every_page_renders_in_a_real_browser(dashboard_url, browser_page):
    page = browser_page

    page.goto(f"{dashboard_url}/?{AT}")
    settle(page, "Evaluated at 2025-11-10 12:00")
    page.locator('[data-testid="stDataFrame"]').first.wait_for()
    expect_metrics(page, [("Products", "3"), ("Breached", "1"), ("At risk", "1"),
                          ("Alerts firing", "1")])
    shoot(page, "overview")

    page.goto(f"{dashboard_url}/product?product=checkout/orders&{AT}")
    settle(page, "Ports: latest probe results")
    page.locator('[data-testid="stVegaLiteChart"]').nth(5).wait_for()
    assert page.locator("h1").first.inner_text().strip().startswith("checkout/orders")
    expect_metrics(page, [("Status", "at risk"), ("Compliance (30d)", "99.977%"),
                          ("Error budget left", "76.9%"),
                          ("Events good / total", "43,190 / 43,200")])
    shoot(page, "product")

    page.goto(f"{dashboard_url}/alerts?{AT}")
    settle(page, "Deliveries")
    expect_metrics(page, [("Firing", "1"), ("Pending", "0"), ("Resolved in 7 days", "1"),
                          ("Failed deliveries", "1")])
    shoot(page, "alerts")

    page.goto(f"{dashboard_url}/history?{AT}")
    settle(page, "Compliance per month")
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
    shoot(page, "history")

    page.goto(f"{dashboard_url}/uptime?{AT}")
    settle(page, "How these figures are counted")
    expect_metrics(page, [("Products", "3"), ("Objectives missed", "1"),
                          ("Downtime minutes", "90"), ("Incidents", "1")])
    assert page.get_by_text("Download CSV").count() == 1
    shoot(page, "uptime")


def test_a_product_deep_link_leads_on_to_its_upstream_product(dashboard_url, browser_page):
    page = browser_page

    page.goto(f"{dashboard_url}/product?product=checkout/orders&{AT}")
    settle(page, "Ports: latest probe results")
    page.locator('[data-testid="stPageLink"]').filter(has_text="cart/events").first.click()
    page.locator("h1").filter(has_text="cart/events").wait_for()  # client-side navigation
    settle(page, "Ports: latest probe results")

    page.wait_for_function("() => location.search.includes('product=cart')")  # linkable
    assert "at=2025-11-10" in page.url  # the fixed time travels with the link
    expect_metrics(page, [("Status", "breached"), ("Compliance (30d)", "98.279%")])
    shoot(page, "product-followed-link")
