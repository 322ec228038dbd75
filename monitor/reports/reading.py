"""Reading a month's uptime report from a store, read-only."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from monitor.contracts.model import DataProduct
from monitor.reports.months import Month
from monitor.reports.uptime import UptimeReport, uptime_report
from monitor.store.engine import StoreNotCreated, StoreUnavailable, describe, open_reader
from monitor.store.reads import has_measurements


def read_uptime_report(url: str, products: Iterable[DataProduct], month: Month, timezone: str,
                       now: datetime) -> UptimeReport:
    """The month's report for `products` from the store at `url`, read-only; StoreUnavailable
    when there is nothing to read yet."""
    engine = open_reader(url)
    try:
        with engine.connect() as connection:
            if not has_measurements(connection):
                raise StoreNotCreated(f"the store {describe(url)} has no measurements yet")
            return uptime_report(connection, products, month, timezone, now)
    except SQLAlchemyError as error:
        raise StoreUnavailable(f"cannot read the store {describe(url)}: "
                               f"{getattr(error, 'orig', None) or error}") from None
    finally:
        engine.dispose()
