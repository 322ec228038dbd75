"""Read-only queries for the dashboard and the reports: counts per bucket, downtime, probe results,
alerts. Nothing here writes; `monitor.store.engine.open_reader` gives an engine whose connections
refuse to.

Alert tables belong to the alert engine (migration 0003). Until a store has them, every alert
query answers None ("not known yet"), never an error.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, inspect, select

from monitor.slo.budget import Counts
from monitor.store.events import tier_horizons
from monitor.store.rollups import MINUTES_PER_HOUR, aligned_end, aligned_start, hour_bucket, split_hours
from monitor.store.rollups import Span as BucketSpan
from monitor.store.states import EventKind, State
from monitor.store.tables import (
    AlertEventRecord,
    AlertRecord,
    EventHour,
    EventMinute,
    PortState,
    ProbeRecord,
    core_table,
)

MEASUREMENT_TABLES = frozenset({"series", "event_minute", "event_hour"})
Span = tuple[int, int]  # (start, end] in epoch minutes


def table_names(connection: Connection) -> frozenset[str]:
    return frozenset(inspect(connection).get_table_names())


def has_measurements(connection: Connection) -> bool:
    """Whether the store has been created by the daemon (the event tables exist)."""
    return MEASUREMENT_TABLES.issubset(table_names(connection))


# --- counts over time -----------------------------------------------------------------------


def bucket_counts(connection: Connection, ids: Sequence[int], start: int, end: int,
                  size: str = "minute") -> dict[int, list[tuple[int, Counts]]]:
    """The counts of each series in (start, end] (epoch minutes), one entry per non-empty bucket,
    oldest first, each named by the epoch minute at its end. With `size="hour"`, whole hours come
    from event_hour and only the partial hours at the edges from event_minute, so the sum over the
    entries is exactly the window's sum (once the minutes at its start are pruned: from the start
    of that hour)."""
    if end <= start:
        return {}
    if size == "hour":  # a start whose minutes are pruned moves back to its hour's start
        minutes_from = tier_horizons(connection)[0]
        spans = split_hours(aligned_start(start, minutes_from), aligned_end(end, minutes_from))
    else:
        spans = [BucketSpan("minute", start + 1, end)]
    result: dict[int, list[tuple[int, Counts]]] = defaultdict(list)
    for span in spans:
        table = core_table(EventHour) if span.size == "hour" else core_table(EventMinute)
        bucket = table.c[span.size]
        query = (select(table.c.series_id, bucket, table.c.good, table.c.total)
                 .where(table.c.series_id.in_(bindparam("ids", expanding=True)),
                        bucket.between(span.first, span.last)))
        scale = MINUTES_PER_HOUR if span.size == "hour" else 1
        for series, number, good, total in connection.execute(query, {"ids": list(ids)}):
            result[series].append((number * scale, Counts(int(good), int(total))))
    for entries in result.values():
        entries.sort(key=lambda entry: entry[0])
    return dict(result)


MinuteSet = int  # bit k set: minute bucket `first + k` of the range it was read for


def minute_marks(connection: Connection, ids: Sequence[int], first: int, last: int
                 ) -> tuple[dict[int, MinuteSet], dict[int, MinuteSet]]:
    """Per series, the minutes first..last that held an event, and those that held a bad one,
    read from the hours' masks (exact to the minute, whatever tier still holds the minutes)."""
    table = core_table(EventHour)
    first_hour, last_hour = hour_bucket(first), hour_bucket(last)
    query = (select(table.c.series_id, table.c.hour, table.c.seen_mask, table.c.bad_mask)
             .where(table.c.series_id.in_(bindparam("ids", expanding=True)),
                    table.c.hour.between(first_hour, last_hour)))
    hours: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
    for series, hour, seen_mask, bad_mask in connection.execute(query, {"ids": list(ids)}):
        hours[series][int(hour)] = (int(seen_mask), int(bad_mask))
    base = MINUTES_PER_HOUR * (first_hour - 1) + 1  # the first minute of the first hour
    skip, width = first - base, last - first + 1
    seen: dict[int, MinuteSet] = {}
    bad: dict[int, MinuteSet] = {}
    for series, masks in hours.items():
        for found, column in ((seen, 0), (bad, 1)):
            chunks = (format(masks.get(hour, (0, 0))[column], "060b")
                      for hour in range(last_hour, first_hour - 1, -1))  # the newest hour is the top bits
            found[series] = (int("".join(chunks), 2) >> skip) & ((1 << width) - 1)
    return seen, bad


# --- probe results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PortResult:
    """The latest (or one past) measurement of one port, as the dashboard shows it."""

    product: str
    port: str
    kind: str
    started_at: datetime
    ok: bool
    latency_ms: float | None
    newest_data_at: datetime | None
    error_class: str | None
    error: str | None
    failing_since: datetime | None = None
    schema_mismatch: list[str] | None = None  # the latest schema findings; None: none compared
    volume: int | None = None  # what the port counted in its `per` (probe history only)


def latest_port_results(connection: Connection, product: str) -> dict[str, PortResult]:
    """The newest result of each port of `product` (from port_state, else from the history)."""
    names = table_names(connection)
    if "port_state" in names:
        table = core_table(PortState)
        rows = connection.execute(select(table).where(table.c.product == product)).mappings()
        return {row["port"]: PortResult(
            row["product"], row["port"], row["kind"], row["last_started_at"], row["ok"],
            row["latency_ms"], row["newest_data_at"], row["error_class"], row["error"],
            row["failing_since"], row["schema_mismatch"]) for row in rows}
    if "probe_result" not in names:
        return {}
    table = core_table(ProbeRecord)
    newest = (select(table.c.port, func.max(table.c.started_at).label("started_at"))
              .where(table.c.product == product).group_by(table.c.port).subquery())
    query = select(table).join(newest, (table.c.port == newest.c.port)
                               & (table.c.started_at == newest.c.started_at)).where(
        table.c.product == product)
    return {row["port"]: _port_result(row) for row in connection.execute(query).mappings()}


def probe_history(connection: Connection, product: str, port: str, since: datetime,
                  until: datetime) -> list[PortResult]:
    """The probe results of one port in [since, until), oldest first (kept a few days only)."""
    if "probe_result" not in table_names(connection):
        return []
    table = core_table(ProbeRecord)
    query = (select(table).where(table.c.product == product, table.c.port == port,
                                 table.c.started_at >= since, table.c.started_at < until)
             .order_by(table.c.started_at))
    return [_port_result(row) for row in connection.execute(query).mappings()]


def recent_failures(connection: Connection, product: str, limit: int = 20) -> list[PortResult]:
    """The newest failed probes of `product`, newest first, with their error messages."""
    if "probe_result" not in table_names(connection):
        return []
    table = core_table(ProbeRecord)
    query = (select(table).where(table.c.product == product, table.c.ok.is_(False))
             .order_by(table.c.started_at.desc()).limit(limit))
    return [_port_result(row) for row in connection.execute(query).mappings()]


def _port_result(row) -> PortResult:
    return PortResult(row["product"], row["port"], row["kind"], row["started_at"], row["ok"],
                      row["latency_ms"], row["newest_data_at"], row["error_class"], row["error"],
                      schema_mismatch=(row["details"] or {}).get("schema_mismatch"),
                      volume=(row["details"] or {}).get("volume"))


# --- alerts (the alert engine's tables, migration 0003) ---------------------------------------
#
# The dashboard never migrates the store, so a store written by an older daemon may lack these
# tables: every function here then answers None ("no alert history yet"), never an error.
# Alert lists with history and deliveries come from monitor.alerting.history, as for the CLI.

ALERT_TABLES = frozenset({"alert", "alert_event", "notification", "silence"})


@dataclass(frozen=True)
class Episode:
    """One firing of one alert, from `fired_at` until `resolved_at` (None: still firing)."""

    alert_id: int
    objective: str
    condition: str
    severity: str
    fired_at: datetime
    resolved_at: datetime | None


def has_alerts(connection: Connection) -> bool:
    return ALERT_TABLES.issubset(table_names(connection))


def firing_alerts(connection: Connection) -> dict[str, int] | None:
    """Per product, how many of its alerts are firing now; None without alert tables."""
    if not has_alerts(connection):
        return None
    table = core_table(AlertRecord)
    query = (select(table.c.product, func.count()).where(table.c.state == State.FIRING.value)
             .group_by(table.c.product))
    return {product: int(count) for product, count in connection.execute(query)}


def incident_counts(connection: Connection, start: datetime, end: datetime
                    ) -> dict[str, int] | None:
    """Per product, how many times one of its alerts started firing in [start, end): its
    incidents. None without alert tables."""
    if not has_alerts(connection):
        return None
    alert, history = core_table(AlertRecord), core_table(AlertEventRecord)
    query = (select(alert.c.product, func.count())
             .select_from(history.join(alert, alert.c.id == history.c.alert_id))
             .where(history.c.kind == EventKind.FIRING.value, history.c.at >= start, history.c.at < end)
             .group_by(alert.c.product))
    return {product: int(count) for product, count in connection.execute(query)}


def episodes(connection: Connection, product: str, since: datetime, until: datetime
             ) -> list[Episode] | None:
    """The firings of `product`'s alerts that overlap [since, until), oldest first; None without
    alert tables."""
    if not has_alerts(connection):
        return None
    alert, history = core_table(AlertRecord), core_table(AlertEventRecord)
    query = (select(history.c.alert_id, history.c.episode, history.c.kind, history.c.at,
                    alert.c.objective, alert.c.condition, alert.c.severity)
             .select_from(history.join(alert, alert.c.id == history.c.alert_id))
             .where(alert.c.product == product,
                    history.c.kind.in_((EventKind.FIRING.value, EventKind.RESOLVED.value)),
                    history.c.at < until)
             .order_by(history.c.at, history.c.id))
    firing: dict[tuple[int, int], Episode] = {}
    found: list[Episode] = []
    for row in connection.execute(query).mappings():
        key = (row["alert_id"], row["episode"])
        if row["kind"] == EventKind.FIRING:
            firing[key] = Episode(row["alert_id"], row["objective"], row["condition"],
                                  row["severity"], row["at"], None)
        elif key in firing:
            found.append(replace(firing.pop(key), resolved_at=row["at"]))
    found += firing.values()
    return sorted((e for e in found if e.resolved_at is None or e.resolved_at >= since),
                  key=lambda e: e.fired_at)
