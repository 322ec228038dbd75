"""A small mesh with hand-countable measurements in October 2025, for the report and dashboard tests.

checkout/orders (UTC October 2025, 44,640 minutes):
- api-availability: one probe a minute at hh:mm:30; bad from 10 Oct 12:00:30 to 12:44:30 (45).
- lake-availability: one probe every 5 minutes at hh:m5:30; bad on 10 Oct 12:00:30…12:15:30 (4,
  all inside api's bad minutes) and on 20 Oct 08:00:30…08:25:30 (6) -> 51 downtime minutes.
- api-latency: one event an hour at hh:00:30; bad on 3 Oct at 01…05 h (5 of 744).
- one extra bad api probe at 2025-09-30T22:30:30Z (1 Oct 00:30 in Amsterdam).
cart/events: maintenance every 7 days for 2 h from 1 Oct 02:00Z, kept out of the SLO (5 x 120 min);
  lake-availability every 5 minutes, all 24 probes of each maintenance bad, and 3 bad on 12 Oct
  10:00:30…10:10:30.
marketing/campaign-features: contract from 16 Oct 2025, no measurements at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import inspect, text

from monitor.contracts.results import ErrorClass, ProbeResult
from monitor.store import Event, open_store, record_events

OCTOBER = datetime(2025, 10, 1, tzinfo=UTC)
NOVEMBER = datetime(2025, 11, 1, tzinfo=UTC)

CONTRACTS = {
    "checkout-orders.yaml": """
apiVersion: meshwatch/v1
kind: DataProduct
metadata: {domain: checkout, name: orders, description: Successful customer orders}
owner: {team: checkout, contact: checkout-data@contoso.example}
contract:
  version: 1.2.0
  start: 2025-01-01
  terms: {query_interval: 5m}
  lineage: {upstream: [cart/events]}
ports:
  - {name: api, type: http, url: "http://127.0.0.1:9/orders", interval: 1m}
  - {name: lake, type: http, url: "http://127.0.0.1:9/lake", interval: 5m}
objectives:
  - {name: api-availability, port: api, indicator: availability, target: 99.9%}
  - {name: api-latency, port: api, indicator: latency, threshold: 300ms, target: 99%}
  - {name: lake-availability, port: lake, indicator: availability, target: 99.5%}
consumers:
  - {team: marketing, contact: marketing-data@contoso.example, objectives: [api-availability]}
""",
    "cart-events.yaml": """
apiVersion: meshwatch/v1
kind: DataProduct
metadata: {domain: cart, name: events}
owner: {team: cart, contact: cart-team@contoso.example}
contract: {version: 2.0.0, start: 2025-01-01}
ports:
  - {name: lake, type: http, url: "http://127.0.0.1:9/cart", interval: 5m}
objectives:
  - {name: lake-availability, port: lake, indicator: availability, target: 99.5%}
maintenance:
  - {start: "2025-10-01T02:00:00Z", duration: 2h, every: 7d}
maintenance_in_slo: excluded
""",
    "marketing-features.yaml": """
apiVersion: meshwatch/v1
kind: DataProduct
metadata: {domain: marketing, name: campaign-features}
owner: {team: growth}
contract:
  version: 0.9.0
  start: 2025-10-16
  lineage: {upstream: [checkout/orders]}
ports:
  - {name: api, type: http, url: "http://127.0.0.1:9/features", interval: 1m}
objectives:
  - {name: api-availability, port: api, indicator: availability, target: 99.5%}
""",
}


def write_config(directory: Path, database_url: str, timezone: str = "UTC",
                 contracts: dict[str, str] = CONTRACTS) -> Path:
    (directory / "contracts").mkdir(parents=True, exist_ok=True)
    (directory / "meshwatch.yaml").write_text(
        f"database_url: {database_url}\ntimezone: {timezone}\n")
    for name, body in contracts.items():
        (directory / "contracts" / name).write_text(body)
    return directory


def _every(step: timedelta, start: datetime = OCTOBER, end: datetime = NOVEMBER
           ) -> Iterator[datetime]:
    at = start + timedelta(seconds=30)
    while at < end:
        yield at
        at += step


def _within(at: datetime, first: datetime, last: datetime) -> bool:
    return first <= at <= last


def october_events() -> list[Event]:
    def day(d: int, h: int, m: int) -> datetime:
        return datetime(2025, 10, d, h, m, 30, tzinfo=UTC)

    events = []
    for at in _every(timedelta(minutes=1)):
        bad = _within(at, day(10, 12, 0), day(10, 12, 44))
        events.append(Event("checkout/orders", "api-availability", at, int(not bad), 1))
    events.append(Event("checkout/orders", "api-availability",
                        datetime(2025, 9, 30, 22, 30, 30, tzinfo=UTC), 0, 1))
    for at in _every(timedelta(minutes=5)):
        bad = _within(at, day(10, 12, 0), day(10, 12, 15)) or _within(at, day(20, 8, 0),
                                                                      day(20, 8, 25))
        events.append(Event("checkout/orders", "lake-availability", at, int(not bad), 1))
        in_maintenance = any(_within(at, day(d, 2, 0), day(d, 3, 55)) for d in (1, 8, 15, 22, 29))
        bad = in_maintenance or _within(at, day(12, 10, 0), day(12, 10, 10))
        events.append(Event("cart/events", "lake-availability", at, int(not bad), 1))
    for at in _every(timedelta(hours=1)):
        bad = at.day == 3 and 1 <= at.hour <= 5
        events.append(Event("checkout/orders", "api-latency", at, int(not bad), 1))
    return events


def fill_october(engine) -> None:
    with engine.begin() as connection:
        record_events(connection, october_events())


def store_before_alerts(url: str):
    """A store without the alert tables, as one whose alert engine never ran: the readers must
    answer "no alert history" (None), never fail. Its measurement tables are this version's
    (readers read stores at the current schema: the daemon migrates at its start)."""
    engine = open_store(url)
    with engine.begin() as connection:
        for table in ("notification", "silence", "alert_event", "alert"):
            connection.execute(text(f"DROP TABLE {table}"))
    assert "alert" not in inspect(engine).get_table_names()
    return engine


# --- up to AT: what the dashboard tests look at ------------------------------------------------
#
# 1 Nov 00:00 .. 10 Nov 12:00 (13,680 minutes), everything probed every minute (lake every 5):
# - checkout/orders api-availability: bad in the last 10 minutes -> fast burn, at risk;
#   over 30 d (11 Oct 12:00 .. AT): 43,200 events, 10 bad -> 99.977 %, budget left 76.9 %.
# - checkout/orders lake-availability and api-latency: all good.
# - cart/events lake-availability: bad 9 Nov 00:00 .. 11:55 (144 probes); over 30 d with its
#   maintenance left out (4 windows, 96 probes, 72 of them bad): 147 bad of 8,544 -> 98.279 %.
# - marketing/campaign-features: still nothing -> no data.

AT = datetime(2025, 11, 10, 12, 0, tzinfo=UTC)


def november_events() -> list[Event]:
    events = []
    for at in _every(timedelta(minutes=1), NOVEMBER, AT):
        events.append(Event("checkout/orders", "api-availability", at,
                            int(at < AT - timedelta(minutes=10)), 1))
        events.append(Event("checkout/orders", "api-latency", at, 1, 1))
    for at in _every(timedelta(minutes=5), NOVEMBER, AT):
        events.append(Event("checkout/orders", "lake-availability", at, 1, 1))
        bad = datetime(2025, 11, 9, tzinfo=UTC) <= at < datetime(2025, 11, 9, 12, tzinfo=UTC)
        events.append(Event("cart/events", "lake-availability", at, int(not bad), 1))
    return events


def fill_until_at(engine) -> None:
    with engine.begin() as connection:
        record_events(connection, october_events() + november_events())


def add_alerts(engine) -> None:
    """cart/events: budget exhausted, firing since 9 Nov 01:05 (one email sent, one webhook failed
    for good). checkout/orders: fast burn on api-availability, fired 10 Oct 12:01-12:46 and
    8 Nov 10:00-10:30, resolved. A silence on checkout/orders from 11:00 to 15:00 on AT's day."""
    from monitor.store.tables import (
        AlertEventRecord,
        AlertRecord,
        NotificationRecord,
        SilenceRecord,
    )

    def utc(*parts: int) -> datetime:
        return datetime(*parts, tzinfo=UTC)

    def insert(connection, table, rows: list[dict]) -> None:
        for row in rows:  # one by one: the rows leave different columns out
            connection.execute(table.insert(), row)

    alerts, history = AlertRecord.__table__, AlertEventRecord.__table__
    with engine.begin() as connection:
        insert(connection, alerts, [
            {"id": 1, "product": "cart/events", "objective": "lake-availability",
             "condition": "budget_exhausted", "severity": "ticket", "state": "firing",
             "version": 1, "episode": 1, "since": utc(2025, 11, 9, 1, 0),
             "fired_at": utc(2025, 11, 9, 1, 5)},
            {"id": 2, "product": "checkout/orders", "objective": "api-availability",
             "condition": "fast_burn", "severity": "page", "state": "resolved", "version": 4,
             "episode": 2, "since": utc(2025, 11, 8, 9, 58), "fired_at": utc(2025, 11, 8, 10, 0),
             "resolved_at": utc(2025, 11, 8, 10, 30)}])
        insert(connection, history, [
            {"id": 1, "alert_id": 1, "episode": 1, "kind": "firing", "at": utc(2025, 11, 9, 1, 5)},
            {"id": 2, "alert_id": 2, "episode": 1, "kind": "firing", "at": utc(2025, 10, 10, 12, 1)},
            {"id": 3, "alert_id": 2, "episode": 1, "kind": "resolved",
             "at": utc(2025, 10, 10, 12, 46)},
            {"id": 4, "alert_id": 2, "episode": 2, "kind": "firing", "at": utc(2025, 11, 8, 10, 0)},
            {"id": 5, "alert_id": 2, "episode": 2, "kind": "resolved",
             "at": utc(2025, 11, 8, 10, 30)}])
        insert(connection, NotificationRecord.__table__, [
            {"group_key": "cart/events:1", "destination": "email:cart-team@contoso.example",
             "product": "cart/events", "status": "sent", "created_at": utc(2025, 11, 9, 1, 5),
             "attempts": 1, "sent_at": utc(2025, 11, 9, 1, 5), "event_ids": [1],
             "recipients": ["owner cart"], "payload": {"status": "firing"}},
            {"group_key": "cart/events:1", "destination": "webhook:http://127.0.0.1:9/hook",
             "product": "cart/events", "status": "failed", "created_at": utc(2025, 11, 9, 1, 5),
             "attempts": 8, "last_error": "HTTP 500 from the webhook", "event_ids": [1],
             "recipients": ["owner cart"], "payload": {"status": "firing"}}])
        insert(connection, SilenceRecord.__table__, [
            {"product": "checkout/orders", "objective": None, "starts_at": utc(2025, 11, 10, 11),
             "ends_at": utc(2025, 11, 10, 15), "comment": "deploying v2", "created_by": "ops",
             "created_at": utc(2025, 11, 10, 11)}])


def probe_results() -> list[ProbeResult]:
    """The api port answering in 100-130 ms over the last half hour; the lake failing."""
    results = [ProbeResult("checkout/orders", "api", "http", AT - timedelta(minutes=m), ok=True,
                           latency=timedelta(milliseconds=100 + m)) for m in range(1, 31)]
    results.append(ProbeResult("checkout/orders", "lake", "http", AT - timedelta(minutes=2),
                               ok=False, latency=timedelta(milliseconds=40),
                               error_class=ErrorClass.HTTP_STATUS,
                               error="HTTP 503 from http://127.0.0.1:9/lake"))
    return results


def fill_dashboard_mesh(url: str) -> None:
    """The store the dashboard tests read: October and November 2025, alerts and probes."""
    from monitor.store import open_store
    from monitor.store.measurements import record_probe_results

    engine = open_store(url)
    fill_until_at(engine)
    add_alerts(engine)
    with engine.begin() as connection:
        record_probe_results(connection, probe_results())
    engine.dispose()
