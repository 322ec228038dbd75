"""Delivery schedules end to end through the store (SQLite and PostgreSQL): probe results become
freshness events (`events_from_result`) and port states, and `evaluate_mesh` judges the data at
the latest deadline — "lands by 06:00 on weekdays" pages at 06:01 on a Tuesday without
Tuesday's delivery and is fine on Sunday night. Native, ODCS and DCS contracts with a cron
schedule load and are judged by it.

The mesh is probed every 5 minutes from Friday 4 December 2026 00:00 UTC; a delivery lands at
05:50 (UTC unless said) each weekday; 6 December is a Sunday, 8 December a Tuesday.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from monitor.config.loading import KINDS
from monitor.contracts import load_contracts
from monitor.contracts.model import DataProduct, Indicator, Objective, Owner, Port
from monitor.contracts.results import ProbeResult
from monitor.contracts.schedule import Schedule
from monitor.evaluation.indicators import events_from_result
from monitor.evaluation.mesh import evaluate_mesh
from monitor.slo import Status
from monitor.store import record_events
from monitor.store.measurements import record_probe_results

FIVE_MINUTES = timedelta(minutes=5)
START = datetime(2026, 12, 4, tzinfo=UTC)  # Friday
SUNDAY_2300 = datetime(2026, 12, 6, 23, tzinfo=UTC)
TUESDAY_0601 = datetime(2026, 12, 8, 6, 1, tzinfo=UTC)
AMSTERDAM = "Europe/Amsterdam"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def lake(schedule: str | None = "0 6 * * 1-5", timezone: str | None = None) -> DataProduct:
    return DataProduct("sales", "lake", Owner("sales"),
                       ports=(Port("lake", "sql", interval=FIVE_MINUTES),),
                       objectives=(Objective("lake-freshness", Indicator.FRESHNESS,
                                             Decimal("0.99"), threshold=timedelta(hours=2),
                                             port="lake", timezone=timezone,
                                             schedule=Schedule(schedule) if schedule else None),))


def weekday_deliveries(at: datetime, skip: frozenset[datetime] = frozenset(),
                       hour: int = 5) -> datetime:
    """The newest delivery landed by `at`: 05:50 UTC (or `hour`:50) each weekday, not on `skip`."""
    day = at.replace(hour=hour, minute=50, second=0, microsecond=0)
    while day > at or day.weekday() >= 5 or day in skip:
        day -= timedelta(days=1)
    return day


class Mesh:
    """Probes `product`'s port every five minutes into the store, up to a given time."""

    def __init__(self, store, product: DataProduct, newest: Callable[[datetime], datetime],
                 timezone: str = "UTC"):
        self.store, self.product, self.newest, self.timezone = store, product, newest, timezone
        self.probed_to = START

    def probe_until(self, until: datetime) -> None:
        results, at = [], self.probed_to
        while at <= until:
            port = self.product.ports[0].name
            results.append(ProbeResult(self.product.id, port, "sql", at, True,
                                       latency=timedelta(milliseconds=20),
                                       newest_data_at=self.newest(at)))
            at += FIVE_MINUTES
        self.probed_to = at
        with self.store.begin() as connection:
            record_probe_results(connection, results)
            record_events(connection, [e for r in results
                                       for e in events_from_result(self.product, r, self.timezone)])

    def evaluate(self, at: datetime, **options):
        self.probe_until(at)
        with self.store.connect() as connection:
            (report,) = evaluate_mesh(connection, [self.product], at, **options)
        return report.evaluation


def judged(evaluation) -> tuple[Status, list[tuple[str, str]], int, int]:
    return (evaluation.status, [(c.name, c.severity) for c in evaluation.conditions],
            evaluation.counts.good, evaluation.counts.total)


# Friday 00:00 to Sunday 23:00 is 71 h: 852 probes, one more at 23:00 itself.
SUNDAY_PROBES = 71 * 12 + 1


def test_lands_by_0600_on_weekdays_is_fine_on_sunday_and_pages_at_0601_on_tuesday(store):
    mesh = Mesh(store, lake(), lambda at: weekday_deliveries(at, skip=frozenset({utc(2026, 12, 8, 5, 50)})))
    sunday = mesh.evaluate(SUNDAY_2300)
    assert judged(sunday) == (Status.OK, [], SUNDAY_PROBES, SUNDAY_PROBES)
    assert sunday.deadline == utc(2026, 12, 4, 6)  # Friday's: nothing is due at the weekend
    assert sunday.data_age == timedelta(days=2, hours=17, minutes=10)

    tuesday = mesh.evaluate(TUESDAY_0601)
    # the probe at 06:00 found Monday's delivery: one bad event, and the page
    probes = (4 * 24 + 6) * 12 + 1
    assert judged(tuesday) == (Status.AT_RISK, [("freshness_breach", "page")], probes - 1, probes)
    assert tuesday.deadline == utc(2026, 12, 8, 6)


def test_with_tuesdays_delivery_at_0550_tuesday_0601_is_ok(store):
    mesh = Mesh(store, lake(), weekday_deliveries)
    probes = (4 * 24 + 6) * 12 + 1
    assert judged(mesh.evaluate(TUESDAY_0601)) == (Status.OK, [], probes, probes)


def test_the_same_objective_without_a_schedule_is_breached_all_weekend(store):
    mesh = Mesh(store, lake(schedule=None), weekday_deliveries)
    evaluation = mesh.evaluate(SUNDAY_2300)
    status, conditions, good, total = judged(evaluation)
    assert (status, total) == (Status.BREACHED, SUNDAY_PROBES)
    # good only while the data was at most 2 h old: the probes from Friday 05:50 to 07:50
    assert good == 25
    assert ("freshness_breach", "page") in conditions


def test_a_schedule_without_its_own_zone_follows_the_settings_time_zone(store):
    # deliveries at 05:50 Amsterdam (04:50 UTC); Tuesday's does not come
    missing = utc(2026, 12, 8, 4, 50)
    mesh = Mesh(store, lake(), lambda at: weekday_deliveries(at, frozenset({missing}), hour=4),
                timezone=AMSTERDAM)
    at = utc(2026, 12, 8, 5, 1)  # 06:01 in Amsterdam
    evaluation = mesh.evaluate(at, timezone=AMSTERDAM)
    assert [c.name for c in evaluation.conditions] == ["freshness_breach"]
    assert evaluation.deadline == utc(2026, 12, 8, 5)
    # the same moment on the UTC clock: Monday 06:00's delivery (04:50, 1 h 10 before) was on time
    with store.connect() as connection:
        (report,) = evaluate_mesh(connection, [mesh.product], at, timezone="UTC")
    assert report.evaluation.conditions == ()
    assert report.evaluation.deadline == utc(2026, 12, 7, 6)


def test_the_objectives_own_zone_wins_over_the_settings(store):
    mesh = Mesh(store, lake(timezone=AMSTERDAM),
                lambda at: weekday_deliveries(at, frozenset({utc(2026, 12, 8, 4, 50)}), hour=4))
    evaluation = mesh.evaluate(utc(2026, 12, 8, 5, 1), timezone="UTC")
    assert [c.name for c in evaluation.conditions] == ["freshness_breach"]
    assert evaluation.deadline == utc(2026, 12, 8, 5)


# --- standard contracts --------------------------------------------------------------------------

ODCS = """\
    apiVersion: v3.1.0
    kind: DataContract
    id: sales-lake
    domain: sales
    dataProduct: lake
    servers:
      - {server: db, type: postgres, host: db.example, database: sales}
    slaProperties:
      - {property: freshness, value: 2, unit: h, element: deliveries.loaded_at}
      - {property: frequency, value: 1, unit: d, element: deliveries.loaded_at,
         scheduler: cron, schedule: "0 6 * * 1-5"}
    """

DCS = """\
    dataContractSpecification: 1.2.0
    id: lake
    info: {title: Lake, version: 1.0.0, owner: sales}
    servers:
      production: {type: postgres, host: db.example, database: sales}
    servicelevels:
      freshness: {threshold: 2h, timestampField: deliveries.loaded_at}
      frequency: {type: batch, interval: daily, cron: "0 6 * * 1-5"}
    """


def standard_product(folder: Path, name: str, text: str) -> DataProduct:
    (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    registry = load_contracts([folder], KINDS)
    assert registry.problems == []
    (product,) = registry.products.values()
    return product


@pytest.mark.parametrize(("name", "text"), [("lake.odcs.yaml", ODCS), ("lake.dcs.yaml", DCS)])
def test_a_standard_contracts_cron_schedule_judges_its_freshness_promise(store, tmp_path, name,
                                                                          text):
    product = standard_product(tmp_path, name, text)
    (objective,) = [o for o in product.objectives if o.indicator is Indicator.FRESHNESS]
    assert (objective.schedule, objective.port) == (Schedule("0 6 * * 1-5"), product.ports[0].name)
    mesh = Mesh(store, product, lambda at: weekday_deliveries(
        at, skip=frozenset({utc(2026, 12, 8, 5, 50)})))
    mesh.probe_until(SUNDAY_2300)
    reports = {}
    with store.connect() as connection:
        for report in evaluate_mesh(connection, [product], SUNDAY_2300):
            reports[report.objective.name] = report.evaluation
    assert judged(reports[objective.name]) == (Status.OK, [], SUNDAY_PROBES, SUNDAY_PROBES)
    mesh.probe_until(TUESDAY_0601)
    with store.connect() as connection:
        for report in evaluate_mesh(connection, [product], TUESDAY_0601):
            reports[report.objective.name] = report.evaluation
    probes = (4 * 24 + 6) * 12 + 1
    assert judged(reports[objective.name]) == (
        Status.AT_RISK, [("freshness_breach", "page")], probes - 1, probes)


async def test_the_daemon_judges_a_zoneless_schedule_on_the_settings_clock(tmp_path, store, clock):
    """06:00 in Amsterdam is 05:00 UTC: at 05:30 UTC data from 03:00 UTC missed today's
    deadline there (it would be on time for yesterday's 06:00 UTC)."""
    from sqlalchemy import select

    from monitor.config.loading import load_config
    from monitor.daemon.scheduler import Daemon
    from monitor.store.tables import EventMinute, core_table
    from tests.support.daemon import write_config

    directory = write_config(tmp_path, {"lake.yaml": """\
        apiVersion: meshwatch/v1
        kind: DataProduct
        metadata: {domain: sales, name: lake}
        owner: {team: sales}
        ports:
          - {name: lake, type: http, url: "http://127.0.0.1:9/lake", interval: 5m}
        objectives:
          - {name: lake-freshness, port: lake, indicator: freshness, threshold: 15m, target: 99%,
             schedule: "0 6 * * *"}
        """}, settings="timezone: Europe/Amsterdam\n")
    daemon = Daemon(load_config(directory), store, clock=clock)
    await daemon.start()
    try:
        daemon.buffer.add(ProbeResult("sales/lake", "lake", "http", utc(2026, 12, 8, 5, 30), ok=True,
                                      newest_data_at=utc(2026, 12, 8, 3, 0)))
        daemon.buffer.flush()
    finally:
        await daemon.stop()
    with store.connect() as connection:
        counts = connection.execute(select(core_table(EventMinute).c.good,
                                           core_table(EventMinute).c.total)).all()
    assert counts == [(0, 1)]
