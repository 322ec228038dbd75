"""What the dashboard pages read: the configuration and the store, cached for a few seconds.

Read-only: the store is opened with `monitor.store.engine.open_reader` (connections refuse writes) and
never migrated. Every cached read is keyed by `config_key()` — the configuration directory, its
files' count and newest change, and the MESHWATCH_* environment (which holds the store URL) — so
an edited contract shows at once and two meshes in one process never mix.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from monitor.config.loading import Config, load_config
from monitor.config.settings import CONFIG_ENV
from monitor.contracts.lineage import Lineage
from monitor.dashboard import daemon_status
from monitor.evaluation.mesh import ObjectiveEvaluation, evaluate_mesh
from monitor.reports.months import Month
from monitor.reports.uptime import UptimeReport, uptime_report
from monitor.store import reads
from monitor.store.engine import StoreNotCreated, StoreUnavailable, describe, open_reader
from monitor.store.events import series_ids
from monitor.store.rollups import floor_minute, minute_time

READ_TTL = 15  # seconds: the daemon evaluates every 30 s by default
REPORT_TTL = 60  # monthly figures change slowly
REFRESH = timedelta(seconds=30)  # how often the overview refreshes itself

NO_MEASUREMENTS = "No measurements yet: start `meshwatch run` (with the same `--config`) to probe " \
                  "the ports; this page fills in as results arrive."


def config_dir() -> str:
    return str(Path(os.environ.get(CONFIG_ENV, "config")).resolve())


def config_key() -> str:
    """Names one state of the configuration: directory, files, newest change, environment.
    A stat of each file, a few milliseconds for a thousand contracts."""
    directory, count, newest = config_dir(), 0, 0
    for root, _folders, files in os.walk(directory):
        for name in files:
            try:
                changed = os.stat(os.path.join(root, name)).st_mtime_ns
            except OSError:
                continue
            count, newest = count + 1, max(newest, changed)
    environment = sorted((k, v) for k, v in os.environ.items() if k.startswith("MESHWATCH_"))
    return repr((directory, count, newest, environment))


@st.cache_resource(show_spinner=False, max_entries=4)
def _config(key: str) -> Config:
    return load_config(Path(config_dir()))


def config() -> Config:
    """The configuration as loaded for the current config key (loaded again on any change)."""
    return _config(config_key())


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


def wall_times(times: Iterable[datetime]) -> list[datetime]:
    """Times as naive wall-clock times of the configured zone: what charts put on their axis."""
    tz = zone()
    return [t.astimezone(tz).replace(tzinfo=None) for t in times]


@st.cache_resource(show_spinner=False)
def _reader(url: str) -> Engine:
    return open_reader(url)


class NothingToRead(Exception):
    """The store cannot be read (yet); the message says what to do."""


def reader() -> Engine:
    """The read-only engine, or NothingToRead with a message for an empty state."""
    url = database_url()
    try:
        engine = _reader(url)
        with engine.connect() as connection:
            if not reads.has_measurements(connection):
                raise NothingToRead(NO_MEASUREMENTS)
    except StoreNotCreated:
        raise NothingToRead(NO_MEASUREMENTS) from None
    except (StoreUnavailable, SQLAlchemyError) as error:
        reason = getattr(error, "orig", None) or error
        raise NothingToRead(f"Cannot read the store {describe(url)}: {reason}. Check "
                            "`database_url` in meshwatch.yaml or MESHWATCH_DATABASE_URL.") from None
    return engine


def engine_or_stop() -> Engine:
    """The reader for a page; shows what to do and stops the page when there is nothing to read."""
    try:
        return reader()
    except NothingToRead as reason:
        st.info(str(reason), icon=":material/info:")
        st.stop()


def clear() -> None:
    st.cache_data.clear()
    _config.clear()


# --- cached reads ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MeshStatus:
    at: datetime
    reports: list[ObjectiveEvaluation]
    firing: dict[str, int] | None  # None: this store has no alert tables yet


@st.cache_data(ttl=READ_TTL, show_spinner=False, max_entries=8)
def _mesh_status(key: str, at: datetime, product_ids: tuple[str, ...] | None) -> MeshStatus:
    mesh = _config(key)
    chosen = [p for p in mesh.registry.products.values()
              if product_ids is None or p.id in product_ids]
    with _reader(mesh.settings.database_url).connect() as connection:
        reports = evaluate_mesh(connection, chosen, at, mesh.settings.slo.policy(),
                                timezone=mesh.settings.timezone,
                                lineage=Lineage.of(mesh.registry.products.values()))
        firing = reads.firing_alerts(connection)
    return MeshStatus(at, reports, firing)


def mesh_status(at: datetime, product_ids: tuple[str, ...] | None = None) -> MeshStatus:
    """Every objective of the mesh (or of `product_ids`) evaluated at `at`, with firing alerts."""
    return _mesh_status(config_key(), at, product_ids)


@st.cache_data(ttl=READ_TTL, show_spinner=False, max_entries=32)
def _bucket_frame(key: str, series: tuple[tuple[str, str], ...], start: datetime,
                  end: datetime, size: str) -> pd.DataFrame:
    with _reader(_config(key).settings.database_url).connect() as connection:
        ids = series_ids(connection, series, create=False)
        counts = reads.bucket_counts(connection, list(ids.values()), floor_minute(start),
                                       floor_minute(end), size)
    names = {series_id: pair[1] for pair, series_id in ids.items()}
    rows = [(names[series_id], minute_time(minute), c.good, c.total)
            for series_id, entries in counts.items() for minute, c in entries]
    return pd.DataFrame(rows, columns=["objective", "at", "good", "total"])


def bucket_frame(series: tuple[tuple[str, str], ...], start: datetime, end: datetime,
                 size: str) -> pd.DataFrame:
    """Per objective (product, objective) and bucket in (start, end]: good, total, and the end of
    the bucket (aware UTC) in `at`."""
    return _bucket_frame(config_key(), series, start, end, size)


@st.cache_data(ttl=READ_TTL, show_spinner=False, max_entries=32)
def _port_reads(key: str, product: str, start: datetime, end: datetime
                ) -> tuple[dict[str, reads.PortResult], list[reads.PortResult],
                           dict[str, list[reads.PortResult]]]:
    mesh = _config(key)
    ports = [p.name for p in mesh.registry.products[product].ports]
    with _reader(mesh.settings.database_url).connect() as connection:
        return (reads.latest_port_results(connection, product),
                reads.recent_failures(connection, product),
                {port: reads.probe_history(connection, product, port, start, end)
                 for port in ports})


def port_reads(product: str, start: datetime, end: datetime):
    """(latest result per port, recent failures, results per port in [start, end))."""
    return _port_reads(config_key(), product, start, end)


@st.cache_data(ttl=READ_TTL, show_spinner=False, max_entries=32)
def _episodes(key: str, product: str, start: datetime, end: datetime
              ) -> list[reads.Episode] | None:
    with _reader(_config(key).settings.database_url).connect() as connection:
        return reads.episodes(connection, product, start, end)


def episodes(product: str, start: datetime, end: datetime) -> list[reads.Episode] | None:
    """Firings of the product's alerts overlapping [start, end); None without alert tables."""
    return _episodes(config_key(), product, start, end)


@st.cache_data(ttl=REPORT_TTL, show_spinner=False, max_entries=64)
def _month_report(key: str, month: str, at: datetime, product_ids: tuple[str, ...] | None
                  ) -> UptimeReport:
    mesh = _config(key)
    chosen = [p for p in mesh.registry.products.values()
              if product_ids is None or p.id in product_ids]
    with _reader(mesh.settings.database_url).connect() as connection:
        return uptime_report(connection, chosen, Month.parse(month), mesh.settings.timezone, at)


def month_report(month: str, at: datetime, product_ids: tuple[str, ...] | None = None
                 ) -> UptimeReport:
    """The uptime report of `month` (YYYY-MM) as known at `at`, for every product (or some)."""
    return _month_report(config_key(), month, at, product_ids)


@dataclass(frozen=True)
class AlertReads:
    alerts: list[dict]  # with history and deliveries, as `meshwatch alerts --json` shows them
    silences: list[dict]
    failed_deliveries: list[dict]


@st.cache_data(ttl=READ_TTL, show_spinner=False, max_entries=8)
def _alert_reads(key: str, at: datetime, recent: timedelta) -> AlertReads | None:
    from monitor.alerting import alert_overview, failed_deliveries, list_silences

    with _reader(_config(key).settings.database_url).connect() as connection:
        if not reads.has_alerts(connection):
            return None
        return AlertReads(
            alert_overview(connection, at, recent),
            [{**s.as_json(at), "starts_at": s.starts_at, "ends_at": s.ends_at}
             for s in list_silences(connection, at)],
            failed_deliveries(connection))


def alert_reads(at: datetime, recent: timedelta) -> AlertReads | None:
    """Active and recent alerts, silences and failed deliveries; None without alert tables."""
    return _alert_reads(config_key(), at, recent)


@dataclass(frozen=True)
class MonitorLoad:
    """The monitor's own state: its live workers, and the runs it skipped (its overload)."""

    workers: int  # live now
    skipped: dict[tuple[str, str], int]  # (product, port) → runs skipped in the hour before `at`


@st.cache_data(ttl=READ_TTL, show_spinner=False, max_entries=8)
def _monitor_load(key: str, at: datetime) -> MonitorLoad:
    from monitor.daemon.leases import TTL
    from monitor.store.leases import live_workers, skipped_runs

    last = floor_minute(at)
    with _reader(_config(key).settings.database_url).connect() as connection:
        if not {"worker", "skipped_run"}.issubset(reads.table_names(connection)):
            return MonitorLoad(0, {})  # a store from before workers: nothing was skipped there
        return MonitorLoad(len(live_workers(connection, datetime.now(UTC) - TTL)),
                           skipped_runs(connection, last - 59, last))


def monitor_load(at: datetime) -> MonitorLoad:
    """The live workers now, and the runs skipped in the hour up to `at` (a whole minute)."""
    return _monitor_load(config_key(), at)


@st.cache_data(ttl=READ_TTL, show_spinner=False, max_entries=4)
def _daemon_refusal(listen: str) -> daemon_status.Refused | None:
    return daemon_status.refused_configuration(listen)


@st.cache_resource(show_spinner=False)
def _good_listen() -> dict[str, str]:
    return {}


def daemon_refusal() -> daemon_status.Refused | None:
    """The configuration change the daemon at `daemon.listen` refused (it runs its last good
    one), if any; None too when no daemon answers there. While meshwatch.yaml is broken — just
    when the daemon refuses it — the address comes from the last good settings seen here."""
    mesh, seen = config(), _good_listen()
    if not mesh.settings_problems:
        seen[mesh.directory.as_posix()] = mesh.settings.daemon.listen
    return _daemon_refusal(seen.get(mesh.directory.as_posix(), mesh.settings.daemon.listen))


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
