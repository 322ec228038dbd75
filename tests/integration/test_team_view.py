"""The team's view (issue 12, item 8): `?team=marketing` opens on what marketing owns, what it
consumes and on what terms, and the alerts it hears with their deliveries; the selector keeps the
team in the address. Driven with streamlit.testing and in headless Chromium over the store of
tests/support/report_mesh.py, at 2025-11-10 12:00 UTC.

The contracts are the report mesh's, with marketing owning campaign-features and two agreements:
checkout/orders (campaign analytics, from 1 Feb 2025, api-availability only, in force) and
cart/events (ended on 1 Nov 2025, so the cart alert firing since 9 Nov is not marketing's)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.support.browser import CHROMIUM, chromium_page, served_dashboard, settle
from tests.support.dashboard import open_dashboard_app  # noqa: F401 - `dashboard_app`
from tests.support.report_mesh import CONTRACTS, fill_dashboard_mesh, write_config

AT = "2025-11-10T12:00:00Z"

TEAM_CONTRACTS = {
    **CONTRACTS,
    "checkout-orders.yaml": CONTRACTS["checkout-orders.yaml"].replace(
        "  - {team: marketing, contact: marketing-data@contoso.example, objectives: [api-availability]}",
        "  - {team: marketing, contact: marketing-data@contoso.example, purpose: campaign analytics,\n"
        "     start: 2025-02-01, objectives: [api-availability],\n"
        "     notify: [{email: marketing-data@contoso.example}]}"),
    "cart-events.yaml": CONTRACTS["cart-events.yaml"] + (
        "consumers:\n  - {team: marketing, purpose: basket trends, start: 2025-03-01, end: 2025-11-01}\n"),
    "marketing-features.yaml": CONTRACTS["marketing-features.yaml"].replace(
        "owner: {team: growth}", "owner: {team: marketing}"),
}


@pytest.fixture(scope="module")
def mesh_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("team")
    url = f"sqlite:///{directory / 'meshwatch.db'}"
    fill_dashboard_mesh(url)
    return write_config(directory / "config", url, contracts=TEAM_CONTRACTS)


@pytest.fixture
def team_page(dashboard_app, mesh_dir):
    def start(**params: str) -> AppTest:
        return dashboard_app(mesh_dir, "pages/team.py", at=AT, **params)
    return start


def frame_with(app: AppTest, column: str):
    """The first table the page shows with `column`."""
    return next(f.value for f in app.dataframe if column in f.value.columns)


def test_team_marketing_sees_what_it_owns_and_consumes_with_its_agreements(team_page):
    app = team_page(team="marketing")

    assert app.selectbox[0].value == "marketing"
    assert app.title[0].value == "Team marketing"
    owned = frame_with(app, "budget left")
    assert [p.split("product=")[1].split("&")[0] for p in owned["product"]] == [
        "marketing/campaign-features"]
    assert list(owned["status"]) == ["no data"]

    agreements = frame_with(app, "objectives agreed").set_index("owner")
    orders, cart = agreements.loc["checkout"], agreements.loc["cart"]
    assert "product=checkout/orders" in orders["product"]
    assert (orders["purpose"], orders["from"], orders["until"], orders["agreement"]) == (
        "campaign analytics", "2025-02-01", "…", "in force")
    assert list(orders["objectives agreed"]) == ["api-availability: 99.9% availability, now 99.977%"]
    assert orders["status"] == "at risk"  # the fast burn of its last 10 minutes
    assert orders["notify"] == "email:marketing-data@contoso.example"
    assert (cart["purpose"], cart["until"], cart["agreement"]) == ("basket trends", "2025-11-01",
                                                                   "ended")
    assert list(cart["objectives agreed"]) == ["lake-availability: 99.5% availability, now 98.279%"]


def test_team_marketing_hears_the_alerts_of_its_agreements_in_force_only(team_page):
    app = team_page(team="marketing")

    alerts = frame_with(app, "fired")
    # checkout/orders' fast burn on api-availability (agreed, in force); not cart's budget alert:
    # that agreement ended on 1 Nov, before the alert fired on 9 Nov
    assert list(zip(alerts["product"], alerts["objective"], alerts["state"], strict=True)) == [
        ("checkout/orders", "api-availability", "resolved")]
    assert any("Nothing was sent for these alerts" in c.value for c in app.caption)


def test_choosing_another_team_writes_it_into_the_address(team_page):
    app = team_page(team="marketing")

    app.selectbox[0].set_value("cart").run()

    assert app.query_params["team"] == "cart"
    assert app.title[0].value == "Team cart"
    owned = frame_with(app, "budget left")
    assert ["product=cart/events" in p for p in owned["product"]] == [True]
    assert any(f"{app_caption.value}".startswith("cart has no agreement") for app_caption in app.caption)
    alerts = frame_with(app, "fired")
    assert list(zip(alerts["product"], alerts["state"], strict=True)) == [("cart/events", "firing")]
    deliveries = frame_with(app, "destination")
    assert sorted(zip(deliveries["destination"], deliveries["status"], strict=True)) == [
        ("email:cart-team@contoso.example", "sent"), ("webhook:http://127.0.0.1:9/hook", "failed")]


def test_an_unknown_team_in_the_address_is_said_and_the_first_team_shown(team_page):
    app = team_page(team="nobody")

    assert "No team 'nobody'" in app.warning[0].value
    assert app.selectbox[0].value == "cart"  # the first of cart, checkout, marketing


# --- in headless Chromium ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def dashboard_url(mesh_dir) -> Iterator[str]:
    if not CHROMIUM.exists():
        pytest.skip(f"headless Chromium is needed at {CHROMIUM} (apt install chromium)")
    with served_dashboard(mesh_dir) as base:
        yield base


@pytest.fixture(scope="module")
def browser_page(dashboard_url):
    with chromium_page() as page:
        yield page


def test_the_team_page_in_a_browser_shows_marketings_products_and_agreements(dashboard_url,
                                                                            browser_page):
    from playwright.sync_api import expect

    page = browser_page
    page.goto(f"{dashboard_url}/team?team=marketing&at={AT}")
    settle(page, "Products it consumes")

    expect(page.locator("h1").first).to_have_text("Team marketing")
    grids = page.locator('[data-testid="stDataFrame"]')
    expect(grids.nth(0)).to_contain_text("marketing/campaign-features")
    expect(grids.nth(1)).to_contain_text("checkout/orders")
    expect(grids.nth(1)).to_contain_text("campaign analytics")
    expect(grids.nth(1)).to_contain_text("ended")
    expect(grids.nth(2)).to_contain_text("api-availability")

    page.locator('[data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="cart", exact=True).click()
    settle(page, "Team cart")
    page.wait_for_url(lambda url: "team=cart" in url)
    expect(page.locator("h1").first).to_have_text("Team cart")
    expect(page.locator('[data-testid="stDataFrame"]').nth(0)).to_contain_text("cart/events")
