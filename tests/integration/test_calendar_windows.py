"""Calendar windows end to end through the store (SQLite and PostgreSQL) and `evaluate_mesh`:
the budget resets at local midnight on the 1st, periods across daylight-saving changes, a week
and a quarter, maintenance left out of a calendar span, and the `evaluate --json` fields.

Minute buckets are named by their end: an event 40 s before a minute's end counts in the window
(start, end] that holds that end.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from monitor.contracts.model import DataProduct, Indicator, MaintenanceWindow, Objective, Owner, Port
from monitor.evaluation.mesh import evaluate_mesh, objective_json
from monitor.slo import Status
from monitor.store import Event, record_events
from monitor.values.calendar import CalendarPeriod

MINUTE = timedelta(minutes=1)
AMSTERDAM = "Europe/Amsterdam"
TARGET = Decimal("0.99")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def product(period: CalendarPeriod | None = CalendarPeriod.MONTH, zone: str | None = AMSTERDAM,
            interval: timedelta = MINUTE, **extra) -> DataProduct:
    window = period.nominal if period else timedelta(days=30)
    return DataProduct(domain="shop", name="api", owner=Owner("shop"), start=date(2026, 1, 1),
                       ports=(Port("api", "http", interval=interval),),
                       objectives=(Objective("api-availability", Indicator.AVAILABILITY, TARGET,
                                             window=window, port="api", calendar=period,
                                             timezone=zone),), **extra)


def probes(shop: DataProduct, first: datetime, last: datetime, interval: timedelta = MINUTE,
           bad: set[datetime] = frozenset()) -> list[Event]:
    """One probe per `interval` whose bucket ends at first + interval, …, last; bad in `bad`."""
    events, end = [], first + interval
    while end <= last:
        events.append(Event(shop.id, "api-availability", end - timedelta(seconds=40),
                            int(end not in bad), 1))
        end += interval
    return events


def evaluate(store, shop: DataProduct, at: datetime, **options):
    with store.connect() as connection:
        (report,) = evaluate_mesh(connection, [shop], at, **options)
    return report


def record(store, events: list[Event]) -> None:
    with store.begin() as connection:
        record_events(connection, events)


# --- a month end in Amsterdam ---------------------------------------------------------------------

NOVEMBER_BAD = {utc(2026, 11, 29, 10) + i * MINUTE for i in range(10)}
DECEMBER_FIRST = utc(2026, 11, 30, 23, 1)  # the bucket of Dec 1 00:00–00:01 Amsterdam


@pytest.fixture
def month_end(store):
    """A probe a minute from 28 November 00:00 UTC to 1 December 00:59 UTC: 10 bad on 29
    November, and the first probe of December (Amsterdam) bad."""
    shop = product()
    record(store, probes(shop, utc(2026, 11, 28), utc(2026, 12, 1, 0, 59),
                         bad=NOVEMBER_BAD | {DECEMBER_FIRST}))
    return store, shop


def test_at_local_midnight_on_the_first_the_window_is_the_whole_month_before(month_end):
    store, shop = month_end
    report = evaluate(store, shop, utc(2026, 11, 30, 23, 0))
    evaluation = report.evaluation
    # buckets 28 Nov 00:01 … 30 Nov 23:00 UTC: 3 days less an hour
    assert (evaluation.counts.good, evaluation.counts.total) == (4250, 4260)
    assert evaluation.status is Status.OK
    assert (evaluation.period.start, evaluation.period.end) == (utc(2026, 10, 31, 23),
                                                                utc(2026, 11, 30, 23))


def test_the_budget_resets_at_local_midnight_and_the_first_bad_probe_spends_a_sliver(month_end):
    store, shop = month_end
    evaluation = evaluate(store, shop, utc(2026, 11, 30, 23, 30)).evaluation
    assert (evaluation.counts.good, evaluation.counts.total) == (29, 30)
    assert (evaluation.period.start, evaluation.period.end) == (utc(2026, 11, 30, 23),
                                                                utc(2026, 12, 31, 23))
    # December holds 31 × 1440 = 44,640 probes: one bad of them is 1/446.4 of a 1 % budget
    assert evaluation.window_budget_remaining == float(1 - Fraction(1) / (Fraction(1, 100) * 44640))
    assert evaluation.error_budget_remaining == pytest.approx(1 - (1 / 30) / 0.01)
    assert "budget_exhausted" not in {c.name for c in evaluation.conditions}
    assert evaluation.status is Status.BREACHED  # 29 of 30 so far is below 99 %


def test_the_same_objective_in_utc_still_counts_november_at_2330_utc(month_end):
    store, _ = month_end
    evaluation = evaluate(store, product(zone=None), utc(2026, 11, 30, 23, 30)).evaluation
    assert (evaluation.period.start, evaluation.period.timezone) == (utc(2026, 11, 1), "UTC")
    assert (evaluation.counts.good, evaluation.counts.total) == (4279, 4290)


def test_an_objective_without_a_zone_follows_the_time_zone_it_is_evaluated_in(month_end):
    store, _ = month_end
    evaluation = evaluate(store, product(zone=None), utc(2026, 11, 30, 23, 30),
                          timezone=AMSTERDAM).evaluation
    assert (evaluation.period.start, evaluation.period.timezone) == (utc(2026, 11, 30, 23),
                                                                     AMSTERDAM)
    assert (evaluation.counts.good, evaluation.counts.total) == (29, 30)


def test_burn_rates_roll_across_the_reset_as_for_a_30_day_objective(month_end):
    store, shop = month_end
    calendar = evaluate(store, shop, utc(2026, 11, 30, 23, 30)).evaluation
    rolling = evaluate(store, product(period=None, zone=None), utc(2026, 11, 30, 23, 30)).evaluation
    assert calendar.rules == rolling.rules
    assert calendar.burn_rates == rolling.burn_rates
    # the 1 h window reaches back into November: 1 bad (December's first) of 60
    assert calendar.burn_rates[timedelta(hours=1)] == pytest.approx((1 / 60) / 0.01)


def test_evaluate_json_adds_the_calendar_and_its_period(month_end):
    store, shop = month_end
    document = objective_json(evaluate(store, shop, utc(2026, 11, 30, 23, 30)))
    assert {key: document[key] for key in ("window", "calendar", "timezone", "period_start",
                                           "period_end", "good", "total")} == {
        "window": "31d", "calendar": "month", "timezone": AMSTERDAM,
        "period_start": "2026-11-30T23:00:00Z", "period_end": "2026-12-31T23:00:00Z",
        "good": 29, "total": 30}
    rolling = objective_json(evaluate(store, product(period=None, zone=None),
                                      utc(2026, 11, 30, 23, 30)))
    assert {key: rolling[key] for key in ("window", "calendar", "timezone", "period_start",
                                          "period_end")} == {
        "window": "30d", "calendar": None, "timezone": None, "period_start": None,
        "period_end": None}


def test_maintenance_excluded_from_the_slo_is_left_out_of_the_calendar_span(store):
    # the 10 bad probes of 29 November fall inside a 1 h maintenance window excluded from the SLO
    shop = product(maintenance=(MaintenanceWindow(utc(2026, 11, 29, 9, 30), timedelta(hours=1)),),
                   maintenance_counts_in_slo=False)
    record(store, probes(shop, utc(2026, 11, 28), utc(2026, 11, 30, 23), bad=NOVEMBER_BAD))
    evaluation = evaluate(store, shop, utc(2026, 11, 30, 23, 0)).evaluation
    assert (evaluation.counts.good, evaluation.counts.total) == (4200, 4200)
    assert evaluation.period.start == utc(2026, 10, 31, 23)


# --- daylight-saving changes ---------------------------------------------------------------------

def test_october_in_amsterdam_holds_the_probes_of_31_days_and_an_hour(store):
    # a 5-minute port: October 2026 in Amsterdam (31 d 1 h, summer time ends on the 25th) holds
    # 44,700 minutes, 8,940 probes; one bad probe spends 1/89.4 of a 1 % budget
    shop = product(interval=5 * MINUTE)
    first_bad = utc(2026, 10, 26, 11, 0)
    record(store, probes(shop, utc(2026, 9, 30, 21), utc(2026, 10, 26, 12), 5 * MINUTE,
                         bad={first_bad}))
    evaluation = evaluate(store, shop, utc(2026, 10, 26, 12)).evaluation
    assert evaluation.period.length == timedelta(days=31, hours=1)
    assert (evaluation.period.start, evaluation.period.end) == (utc(2026, 9, 30, 22),
                                                                utc(2026, 10, 31, 23))
    # buckets 30 Sep 22:05 … 26 Oct 12:00 UTC: 25 d 14 h = 36,840 minutes
    assert (evaluation.counts.good, evaluation.counts.total) == (7367, 7368)
    assert evaluation.window_budget_remaining == float(1 - Fraction(1) / (Fraction(1, 100) * 8940))


def test_a_week_across_the_spring_change_is_6_days_23_hours_and_full_at_its_end(store):
    # the week of 22–28 March 2027 in Amsterdam: Monday 00:00 CET to Monday 00:00 CEST
    shop = product(period=CalendarPeriod.WEEK, interval=10 * MINUTE)
    record(store, probes(shop, utc(2027, 3, 21, 22), utc(2027, 3, 28, 23), 10 * MINUTE,
                         bad={utc(2027, 3, 28, 1, 0)}))
    end_of_week = evaluate(store, shop, utc(2027, 3, 28, 22)).evaluation
    assert (end_of_week.period.start, end_of_week.period.end) == (utc(2027, 3, 21, 23),
                                                                  utc(2027, 3, 28, 22))
    # 6 d 23 h = 10,020 minutes: 1,002 probes, exactly what the full week is expected to hold
    assert (end_of_week.counts.good, end_of_week.counts.total) == (1001, 1002)
    assert end_of_week.window_budget_remaining == pytest.approx(end_of_week.error_budget_remaining)
    next_week = evaluate(store, shop, utc(2027, 3, 28, 22, 30)).evaluation
    assert next_week.period.start == utc(2027, 3, 28, 22)
    assert (next_week.counts.good, next_week.counts.total) == (3, 3)


# --- a quarter, and a zone 5:45 ahead of UTC -----------------------------------------------------

def test_a_quarter_resets_on_the_first_of_october(store):
    shop = product(period=CalendarPeriod.QUARTER, zone="UTC")
    record(store, probes(shop, utc(2026, 9, 30, 23), utc(2026, 10, 1, 0, 10),
                         bad={utc(2026, 9, 30, 23, 30)}))
    september = evaluate(store, shop, utc(2026, 10, 1)).evaluation
    assert (september.counts.good, september.counts.total) == (59, 60)
    assert september.period.start == utc(2026, 7, 1)
    october = evaluate(store, shop, utc(2026, 10, 1, 0, 10)).evaluation
    assert (october.counts.good, october.counts.total) == (10, 10)
    assert (october.period.start, october.period.end) == (utc(2026, 10, 1), utc(2027, 1, 1))
    assert october.period.length == timedelta(days=92)


def test_a_month_in_kathmandu_starts_at_1815_utc(store):
    shop = product(zone="Asia/Kathmandu")
    record(store, probes(shop, utc(2026, 11, 30, 18), utc(2026, 11, 30, 18, 20)))
    evaluation = evaluate(store, shop, utc(2026, 11, 30, 18, 20)).evaluation
    assert evaluation.period.start == utc(2026, 11, 30, 18, 15)
    assert (evaluation.counts.good, evaluation.counts.total) == (5, 5)


def test_meshwatch_evaluate_reads_a_zoneless_calendar_window_in_the_settings_time_zone(tmp_path):
    """The CLI passes `timezone` from the settings: December in Amsterdam starts at 23:00 UTC."""
    import json

    from typer.testing import CliRunner

    from monitor.cli.app import app

    (tmp_path / "contracts").mkdir()
    (tmp_path / "meshwatch.yaml").write_text(
        f"database_url: sqlite:///{tmp_path / 'store.db'}\ntimezone: Europe/Amsterdam\n")
    (tmp_path / "contracts" / "shop.yaml").write_text("""
apiVersion: meshwatch/v1
kind: DataProduct
metadata: {domain: shop, name: orders}
owner: {team: shop}
ports:
  - {name: api, type: http, url: "http://127.0.0.1:9/orders"}
objectives:
  - {name: availability, indicator: availability, target: 99%, window: month}
""")
    result = CliRunner().invoke(app, ["evaluate", "-c", str(tmp_path), "--json",
                                      "--at", "2026-12-02T10:00:00Z"])
    assert result.exit_code == 0, result.output
    objective = json.loads(result.stdout)["objectives"][0]
    assert (objective["calendar"], objective["timezone"]) == ("month", "Europe/Amsterdam")
    assert objective["period_start"] == "2026-11-30T23:00:00Z"
