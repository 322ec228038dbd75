"""What the dashboard pages read: the configuration and the store, cached for a few seconds.

Read-only: the store is opened with `monitor.queries.open_reader` (connections refuse writes) and
never migrated. Cached values are keyed by the configuration directory and the store URL, so two
dashboards of two meshes in one process never mix.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from monitor import queries
from monitor.config import Config, load_config
from monitor.contracts.model import DataProduct
from monitor.evaluation import ObjectiveReport, evaluate_mesh
from monitor.reports import Month, UptimeReport, uptime_report
from monitor.settings import CONFIG_ENV
from monitor.store.engine import StoreUnavailable, describe
from monitor.store.rollups import floor_minute, minute_time

CONFIG_TTL = 10  # seconds: contract edits show up quickly
READ_TTL = 15  # seconds: the daemon evaluates every 30 s by default
REFRESH = timedelta(seconds=30)  # how often the overview refreshes itself

NO_MEASUREMENTS = "No measurements yet: start `meshwatch run` (with the same `--config`) to probe " \
                  "the ports; this page fills in as results arrive."


def config_dir() -> str:
    return str(Path(os.environ.get(CONFIG_ENV, "config")).resolve())


@st.cache_resource(ttl=CONFIG_TTL, show_spinner=False)
def _config(directory: str) -> Config:
    return load_config(Path(directory))


def config() -> Config:
    return _config(config_dir())


def zone() -> ZoneInfo:
    return ZoneInfo(config().settings.timezone)


def database_url() -> str:
    return config().settings.database_url


def fixed_time() -> datetime | None:
    """The time asked for with `?at=` (ISO 8601, UTC when no zone is given), if any."""
    text = st.query_params.get("at")
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        st.warning(f"`?at={text}` is not an ISO 8601 time (e.g. 2026-11-02T12:00Z); showing now.")
        return None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def now_minute() -> datetime:
    """The time every page evaluates at, to the whole minute (and a cache key): now, or the time
    of `?at=` to look at the mesh as it was then."""
    return minute_time(floor_minute(fixed_time() or datetime.now(UTC)))


def at_parameter() -> dict[str, str]:
    """The `at` query parameter to carry along in links, when one is fixed."""
    text = st.query_params.get("at")
    return {"at": text} if text and fixed_time() else {}


def local(at: datetime | None) -> str:
    """A time in the configured zone, as people read it."""
    return "—" if at is None else at.astimezone(zone()).strftime("%Y-%m-%d %H:%M")


def wall_times(times: Sequence[datetime]) -> list[datetime]:
    """Times as naive wall-clock times of the configured zone: what charts put on their axis."""
    tz = zone()
    return [t.astimezone(tz).replace(tzinfo=None) for t in times]


@st.cache_resource(show_spinner=False)
def _reader(url: str) -> Engine:
    return queries.open_reader(url)


class NothingToRead(Exception):
    """The store cannot be read (yet); the message says what to do."""


def reader() -> Engine:
    """The read-only engine, or NothingToRead with a message for an empty state."""
    url = database_url()
    try:
        engine = _reader(url)
        with engine.connect() as connection:
            if not queries.has_measurements(connection):
                raise NothingToRead(NO_MEASUREMENTS)
    except queries.StoreNotCreated:
        raise NothingToRead(NO_MEASUREMENTS) from None
    except (StoreUnavailable, SQLAlchemyError) as error:
        reason = getattr(error, "orig", None) or error
        raise NothingToRead(f"Cannot read the store {describe(url)}: {reason}. Check "
                            "`database_url` in meshwatch.yaml or MESHWATCH_DATABASE_URL.") from None
    return engine


def engine_or_stop() -> Engine:
    """The reader for a page; shows what to do and stops the page when there is nothing yet."""
    try:
        return reader()
    except NothingToRead as reason:
        st.info(str(reason), icon=":material/info:")
        st.stop()


def products() -> dict[str, DataProduct]:
    return config().registry.products


def clear() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


# --- cached reads ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MeshStatus:
    at: datetime
    reports: list[ObjectiveReport]
    firing: dict[str, int] | None  # None: this store has no alert tables yet


@st.cache_data(ttl=READ_TTL, show_spinner=False, max_entries=8)
def mesh_status(directory: str, url: str, at: datetime,
                product_ids: tuple[str, ...] | None = None) -> MeshStatus:
    """Every objective of the mesh (or of `product_ids`) evaluated at `at`, with firing alerts."""
    mesh = _config(directory)
    chosen = [p for p in mesh.registry.products.values()
              if product_ids is None or p.id in product_ids]
    with _reader(url).connect() as connection:
        reports = evaluate_mesh(connection, chosen, at, mesh.settings.slo.policy())
        firing = queries.firing_alerts(connection)
    return MeshStatus(at, reports, firing)


@st.cache_data(ttl=READ_TTL, show_spinner=False, max_entries=32)
def bucket_frame(url: str, keys: tuple[tuple[str, str], ...], start: datetime, end: datetime,
                 size: str) -> pd.DataFrame:
    """Per objective and bucket: good, total, and the end of the bucket (aware UTC)."""
    with _reader(url).connect() as connection:
        ids = queries.known_series(connection, keys)
        counts = queries.bucket_counts(connection, list(ids.values()), floor_minute(start),
                                       floor_minute(end), size)
    names = {series: key[1] for key, series in ids.items()}
    rows = [(names[series], minute_time(minute), c.good, c.total)
            for series, entries in counts.items() for minute, c in entries]
    return pd.DataFrame(rows, columns=["objective", "at", "good", "total"])


@st.cache_data(ttl=READ_TTL, show_spinner=False, max_entries=32)
def port_results(url: str, product: str) -> dict[str, queries.PortResult]:
    with _reader(url).connect() as connection:
        return queries.latest_port_results(connection, product)


@st.cache_data(ttl=READ_TTL, show_spinner=False, max_entries=32)
def failures(url: str, product: str) -> list[queries.PortResult]:
    with _reader(url).connect() as connection:
        return queries.recent_failures(connection, product)


@st.cache_data(ttl=READ_TTL, show_spinner=False, max_entries=32)
def probe_history(url: str, product: str, port: str, start: datetime, end: datetime
                  ) -> list[queries.PortResult]:
    with _reader(url).connect() as connection:
        return queries.probe_history(connection, product, port, start, end)


@st.cache_data(ttl=READ_TTL, show_spinner=False, max_entries=32)
def episodes(url: str, product: str, start: datetime, end: datetime
             ) -> list[queries.Episode] | None:
    with _reader(url).connect() as connection:
        return queries.episodes(connection, product, start, end)


@st.cache_data(ttl=60, show_spinner=False, max_entries=64)
def month_report(directory: str, url: str, month: str, at: datetime,
                 product_ids: tuple[str, ...] | None = None) -> UptimeReport:
    """The uptime report of `month` (YYYY-MM) for every product (or `product_ids`)."""
    mesh = _config(directory)
    chosen = [p for p in mesh.registry.products.values()
              if product_ids is None or p.id in product_ids]
    with _reader(url).connect() as connection:
        return uptime_report(connection, chosen, Month.parse(month), mesh.settings.timezone, at)


@st.cache_data(ttl=READ_TTL, show_spinner=False, max_entries=8)
def alert_overview(url: str, at: datetime, recent: timedelta) -> list[dict] | None:
    """Active and recent alerts with history and deliveries (as `meshwatch alerts` shows them);
    None while the store has no alert tables."""
    from monitor.alerting import alert_overview as overview

    with _reader(url).connect() as connection:
        return overview(connection, at, recent) if queries.has_alerts(connection) else None


@st.cache_data(ttl=READ_TTL, show_spinner=False, max_entries=8)
def silences(url: str, at: datetime) -> list[dict] | None:
    from monitor.alerting import list_silences

    with _reader(url).connect() as connection:
        if not queries.has_alerts(connection):
            return None
        return [{**s.as_json(at), "starts_at": s.starts_at, "ends_at": s.ends_at}
                for s in list_silences(connection, at)]


@st.cache_data(ttl=READ_TTL, show_spinner=False, max_entries=8)
def failed_deliveries(url: str) -> list[dict] | None:
    from monitor.alerting import failed_deliveries as failed

    with _reader(url).connect() as connection:
        return failed(connection) if queries.has_alerts(connection) else None


# --- shared bits of pages ----------------------------------------------------------------------


def sidebar() -> None:
    mesh = config()
    fixed = fixed_time()
    if fixed is not None:
        st.info(f"Showing the mesh as of **{local(fixed)}** ({mesh.settings.timezone}), from "
                "`?at=` in the address; remove it for live figures.", icon=":material/history:")
    with st.sidebar:
        st.caption(f"Configuration: `{mesh.directory}`  \nStore: `{describe(mesh.settings.database_url)}`"
                   f"  \nTimes in **{mesh.settings.timezone}**")
        if st.button("Reload now", help="Forget cached reads and read the store again"):
            clear()
            st.rerun()
