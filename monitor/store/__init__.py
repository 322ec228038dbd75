"""The time-series store: SQLModel tables, migrations, writes and the query layer."""

from monitor.store.engine import (
    DEFAULT_URL,
    StoreUnavailable,
    describe,
    migrate,
    open_engine,
    open_store,
)
from monitor.store.events import Event, record_events, series_ids, window_counts

__all__ = ["DEFAULT_URL", "Event", "StoreUnavailable", "describe", "migrate", "open_engine",
           "open_store", "record_events", "series_ids", "window_counts"]
