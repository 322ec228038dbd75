"""Calendar windows (issue 11): `1M` is a month and never a minute, the period a window ending at
T counts, and objectives with `window: month` in native, ODCS and DCS contracts."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from rich.console import Console

from monitor.alerting.messages import AlertItem, describe_promise, measured, promised
from monitor.cli.console import print_evaluations
from monitor.config.loading import KINDS
from monitor.contracts import load_contracts
from monitor.contracts.model import DataProduct, Indicator, Objective, Owner, describe_window
from monitor.evaluation.mesh import ObjectiveEvaluation
from monitor.slo import Counts, Observations, evaluate_objective, period_of, scaled_rules
from monitor.values.calendar import CalendarPeriod
from monitor.values.durations import Window, parse_duration, parse_window

AMSTERDAM = "Europe/Amsterdam"
MONTH, WEEK, QUARTER = CalendarPeriod.MONTH, CalendarPeriod.WEEK, CalendarPeriod.QUARTER
TARGET_99 = Decimal("0.99")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --- durations: a month is never a minute ------------------------------------------------------

@pytest.mark.parametrize(("value", "unit", "expected"), [
    ("1m", None, timedelta(minutes=1)),
    ("PT1M", None, timedelta(minutes=1)),
    (1, "m", timedelta(minutes=1)),
    ("1h30m", None, timedelta(minutes=90)),
    ("1MS", None, timedelta(milliseconds=1)),
    ("P1W", None, timedelta(weeks=1)),
])
def test_a_lowercase_m_is_still_a_minute(value, unit, expected):
    assert parse_duration(value, unit) == expected


@pytest.mark.parametrize(("value", "unit", "shown"), [
    ("1M", None, "'1M'"), ("P1M", None, "'P1M'"), ("3M", None, "'3M'"), ("P1M2D", None, "'P1M2D'"),
    (1, "M", "'1 M'"), ("2", "months", "'2 months'"), ("1 month", None, "'1 month'"),
])
def test_a_month_as_a_plain_duration_is_refused_saying_what_to_write(value, unit, shown):
    with pytest.raises(ValueError) as caught:
        parse_duration(value, unit)
    assert str(caught.value) == (f"{shown} is a month, and a month is not a fixed duration: write "
                                 f"days (e.g. 30d), or 1m for a minute; a calendar month is a "
                                 f"window (window: month)")


@pytest.mark.parametrize(("text", "window"), [
    ("month", Window(timedelta(days=30), MONTH)),
    ("Month", Window(timedelta(days=30), MONTH)),
    ("1M", Window(timedelta(days=30), MONTH)),
    ("P1M", Window(timedelta(days=30), MONTH)),
    ("1 month", Window(timedelta(days=30), MONTH)),
    ("quarter", Window(timedelta(days=90), QUARTER)),
    ("3M", Window(timedelta(days=90), QUARTER)),
    ("P3M", Window(timedelta(days=90), QUARTER)),
    ("week", Window(timedelta(days=7), WEEK)),
    ("P1W", Window(timedelta(days=7))),  # rolling: only the words and month units are calendar
    ("1w", Window(timedelta(days=7))),
    ("7d", Window(timedelta(days=7))),
    ("30d", Window(timedelta(days=30))),
    ("1m", Window(timedelta(minutes=1))),
])
def test_windows_read_calendar_words_and_month_units_as_calendar_periods(text, window):
    assert parse_window(text) == window


@pytest.mark.parametrize(("text", "message"), [
    ("2M", "'2M': a window of months is a calendar month (1M, P1M, month) or a quarter (3M, P3M, "
           "quarter)"),
    ("P1M2D", "'P1M2D' mixes months with other units"),
    ("soon", "'soon' is not a duration"),
])
def test_windows_that_are_no_period_nor_duration_are_refused(text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_window(text)


# --- which period a window ending at T counts ---------------------------------------------------

def test_a_window_ending_at_local_midnight_on_the_first_is_the_whole_month_before():
    # 23:00 UTC on 30 November is 00:00 on 1 December in Amsterdam (CET, UTC+1)
    period = period_of(MONTH, utc(2026, 11, 30, 23, 0), AMSTERDAM)
    assert (period.start, period.end) == (utc(2026, 10, 31, 23), utc(2026, 11, 30, 23))
    assert period.length == timedelta(days=30)


def test_a_minute_after_local_midnight_the_new_month_has_begun():
    period = period_of(MONTH, utc(2026, 11, 30, 23, 1), AMSTERDAM)
    assert (period.start, period.end) == (utc(2026, 11, 30, 23), utc(2026, 12, 31, 23))
    assert period.length == timedelta(days=31)


def test_a_month_in_utc_resets_at_utc_midnight():
    period = period_of(MONTH, utc(2026, 11, 30, 23, 30), "UTC")
    assert (period.start, period.end) == (utc(2026, 11, 1), utc(2026, 12, 1))


def test_october_in_amsterdam_lasts_31_days_and_an_hour():
    # summer time ends on the last Sunday of October (25 October 2026): 03:00 CEST → 02:00 CET
    period = period_of(MONTH, utc(2026, 10, 26, 12), AMSTERDAM)
    assert (period.start, period.end) == (utc(2026, 9, 30, 22), utc(2026, 10, 31, 23))
    assert period.length == timedelta(days=31, hours=1)


def test_march_in_amsterdam_lasts_31_days_less_an_hour():
    period = period_of(MONTH, utc(2027, 3, 29), AMSTERDAM)
    assert (period.start, period.end) == (utc(2027, 2, 28, 23), utc(2027, 3, 31, 22))
    assert period.length == timedelta(days=30, hours=23)


def test_a_week_runs_from_monday_midnight_local_and_loses_an_hour_in_spring():
    # Sunday 28 March 2027 02:00 CET → 03:00 CEST: the week of 22–28 March lasts 6 d 23 h
    period = period_of(WEEK, utc(2027, 3, 28, 12), AMSTERDAM)
    assert (period.start, period.end) == (utc(2027, 3, 21, 23), utc(2027, 3, 28, 22))
    assert period.length == timedelta(days=6, hours=23)


def test_a_quarter_starts_on_the_first_of_january_april_july_or_october():
    assert period_of(QUARTER, utc(2026, 11, 15), AMSTERDAM).start == utc(2026, 9, 30, 22)
    q1 = period_of(QUARTER, utc(2027, 2, 1), "UTC")
    assert (q1.start, q1.end) == (utc(2027, 1, 1), utc(2027, 4, 1))
    assert q1.length == timedelta(days=90)


@pytest.mark.parametrize(("zone", "start"), [
    ("Asia/Kolkata", utc(2026, 11, 30, 18, 30)),  # UTC+5:30
    ("Asia/Kathmandu", utc(2026, 11, 30, 18, 15)),  # UTC+5:45
    ("America/St_Johns", utc(2026, 12, 1, 3, 30)),  # UTC-3:30
])
def test_zones_with_half_and_quarter_hour_offsets_start_their_month_at_their_midnight(zone, start):
    assert period_of(MONTH, utc(2026, 12, 15), zone).start == start


# --- the SLO math with a period ------------------------------------------------------------------

def test_the_first_bad_probe_of_a_month_spends_a_sliver_of_the_whole_months_budget():
    # 99 % over December in Amsterdam, one probe a minute: the month holds 31 × 1440 = 44,640
    period = period_of(MONTH, utc(2026, 12, 1, 0, 0), AMSTERDAM)
    month = MONTH.nominal
    evaluation = evaluate_objective(
        target=Decimal("0.99"), window=month, at=utc(2026, 12, 1), in_force=True,
        observations=Observations(counts={month: Counts(59, 60)}, expected_interval=timedelta(
            minutes=1), last_event_at=utc(2026, 12, 1), one_event_per_probe=True),
        period=period)
    assert evaluation.period == period
    assert evaluation.budget_window == timedelta(days=31)
    assert evaluation.window_budget_remaining == float(1 - Fraction(1) / (Fraction(1, 100) * 44640))
    assert evaluation.error_budget_remaining == pytest.approx(1 - (1 / 60) / 0.01)
    assert "budget_exhausted" not in {c.name for c in evaluation.conditions}


def test_a_calendar_months_alert_windows_are_those_of_a_30_day_objective():
    assert MONTH.nominal == timedelta(days=30)
    assert scaled_rules(MONTH.nominal) == scaled_rules(timedelta(days=30))


def test_a_window_is_described_as_its_calendar_period_in_its_zone():
    month = Objective("a", Indicator.AVAILABILITY, Decimal("0.99"), calendar=MONTH)
    assert describe_window(month) == "calendar month"
    assert describe_window(month, AMSTERDAM) == "month (Europe/Amsterdam)"
    own = Objective("a", Indicator.AVAILABILITY, Decimal("0.99"), calendar=MONTH, timezone="UTC")
    assert describe_window(own, AMSTERDAM) == "month (UTC)"
    assert describe_window(Objective("a", Indicator.AVAILABILITY, Decimal("0.99"))) == "30d"


# --- native contracts ----------------------------------------------------------------------------

NATIVE = """\
apiVersion: meshwatch/v1
kind: DataProduct
metadata: {domain: shop, name: basket}
owner: {team: shop}
ports:
  - {name: api, type: http, url: "http://127.0.0.1:9/basket", interval: 1m}
objectives:
  - name: api-availability
    port: api
    indicator: availability
    target: 99.9%
"""


def native(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "basket.yaml"
    path.write_text(NATIVE + "".join(f"    {line}\n" for line in lines), encoding="utf-8")
    return path


def loaded_objective(path: Path) -> Objective:
    registry = load_contracts([path], KINDS)
    assert registry.problems == []
    (product,) = registry.products.values()
    (objective,) = product.objectives
    return objective


def problems(path: Path) -> list[str]:
    return [str(problem) for problem in load_contracts([path], KINDS).problems]


@pytest.mark.parametrize(("window", "calendar", "length"), [
    ("month", MONTH, timedelta(days=30)), ("1M", MONTH, timedelta(days=30)),
    ("P1M", MONTH, timedelta(days=30)), ("quarter", QUARTER, timedelta(days=90)),
    ("3M", QUARTER, timedelta(days=90)), ("week", WEEK, timedelta(days=7)),
    ("P1W", None, timedelta(days=7)), ("30d", None, timedelta(days=30)),
])
def test_a_native_objective_window_is_a_calendar_period_or_rolling(tmp_path, window, calendar,
                                                                   length):
    objective = loaded_objective(native(tmp_path, f"window: {window}"))
    assert (objective.calendar, objective.window, objective.timezone) == (calendar, length, None)


def test_a_native_calendar_objective_keeps_its_time_zone(tmp_path):
    objective = loaded_objective(native(tmp_path, "window: month", "timezone: Europe/Amsterdam"))
    assert (objective.calendar, objective.timezone) == (MONTH, AMSTERDAM)


def test_a_native_window_of_1m_is_a_minute_and_too_short(tmp_path):
    path = native(tmp_path, "window: 1m")
    assert problems(path) == [f"{path}:12: objectives[0].window: window must be whole minutes and "
                              "at least 1h (or month, week, quarter)"]


def test_a_threshold_written_1M_is_refused_at_its_line(tmp_path):
    path = tmp_path / "basket.yaml"
    path.write_text(NATIVE.replace("indicator: availability", "indicator: latency")
                    + "    threshold: 1M\n", encoding="utf-8")
    assert problems(path) == [
        f"{path}:12: objectives[0].threshold: '1M' is a month, and a month is not a fixed duration: "
        "write days (e.g. 30d), or 1m for a minute; a calendar month is a window (window: month)"]


def test_an_unknown_objective_time_zone_is_refused_at_its_line(tmp_path):
    path = native(tmp_path, "window: month", "timezone: Europe/Atlantis")
    assert problems(path) == [f"{path}:13: objectives[0].timezone: unknown time zone "
                              "'Europe/Atlantis' (e.g. UTC, Europe/Amsterdam)"]


def test_a_time_zone_on_a_rolling_window_is_refused_at_its_line(tmp_path):
    path = native(tmp_path, "window: 7d", "timezone: Europe/Amsterdam")
    assert problems(path) == [f"{path}:13: objectives[0].timezone: timezone is for calendar windows "
                              "(month, week, quarter); a 7d window rolls in elapsed time"]


def test_a_port_interval_of_1M_is_refused_not_read_as_a_minute(tmp_path):
    path = tmp_path / "basket.yaml"
    path.write_text(NATIVE.replace("interval: 1m", "interval: 1M"), encoding="utf-8")
    (problem,) = problems(path)
    assert problem.startswith(f"{path}:6: ports[0].interval: '1M' is a month")


# --- standard contracts -------------------------------------------------------------------------

def odcs(tmp_path: Path, sla: str) -> Path:
    path = tmp_path / "shop.odcs.yaml"
    path.write_text(textwrap.dedent("""\
        apiVersion: v3.1.0
        kind: DataContract
        id: shop-orders
        version: 1.0.0
        status: active
        domain: shop
        dataProduct: orders
        slaProperties:
        """) + textwrap.indent(textwrap.dedent(sla), "  "), encoding="utf-8")
    return path


@pytest.mark.parametrize("window", ["1M", "P1M", "month"])
def test_an_odcs_availability_with_a_window_of_1M_or_P1M_is_a_calendar_month(tmp_path, window):
    path = odcs(tmp_path, f"""\
        - property: availability
          value: 99.9
          unit: "%"
          customProperties:
            - {{property: window, value: {window}}}
            - {{property: timezone, value: Europe/Amsterdam}}
        """)
    objective = loaded_objective(path)
    assert (objective.calendar, objective.window, objective.timezone) == (
        MONTH, timedelta(days=30), AMSTERDAM)


def test_an_odcs_objective_without_a_window_keeps_the_rolling_30_days(tmp_path):
    objective = loaded_objective(odcs(tmp_path, "- {property: availability, value: 99.9}\n"))
    assert (objective.calendar, objective.window) == (None, timedelta(days=30))


def test_an_odcs_window_of_1m_is_a_minute_and_refused_at_its_line(tmp_path):
    path = odcs(tmp_path, """\
        - property: availability
          value: 99.9
          customProperties:
            - {property: window, value: 1m}
        """)
    assert problems(path) == [f"{path}:12: slaProperties[0].customProperties[0].value: window must "
                              "be whole minutes and at least 1h (or month, week, quarter)"]


def test_an_odcs_latency_of_1_M_is_refused_at_its_line(tmp_path):
    path = odcs(tmp_path, "- {property: latency, value: 1, unit: M, element: orders.updated_at}\n")
    assert problems(path) == [
        f"{path}:9: slaProperties[0].value: '1 M' is a month, and a month is not a fixed duration: "
        "write days (e.g. 30d), or 1m for a minute; a calendar month is a window (window: month)"]


def test_an_odcs_latency_of_1_m_is_a_minute(tmp_path):
    path = odcs(tmp_path, "- {property: latency, value: 1, unit: m, element: orders.updated_at}\n")
    assert loaded_objective(path).threshold == timedelta(minutes=1)


def test_an_odcs_time_zone_that_is_unknown_is_refused_at_its_line(tmp_path):
    path = odcs(tmp_path, """\
        - property: availability
          value: 99.9
          customProperties:
            - {property: window, value: P1M}
            - {property: timezone, value: Mars/Olympus}
        """)
    assert problems(path) == [f"{path}:13: slaProperties[0].customProperties[1].value: unknown time "
                              "zone 'Mars/Olympus' (e.g. UTC, Europe/Amsterdam)"]


def dcs(tmp_path: Path, levels: str) -> Path:
    path = tmp_path / "dcs.yaml"
    path.write_text(textwrap.dedent("""\
        dataContractSpecification: 1.2.0
        id: shop-orders
        info: {title: Shop orders, version: 1.0.0, owner: shop}
        servicelevels:
        """) + textwrap.indent(textwrap.dedent(levels), "  "), encoding="utf-8")
    return path


@pytest.mark.parametrize(("window", "calendar", "length"), [
    ("1M", MONTH, timedelta(days=30)), ("P1M", MONTH, timedelta(days=30)),
    ("P3M", QUARTER, timedelta(days=90)), ("7d", None, timedelta(days=7))])
def test_a_dcs_availability_window_of_1M_or_P1M_is_a_calendar_month(tmp_path, window, calendar,
                                                                     length):
    objective = loaded_objective(dcs(tmp_path, f"availability: {{percentage: 99.5%, window: {window}}}\n"))
    assert (objective.calendar, objective.window) == (calendar, length)


def test_a_dcs_freshness_threshold_of_1M_is_refused_and_1m_is_a_minute(tmp_path):
    path = dcs(tmp_path, "freshness: {threshold: 1M, timestampField: orders.updated_at}\n")
    assert problems(path) == [
        f"{path}:5: servicelevels.freshness.threshold: '1M' is a month, and a month is not a fixed "
        "duration: write days (e.g. 30d), or 1m for a minute; a calendar month is a window "
        "(window: month)"]
    minute = dcs(tmp_path, "freshness: {threshold: 1m, timestampField: orders.updated_at}\n")
    assert loaded_objective(minute).threshold == timedelta(minutes=1)


def test_a_dcs_freshness_window_and_zone_are_read_beside_it(tmp_path):
    path = dcs(tmp_path, """\
        freshness:
          threshold: 25h
          timestampField: orders.updated_at
          window: month
          timezone: Europe/Amsterdam
        """)
    objective = loaded_objective(path)
    assert (objective.calendar, objective.timezone, objective.threshold) == (
        MONTH, AMSTERDAM, timedelta(hours=25))


def test_a_dcs_window_that_cannot_be_read_is_refused_at_its_line(tmp_path):
    path = dcs(tmp_path, "availability: {percentage: 99.5%, window: 2M}\n")
    assert problems(path) == [f"{path}:5: servicelevels.availability.window: '2M': a window of "
                              "months is a calendar month (1M, P1M, month) or a quarter (3M, P3M, "
                              "quarter)"]


# --- what people read ----------------------------------------------------------------------------

def december_fast_burn():
    """99 % over December in Amsterdam, one probe a minute, fast_burn holding at 1 Dec 01:00
    local (00:00 UTC)."""
    objective = Objective("api-availability", Indicator.AVAILABILITY, TARGET_99, calendar=MONTH,
                          timezone=AMSTERDAM, port="api")
    at = utc(2026, 12, 1)
    month = MONTH.nominal
    counts = {month: Counts(30, 60), timedelta(hours=1): Counts(30, 60),
              timedelta(minutes=5): Counts(0, 5)}
    evaluation = evaluate_objective(
        target=TARGET_99, window=month, at=at, in_force=True, period=period_of(MONTH, at, AMSTERDAM),
        observations=Observations(counts=counts, expected_interval=timedelta(minutes=1),
                                  last_event_at=at, one_event_per_probe=True))
    product = DataProduct("shop", "api", Owner("shop"), objectives=(objective,))
    return ObjectiveEvaluation(product, objective, evaluation)


def test_an_alert_on_a_calendar_month_says_so_and_times_the_budget_by_the_month():
    report = december_fast_burn()
    (condition,) = [c for c in report.evaluation.conditions if c.name == "fast_burn"]
    promise = promised(report.objective, condition, report.evaluation.period)
    assert (promise["calendar"], promise["timezone"], promise["window"]) == ("month", AMSTERDAM,
                                                                             "30d")
    item = AlertItem("api-availability", "availability", "fast_burn", "page",
                     "2026-12-01T00:00:00Z", measured={}, promised=promise)
    assert describe_promise(item) == (
        "availability for 99% over the calendar month (Europe/Amsterdam); pages at 2% of the "
        "month's budget in 1h (burn rate 14.4 over 1h and 5m)")
    # 00:00 UTC is 01:00 in Amsterdam: December, 30 bad of 60 against its 31 × 1440 probes
    values = measured(report.evaluation, condition, report.objective.window)
    left = 1 - 30 / (0.01 * 44640)
    assert values["window_budget_remaining"] == pytest.approx(left)
    assert values["burn_rate"] == pytest.approx(50.0)  # over the hour: the month's budget, at 50
    assert values["budget_lasts_seconds"] == pytest.approx(31 * 86400 * left / 50)  # × its days


def test_the_console_shows_a_calendar_window_as_its_month_and_zone():
    console = Console(record=True, width=300)
    print_evaluations(console, [december_fast_burn()], utc(2026, 12, 1))
    assert "month (Europe/Amsterdam)" in console.export_text()
