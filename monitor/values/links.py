"""Where a data product's page is in the dashboard: the one home of the product link, for the
dashboard's own tables and for the links alert messages carry (`alerting.dashboard_url`)."""

from __future__ import annotations

from urllib.parse import quote

PRODUCT_PAGE = "product"  # the product page's url_path in monitor/dashboard/app.py


def product_url(base: str, product_id: str, at: str | None = None) -> str:
    """The product page under `base` (the dashboard's address, or "." for a link relative to its
    root), keeping a fixed evaluation time `at` (the page's `?at=`) when one is given."""
    url = f"{base.rstrip('/')}/{PRODUCT_PAGE}?product={quote(product_id, safe='/')}"
    return url + (f"&at={quote(at, safe=':')}" if at else "")
