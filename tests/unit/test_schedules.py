"""Delivery schedules (issue 12, item 5): a cron's fire times are deadlines; freshness is judged
at the latest deadline, so "lands by 06:00 on weekdays" is late at 06:01 on a Tuesday and fine
on Sunday. The deadline arithmetic across weekends and daylight-saving changes, crontab's
meaning of its fields, freshness events and `freshness_breach`, and the contracts that declare a
schedule (native, ODCS, DCS) with their problems at file:line.

1 December 2026 is a Tuesday; 6 December a Sunday.
"""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from monitor.config.loading import KINDS
from monitor.contracts import load_contracts
from monitor.contracts.model import DataProduct, Indicator, Objective, Owner, Port, product_json
from monitor.contracts.results import ProbeResult
from monitor.contracts.schedule import Schedule, cron_trigger, parse_schedule
from monitor.evaluation.indicators import events_from_result
from monitor.slo import (
    Counts,
    Observations,
    Status,
    age_at_deadline,
    evaluate_objective,
    latest_deadline,
    on_time,
)

WEEKDAYS_AT_6 = Schedule("0 6 * * 1-5")
AMSTERDAM = "Europe/Amsterdam"
HOUR = timedelta(hours=1)
TARGET = Decimal("0.99")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


TUESDAY_0601 = utc(2026, 12, 1, 6, 1)
SUNDAY_2300 = utc(2026, 12, 6, 23, 0)


# --- the latest deadline ≤ T ---------------------------------------------------------------------

@pytest.mark.parametrize(("at", "deadline"), [
    (utc(2026, 12, 1, 6, 1), utc(2026, 12, 1, 6)),  # Tuesday 06:01: Tuesday's
    (utc(2026, 12, 1, 6, 0), utc(2026, 12, 1, 6)),  # a deadline counts from its own instant
    (utc(2026, 12, 1, 5, 59), utc(2026, 11, 30, 6)),  # before it: Monday's
    (utc(2026, 12, 5, 12), utc(2026, 12, 4, 6)),  # Saturday: Friday's
    (utc(2026, 12, 6, 23), utc(2026, 12, 4, 6)),  # Sunday night: still Friday's
    (utc(2026, 12, 7, 6), utc(2026, 12, 7, 6)),  # Monday 06:00: the first after the weekend
])
def test_the_deadline_that_counts_is_the_latest_fire_time_at_or_before_t(at, deadline):
    assert latest_deadline(WEEKDAYS_AT_6, at, "UTC") == deadline


def test_deadlines_follow_the_wall_clock_of_the_schedules_time_zone():
    # 06:00 in Amsterdam is 05:00 UTC in winter: at 05:30 UTC Tuesday's deadline has passed
    assert latest_deadline(WEEKDAYS_AT_6, utc(2026, 12, 1, 5, 30), AMSTERDAM) == utc(2026, 12, 1, 5)
    assert latest_deadline(WEEKDAYS_AT_6, utc(2026, 12, 1, 5, 30), "UTC") == utc(2026, 11, 30, 6)


def test_a_daily_deadline_moves_an_hour_in_utc_across_the_spring_change():
    daily = Schedule("0 6 * * *")
    assert latest_deadline(daily, utc(2027, 3, 27, 12), AMSTERDAM) == utc(2027, 3, 27, 5)  # CET
    assert latest_deadline(daily, utc(2027, 3, 28, 12), AMSTERDAM) == utc(2027, 3, 28, 4)  # CEST


def test_a_skipped_wall_time_falls_at_the_same_wall_time_in_the_offset_before_the_change():
    # 02:30 on 28 March 2027 does not exist in Amsterdam: the deadline is 01:30 UTC (03:30 CEST)
    nightly = Schedule("30 2 * * *")
    assert latest_deadline(nightly, utc(2027, 3, 28, 1, 29), AMSTERDAM) == utc(2027, 3, 27, 1, 30)
    assert latest_deadline(nightly, utc(2027, 3, 28, 1, 30), AMSTERDAM) == utc(2027, 3, 28, 1, 30)


def test_a_wall_time_that_happens_twice_is_one_deadline_the_first():
    # 02:30 on 25 October 2026 is 00:30 UTC (CEST) and again 01:30 UTC (CET)
    nightly = Schedule("30 2 * * *")
    assert latest_deadline(nightly, utc(2026, 10, 25, 0, 45), AMSTERDAM) == utc(2026, 10, 25, 0, 30)
    assert latest_deadline(nightly, utc(2026, 10, 25, 1, 45), AMSTERDAM) == utc(2026, 10, 25, 0, 30)
    # the next night is winter time: 02:30 CET is 01:30 UTC
    assert latest_deadline(nightly, utc(2026, 10, 26, 1, 45), AMSTERDAM) == utc(2026, 10, 26, 1, 30)


def test_a_rare_schedule_is_found_years_back_and_none_before_any_deadline_is_nothing_due():
    leap_day = Schedule("0 6 29 2 *")
    assert latest_deadline(leap_day, utc(2027, 3, 1), "UTC") == utc(2024, 2, 29, 6)
    assert age_at_deadline(utc(2000, 1, 1), None) == timedelta(0)


# --- crontab's meaning, not APScheduler's numbers ------------------------------------------------

def fires_on(cron: str, first: datetime, days: int) -> list[str]:
    """The weekdays (Mon…Sun) of the fire times in `days` days from `first`."""
    trigger, found, at = cron_trigger(cron, "UTC"), [], first
    while (fire := trigger.get_next_fire_time(None, at)) is not None and fire < first + timedelta(days=days):
        found.append(fire.strftime("%a %d"))
        at = fire + timedelta(minutes=1)
    return found


def test_day_of_week_1_to_5_is_monday_to_friday_as_in_crontab():
    # APScheduler's own day numbers start at Monday (1-5 would be Tuesday to Saturday)
    assert fires_on("0 6 * * 1-5", utc(2026, 11, 30), 7) == [
        "Mon 30", "Tue 01", "Wed 02", "Thu 03", "Fri 04"]
    assert fires_on("0 6 * * mon-fri", utc(2026, 11, 30), 7) == fires_on("0 6 * * 1-5",
                                                                         utc(2026, 11, 30), 7)


@pytest.mark.parametrize(("field", "days"), [
    ("0", ["Sun 06"]), ("7", ["Sun 06"]), ("6-7", ["Sat 05", "Sun 06"]),
    ("*/2", ["Tue 01", "Thu 03", "Sat 05", "Sun 06"]),  # 0, 2, 4, 6: Sunday, Tuesday, …
    ("1,3,5", ["Mon 30", "Wed 02", "Fri 04"]), ("sun", ["Sun 06"]),
])
def test_crontab_day_of_week_numbers_names_ranges_and_steps(field, days):
    assert fires_on(f"0 6 * * {field}", utc(2026, 11, 30), 7) == days


def test_a_day_of_month_and_a_day_of_week_fire_on_either_as_in_crontab():
    # the 1st (a Tuesday) or any Friday
    assert fires_on("0 6 1 * 5", utc(2026, 11, 30), 12) == ["Tue 01", "Fri 04", "Fri 11"]


def test_macros_are_read():
    assert fires_on("@daily", utc(2026, 11, 30), 2) == ["Mon 30", "Tue 01"]
    assert fires_on("@weekly", utc(2026, 11, 30), 7) == ["Sun 06"]


@pytest.mark.parametrize(("text", "message"), [
    ("0 6 * *", "schedule '0 6 * *' has 4 field(s); a cron expression has five: minute hour "
                "day-of-month month day-of-week (e.g. '0 6 * * 1-5')"),
    ("0 6 31 2 *", "schedule '0 6 31 2 *' never fires"),
    ("0 6 * * 8", "schedule '0 6 * * 8': day of week '8': 8 is not a day (0–7 or sun–sat)"),
    ("0 6 * * fri-mon", "schedule '0 6 * * fri-mon': day of week 'fri-mon': a range runs from the "
                        "lower day up (0 or sun … 6 or sat, 7 is sunday again)"),
    ("61 6 * * *", "schedule '61 6 * * *': Error validating expression '61': the last value (61) "
                   "is higher than the maximum value (59)"),
    ("", "a schedule is a cron expression of five fields, e.g. '0 6 * * 1-5' (06:00 on weekdays)"),
    (6, "a schedule is a cron expression of five fields, e.g. '0 6 * * 1-5' (06:00 on weekdays)"),
])
def test_a_schedule_that_cannot_be_read_says_why(text, message):
    with pytest.raises(ValueError) as caught:
        parse_schedule(text)
    assert str(caught.value) == message


def test_a_schedule_is_kept_as_written_with_its_spaces_folded():
    assert parse_schedule(" 0  6 * * 1-5 ") == WEEKDAYS_AT_6


# --- on time or late -----------------------------------------------------------------------------

def test_lands_by_0600_on_weekdays_is_late_at_0601_on_tuesday_and_fine_on_sunday():
    monday_delivery, friday_delivery = utc(2026, 11, 30, 5, 50), utc(2026, 12, 4, 5, 50)
    assert not on_time(monday_delivery, TUESDAY_0601, HOUR, WEEKDAYS_AT_6, "UTC")
    assert on_time(utc(2026, 12, 1, 5, 50), TUESDAY_0601, HOUR, WEEKDAYS_AT_6, "UTC")
    # Sunday 23:00: the data is 2 days 17 hours old, and nothing is due before Monday 06:00
    assert on_time(friday_delivery, SUNDAY_2300, HOUR, WEEKDAYS_AT_6, "UTC")


def test_a_daily_delivery_is_not_stale_at_2300():
    assert on_time(utc(2026, 12, 1, 5, 30), utc(2026, 12, 1, 23), HOUR, Schedule("0 6 * * *"), "UTC")


def test_a_late_delivery_is_on_time_once_it_lands_and_never_passes_for_the_next_one():
    late = utc(2026, 12, 1, 6, 30)  # Tuesday's, half an hour late
    assert on_time(late, utc(2026, 12, 1, 6, 31), HOUR, WEEKDAYS_AT_6, "UTC")
    assert on_time(late, utc(2026, 12, 2, 5, 59), HOUR, WEEKDAYS_AT_6, "UTC")
    # Wednesday 06:00: 23 h 30 old at the deadline
    assert age_at_deadline(late, utc(2026, 12, 2, 6)) == timedelta(hours=23, minutes=30)
    assert not on_time(late, utc(2026, 12, 2, 6, 1), HOUR, WEEKDAYS_AT_6, "UTC")


def test_the_threshold_is_the_tolerance_at_the_deadline():
    # data stamped 05:00 is one hour old at 06:00: on time with 1h, late with 59m
    assert on_time(utc(2026, 12, 1, 5), TUESDAY_0601, HOUR, WEEKDAYS_AT_6, "UTC")
    assert not on_time(utc(2026, 12, 1, 5), TUESDAY_0601, timedelta(minutes=59), WEEKDAYS_AT_6,
                       "UTC")


# --- freshness_breach and the evaluation -------------------------------------------------------

def evaluate_at(seen_at: datetime, newest: datetime, schedule: Schedule | None = WEEKDAYS_AT_6,
                timezone: str = "UTC"):
    window = timedelta(days=30)
    counts = {window: Counts(100, 100)}
    return evaluate_objective(
        target=TARGET, window=window, at=seen_at.replace(second=0) + timedelta(minutes=1),
        in_force=True, threshold=HOUR, schedule=schedule, timezone=timezone,
        observations=Observations(counts=counts, data_age=seen_at - newest, data_seen_at=seen_at))


def test_freshness_breach_pages_at_0601_on_tuesday_without_tuesdays_delivery():
    evaluation = evaluate_at(TUESDAY_0601, utc(2026, 11, 30, 5, 50))
    assert [(c.name, c.severity) for c in evaluation.conditions] == [("freshness_breach", "page")]
    assert evaluation.status is Status.AT_RISK
    assert evaluation.deadline == utc(2026, 12, 1, 6)
    assert evaluation.data_age == timedelta(days=1, minutes=11)  # the real age, for messages


def test_no_freshness_breach_on_sunday_though_the_data_is_days_old():
    evaluation = evaluate_at(SUNDAY_2300, utc(2026, 12, 4, 5, 50))
    assert evaluation.conditions == ()
    assert evaluation.status is Status.OK
    assert evaluation.deadline == utc(2026, 12, 4, 6)
    # the same objective without a schedule judges the age now, and pages
    unscheduled = evaluate_at(SUNDAY_2300, utc(2026, 12, 4, 5, 50), schedule=None)
    assert [c.name for c in unscheduled.conditions] == ["freshness_breach"]
    assert unscheduled.deadline is None


def test_the_deadline_is_taken_on_the_evaluations_own_moment_not_its_minutes_end():
    # at 05:59:30 the windows end at 06:00, but 06:00's delivery is not due yet
    evaluation = evaluate_at(utc(2026, 12, 1, 5, 59, 30), utc(2026, 11, 30, 5, 50))
    assert evaluation.deadline == utc(2026, 11, 30, 6)
    assert evaluation.conditions == ()


def test_the_schedule_follows_the_time_zone_it_is_given():
    # Tuesday 05:30 UTC is 06:30 in Amsterdam: Tuesday's delivery is due there
    newest = utc(2026, 11, 30, 5, 50)
    assert evaluate_at(utc(2026, 12, 1, 5, 30), newest, timezone="UTC").conditions == ()
    assert [c.name for c in evaluate_at(utc(2026, 12, 1, 5, 30), newest,
                                        timezone=AMSTERDAM).conditions] == ["freshness_breach"]


# --- freshness events ----------------------------------------------------------------------------

def lake(schedule: Schedule | None = WEEKDAYS_AT_6, timezone: str | None = None) -> DataProduct:
    return DataProduct("sales", "lake", Owner("sales"), ports=(Port("lake", "azure_blob"),),
                       objectives=(Objective("lake-freshness", Indicator.FRESHNESS, TARGET,
                                             threshold=HOUR, port="lake", schedule=schedule,
                                             timezone=timezone),))


def event_good(product: DataProduct, started_at: datetime, newest: datetime | None,
               timezone: str = "UTC", ok: bool = True) -> list[tuple[int, int]]:
    result = ProbeResult("sales/lake", "lake", "azure_blob", started_at, ok, newest_data_at=newest)
    return [(e.good, e.total) for e in events_from_result(product, result, timezone)]


def test_a_probe_event_is_good_when_the_delivery_due_at_its_time_has_landed():
    assert event_good(lake(), TUESDAY_0601, utc(2026, 12, 1, 5, 50)) == [(1, 1)]
    assert event_good(lake(), TUESDAY_0601, utc(2026, 11, 30, 5, 50)) == [(0, 1)]
    assert event_good(lake(), SUNDAY_2300, utc(2026, 12, 4, 5, 50)) == [(1, 1)]
    assert event_good(lake(schedule=None), SUNDAY_2300, utc(2026, 12, 4, 5, 50)) == [(0, 1)]


def test_a_probe_event_follows_the_objectives_zone_else_the_one_it_is_given():
    started, newest = utc(2026, 12, 1, 5, 30), utc(2026, 11, 30, 5, 50)
    assert event_good(lake(), started, newest) == [(1, 1)]
    assert event_good(lake(), started, newest, timezone=AMSTERDAM) == [(0, 1)]
    assert event_good(lake(timezone=AMSTERDAM), started, newest, timezone="UTC") == [(0, 1)]


def test_a_scheduled_port_that_holds_no_data_is_stale_and_one_that_knows_nothing_says_nothing():
    assert event_good(lake(), TUESDAY_0601, None) == [(0, 1)]
    assert event_good(lake(), TUESDAY_0601, None, ok=False) == []


# --- contracts -----------------------------------------------------------------------------------

NATIVE = textwrap.dedent("""\
    apiVersion: meshwatch/v1
    kind: DataProduct
    metadata: {domain: sales, name: lake}
    owner: {team: sales}
    ports:
      - name: lake
        type: sql
        url: sqlite:///lake.db
        freshness_query: SELECT max(loaded_at) FROM deliveries
    objectives:
      - name: lake-freshness
        indicator: freshness
        threshold: 1h
        target: 99%
    """)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def loaded(folder: Path):
    return load_contracts([folder], KINDS)


def problems(folder: Path) -> list[str]:
    return [str(p).removeprefix(f"{folder}/") for p in loaded(folder).problems]


def test_a_native_freshness_objective_takes_a_schedule_and_its_time_zone(tmp_path):
    write(tmp_path, "lake.yaml", NATIVE + "    schedule: 0 6 * * 1-5\n    timezone: Europe/Amsterdam\n")
    registry = loaded(tmp_path)
    assert registry.problems == []
    (objective,) = registry.products["sales/lake"].objectives
    assert (objective.schedule, objective.timezone, objective.calendar) == (
        WEEKDAYS_AT_6, AMSTERDAM, None)
    (shown,) = product_json(registry.products["sales/lake"])["objectives"]
    assert (shown["schedule"], shown["timezone"]) == ("0 6 * * 1-5", AMSTERDAM)


def test_a_schedule_that_cannot_be_read_is_refused_at_its_line(tmp_path):
    write(tmp_path, "lake.yaml", NATIVE + "    schedule: 0 6 * *\n")
    assert problems(tmp_path) == [
        "lake.yaml:15: objectives[0].schedule: schedule '0 6 * *' has 4 field(s); a cron "
        "expression has five: minute hour day-of-month month day-of-week (e.g. '0 6 * * 1-5')"]


def test_a_schedule_on_another_indicator_is_refused_at_its_line(tmp_path):
    write(tmp_path, "lake.yaml", NATIVE.replace("threshold: 1h", "port: lake").replace(
        "indicator: freshness", "indicator: availability") + "    schedule: 0 6 * * *\n")
    assert problems(tmp_path) == [
        "lake.yaml:15: objectives[0].schedule: a schedule judges freshness; a availability "
        "objective takes none"]


def test_a_time_zone_without_a_schedule_or_calendar_window_is_still_refused(tmp_path):
    write(tmp_path, "lake.yaml", NATIVE + "    timezone: Europe/Amsterdam\n")
    assert problems(tmp_path) == [
        "lake.yaml:15: objectives[0].timezone: timezone is for calendar windows (month, week, "
        "quarter); a 30d window rolls in elapsed time"]


ODCS = textwrap.dedent("""\
    apiVersion: v3.1.0
    kind: DataContract
    id: sales-lake
    domain: sales
    dataProduct: lake
    servers:
      - {server: db, type: postgres, host: db.example, database: sales}
    slaProperties:
    """)


def test_odcs_frequency_schedule_judges_the_freshness_promise_on_its_column(tmp_path):
    write(tmp_path, "lake.odcs.yaml", ODCS + textwrap.indent(textwrap.dedent("""\
        - {property: freshness, value: 1, unit: h, element: deliveries.loaded_at}
        - {property: latency, value: 4, unit: h, element: deliveries.src_ts}
        - property: frequency
          value: 1
          unit: d
          element: deliveries.loaded_at
          scheduler: cron
          schedule: "0 6 * * 1-5"
          customProperties: [{property: timezone, value: Europe/Amsterdam}]
        """), "  "))
    registry = loaded(tmp_path)
    assert registry.problems == []
    product = registry.products["sales/lake"]
    assert [(o.name, o.schedule, o.timezone) for o in product.objectives] == [
        ("freshness", WEEKDAYS_AT_6, AMSTERDAM), ("latency", None, None)]
    assert product.update_frequency == timedelta(days=1)
    assert product.unmonitored == ()


def test_odcs_schedule_on_a_freshness_property_is_its_own(tmp_path):
    write(tmp_path, "lake.odcs.yaml", ODCS + textwrap.indent(textwrap.dedent("""\
        - property: latency
          value: 2
          unit: h
          element: deliveries.loaded_at
          schedule: "30 5 * * *"
          customProperties: [{property: timezone, value: Europe/Amsterdam}]
        """), "  "))
    product = loaded(tmp_path).products["sales/lake"]
    assert [(o.name, o.schedule, o.timezone, o.threshold) for o in product.objectives] == [
        ("latency", Schedule("30 5 * * *"), AMSTERDAM, timedelta(hours=2))]


def test_odcs_frequency_with_a_schedule_and_no_freshness_promise_is_a_delivery_objective(tmp_path):
    write(tmp_path, "lake.odcs.yaml", ODCS + textwrap.indent(textwrap.dedent("""\
        - {property: frequency, value: 1, unit: d, element: deliveries.loaded_at,
           schedule: "0 6 * * 1-5", customProperties: [{property: window, value: 7d}]}
        """), "  "))
    product = loaded(tmp_path).products["sales/lake"]
    (objective,) = product.objectives
    assert (objective.name, objective.indicator, objective.threshold, objective.schedule,
            objective.window, objective.port) == (
        "frequency", Indicator.FRESHNESS, timedelta(days=1), WEEKDAYS_AT_6, timedelta(days=7), "db")
    assert product.port("db").options["freshness_query"] == "SELECT max(loaded_at) FROM deliveries"
    assert product.unmonitored == ()


def test_odcs_schedules_meshwatch_does_not_read_are_listed_with_why(tmp_path):
    write(tmp_path, "lake.odcs.yaml", ODCS + textwrap.indent(textwrap.dedent("""\
        - {property: freshness, value: 1, unit: h, scheduler: airflow, schedule: daily_dag}
        - {property: retention, value: 1, unit: y, schedule: "0 0 * * *"}
        - {property: frequency, value: 1, unit: d}
        """), "  "))
    product = loaded(tmp_path).products["sales/lake"]
    assert [o.schedule for o in product.objectives] == [None]
    assert [(d.name, d.value, d.reason) for d in product.unmonitored] == [
        ("freshness.schedule", "daily_dag",
         "meshwatch reads cron schedules (scheduler: cron) only; shown, not monitored"),
        ("freshness.scheduler", "airflow",
         "meshwatch reads cron schedules (scheduler: cron) only; shown, not monitored"),
        ("retention", "1 y", "declared by the contract; meshwatch does not measure it"),
        ("retention.schedule", "0 0 * * *",
         "a delivery schedule judges freshness: read on latency, freshness and frequency"),
        ("frequency", "1 d", "the expected update cadence; judged only with a delivery schedule "
                             "(a cron, e.g. schedule: 0 6 * * 1-5)"),
    ]


def test_odcs_a_bad_cron_and_a_bad_delivery_zone_are_reported_at_their_lines_in_one_pass(tmp_path):
    write(tmp_path, "lake.odcs.yaml", ODCS + textwrap.indent(textwrap.dedent("""\
        - {property: freshness, value: 1, unit: h, schedule: "0 6 * * 9"}
        - property: frequency
          value: 1
          unit: d
          schedule: "0 6 * * *"
          customProperties: [{property: timezone, value: Europe/Atlantis}]
        - {property: availability, value: 200, unit: "%"}
        """), "  "))
    found = problems(tmp_path)
    assert found[:2] == [
        "lake.odcs.yaml:9: slaProperties[0].schedule: schedule '0 6 * * 9': day of week '9': 9 is "
        "not a day (0–7 or sun–sat)",
        "lake.odcs.yaml:14: slaProperties[1].customProperties[0].value: unknown time zone "
        "'Europe/Atlantis' (e.g. UTC, Europe/Amsterdam)"]
    assert len(found) == 3 and found[2].startswith("lake.odcs.yaml:15: slaProperties[2].value: ")


DCS = textwrap.dedent("""\
    dataContractSpecification: 1.2.0
    id: lake
    info: {title: Lake, version: 1.0.0, owner: sales}
    servers:
      production: {type: postgres, host: db.example, database: sales}
    servicelevels:
    """)


def test_dcs_frequency_cron_judges_the_freshness_promises_on_its_zone(tmp_path):
    write(tmp_path, "lake.dcs.yaml", DCS + textwrap.indent(textwrap.dedent("""\
        freshness: {threshold: 1h, timestampField: deliveries.loaded_at}
        frequency: {type: batch, interval: daily, cron: "0 6 * * 1-5", timezone: Europe/Amsterdam}
        """), "  "))
    registry = loaded(tmp_path)
    assert registry.problems == []
    product = registry.products["default/lake"]
    assert [(o.name, o.schedule, o.timezone) for o in product.objectives] == [
        ("freshness", WEEKDAYS_AT_6, AMSTERDAM)]
    assert [(d.name, d.value) for d in product.unmonitored] == [("frequency.type", "batch")]


def test_dcs_frequency_cron_without_a_freshness_promise_is_a_delivery_objective(tmp_path):
    write(tmp_path, "lake.dcs.yaml", DCS + "  frequency: {interval: daily, cron: '0 6 * * *'}\n")
    (objective,) = loaded(tmp_path).products["default/lake"].objectives
    assert (objective.name, objective.threshold, objective.schedule) == (
        "frequency", timedelta(days=1), Schedule("0 6 * * *"))


def test_dcs_a_cron_with_nothing_to_judge_is_listed_and_a_bad_one_is_refused_at_its_line(tmp_path):
    write(tmp_path, "lake.dcs.yaml", DCS + "  frequency: {cron: '0 6 * * *'}\n")
    product = loaded(tmp_path).products["default/lake"]
    assert product.objectives == ()
    assert [(d.name, d.value, d.reason) for d in product.unmonitored] == [
        ("frequency.cron", "0 6 * * *", "a delivery schedule judges a freshness promise: give "
                                        "servicelevels.freshness or frequency.interval")]
    write(tmp_path, "lake.dcs.yaml", DCS + "  frequency: {cron: '0 6 * *'}\n")
    assert problems(tmp_path) == [
        "lake.dcs.yaml:7: servicelevels.frequency.cron: schedule '0 6 * *' has 4 field(s); a "
        "cron expression has five: minute hour day-of-month month day-of-week (e.g. '0 6 * * 1-5')"]
