"""Maintenance windows: occurrences on a time zone's wall clock, muting, spans, and bad windows."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.config.loading import KINDS
from monitor.contracts import load_contracts
from monitor.contracts.maintenance import describe, maintenance_spans, occurrences, window_at
from monitor.contracts.model import MaintenanceWindow, product_json
from tests.support.repository import ROOT

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
HOUR, DAY, WEEK = timedelta(hours=1), timedelta(days=1), timedelta(days=7)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def starts(window: MaintenanceWindow, start: datetime, end: datetime) -> list[datetime]:
    return [s for s, _ in occurrences(window, start, end)]


# Sundays 02:00 in Amsterdam; 2027 changes: 28 March (02:00 → 03:00), 31 October (03:00 → 02:00)
SUNDAYS = MaintenanceWindow(datetime(2027, 3, 14, 2, 0, tzinfo=AMSTERDAM), 2 * HOUR, WEEK,
                            timezone="Europe/Amsterdam")


# --- recurrence ---------------------------------------------------------------------------------

def test_a_weekly_window_stays_at_two_local_across_the_march_change():
    assert starts(SUNDAYS, utc(2027, 3, 20), utc(2027, 4, 5)) == [
        utc(2027, 3, 21, 1),  # 02:00 winter time
        utc(2027, 3, 28, 1),  # 02:00 does not exist that night: fold=0 reads it as winter time
        utc(2027, 4, 4, 0),   # 02:00 summer time: the UTC instant moved, the wall clock did not
    ]
    assert {s.astimezone(AMSTERDAM).hour for s in starts(SUNDAYS, utc(2027, 4, 1), utc(2027, 5, 1))} \
        == {2}


def test_a_weekly_window_stays_at_two_local_across_the_october_change():
    assert starts(SUNDAYS, utc(2027, 10, 23), utc(2027, 11, 8)) == [
        utc(2027, 10, 24, 0),  # 02:00 summer time
        utc(2027, 10, 31, 0),  # 02:00 happens twice that night: fold=0 takes the first
        utc(2027, 11, 7, 1),   # 02:00 winter time
    ]


def test_each_occurrence_lasts_its_duration_of_elapsed_time():
    [(start, end)] = occurrences(SUNDAYS, utc(2027, 10, 31), utc(2027, 10, 31, 1))
    assert end - start == 2 * HOUR


def test_a_monthly_rrule_recurs_on_the_first_of_the_month_at_local_time():
    first_of_month = MaintenanceWindow(datetime(2027, 1, 1, 2, 0), HOUR, timezone="Europe/Amsterdam",
                                       rrule="FREQ=MONTHLY;BYMONTHDAY=1")
    assert starts(first_of_month, utc(2027, 2, 15), utc(2027, 5, 2)) == [
        utc(2027, 3, 1, 1), utc(2027, 4, 1, 0), utc(2027, 5, 1, 0)]


def test_a_start_the_rule_does_not_give_is_no_occurrence():
    from_mid_month = MaintenanceWindow(utc(2027, 1, 15, 2), HOUR, rrule="FREQ=MONTHLY;BYMONTHDAY=1")
    assert starts(from_mid_month, utc(2027, 1, 1), utc(2027, 3, 2)) == [
        utc(2027, 2, 1, 2), utc(2027, 3, 1, 2)]


def test_a_rule_with_a_count_ends():
    three_sundays = MaintenanceWindow(utc(2027, 1, 3, 2), HOUR, rrule="RRULE:FREQ=WEEKLY;COUNT=3")
    assert starts(three_sundays, utc(2027, 1, 1), utc(2028, 1, 1)) == [
        utc(2027, 1, 3, 2), utc(2027, 1, 10, 2), utc(2027, 1, 17, 2)]


def test_every_twelve_hours_is_fixed_elapsed_time_even_across_a_change():
    twice_daily = MaintenanceWindow(datetime(2027, 3, 27, 20, 0, tzinfo=AMSTERDAM), 30 * timedelta(
        minutes=1), 12 * HOUR, timezone="Europe/Amsterdam")
    assert starts(twice_daily, utc(2027, 3, 27), utc(2027, 3, 29)) == [
        utc(2027, 3, 27, 19), utc(2027, 3, 28, 7), utc(2027, 3, 28, 19)]  # 20:00, then 09:00 local


def test_a_one_off_window_happens_once_and_overlapping_ones_are_not_clipped():
    once = MaintenanceWindow(utc(2027, 5, 1, 22), 4 * HOUR)
    assert occurrences(once, utc(2027, 5, 2), utc(2027, 5, 3)) == [(utc(2027, 5, 1, 22),
                                                                     utc(2027, 5, 2, 2))]
    assert occurrences(once, utc(2027, 5, 2, 2), utc(2027, 5, 3)) == []
    assert occurrences(once, utc(2027, 4, 1), utc(2027, 5, 1, 22)) == []


def test_nothing_happens_before_the_start():
    assert starts(SUNDAYS, utc(2027, 1, 1), utc(2027, 3, 14)) == []


# --- in progress, and spans ---------------------------------------------------------------------

def test_window_at_holds_from_the_first_to_the_last_minute_of_an_occurrence():
    start, end = utc(2027, 4, 4, 0), utc(2027, 4, 4, 2)
    assert window_at([SUNDAYS], start) == (SUNDAYS, start, end)
    assert window_at([SUNDAYS], end - timedelta(minutes=1)) == (SUNDAYS, start, end)
    assert window_at([SUNDAYS], end) is None
    assert window_at([SUNDAYS], start - timedelta(minutes=1)) is None


def test_window_at_names_the_window_in_progress_among_several():
    nightly = MaintenanceWindow(utc(2027, 1, 1, 23), HOUR, DAY)
    assert window_at([SUNDAYS, nightly], utc(2027, 6, 9, 23, 30)) == (
        nightly, utc(2027, 6, 9, 23), utc(2027, 6, 10, 0))


def test_maintenance_spans_merges_overlapping_windows_and_clips_to_the_range():
    nightly = MaintenanceWindow(utc(2027, 1, 1, 23), 2 * HOUR, DAY)
    once = MaintenanceWindow(utc(2027, 1, 3, 0, 30), HOUR)
    assert maintenance_spans([nightly, once], utc(2027, 1, 2), utc(2027, 1, 4)) == [
        (utc(2027, 1, 2, 0), utc(2027, 1, 2, 1)),      # the 1 January night, clipped
        (utc(2027, 1, 2, 23), utc(2027, 1, 3, 1, 30)),  # the 2 January night joined by the one-off
        (utc(2027, 1, 3, 23), utc(2027, 1, 4, 0)),      # the 3 January night, clipped
    ]


def test_touching_occurrences_are_joined():
    back_to_back = MaintenanceWindow(utc(2027, 1, 1, 0), 12 * HOUR, 12 * HOUR)
    assert maintenance_spans([back_to_back], utc(2027, 2, 1), utc(2027, 2, 3)) == [
        (utc(2027, 2, 1), utc(2027, 2, 3))]


def test_three_years_of_a_daily_window_are_reached_without_walking_from_the_start():
    nightly = MaintenanceWindow(datetime(2027, 1, 1, 2, 0, tzinfo=AMSTERDAM), HOUR, DAY,
                                timezone="Europe/Amsterdam")
    assert window_at([nightly], utc(2030, 7, 1, 0, 30)) == (
        nightly, utc(2030, 7, 1, 0), utc(2030, 7, 1, 1))
    assert len(maintenance_spans([nightly], utc(2030, 1, 1), utc(2030, 2, 1))) == 31
    assert len(maintenance_spans([nightly], utc(2027, 1, 1), utc(2030, 1, 1))) == 365 * 3 + 1  # 2028: leap


def test_a_daily_rule_three_years_on_is_found_between_bounds():
    nightly = MaintenanceWindow(utc(2027, 1, 1, 2), HOUR, rrule="FREQ=DAILY")
    assert window_at([nightly], utc(2030, 1, 1, 2, 59)) == (
        nightly, utc(2030, 1, 1, 2), utc(2030, 1, 1, 3))


# --- for people ---------------------------------------------------------------------------------

def test_descriptions_say_when_in_the_windows_zone_with_human_durations():
    assert describe(SUNDAYS) == (
        "maintenance 2027-03-14 02:00–04:00 Europe/Amsterdam, every week on Sundays at 02:00")
    assert describe(MaintenanceWindow(utc(2027, 1, 1, 2), HOUR, 12 * HOUR)) == (
        "maintenance 2027-01-01 02:00–03:00 UTC, every 12h")
    assert describe(MaintenanceWindow(utc(2027, 1, 1, 22), 6 * HOUR, 2 * DAY)) == (
        "maintenance 2027-01-01 22:00 UTC for 6h, every 2 days at 22:00")
    assert describe(MaintenanceWindow(utc(2027, 1, 3, 2), HOUR, rrule="FREQ=MONTHLY;BYDAY=1SU")) == (
        "maintenance 2027-01-03 02:00–03:00 UTC, every month on the first Sunday at 02:00")
    assert describe(MaintenanceWindow(utc(2027, 1, 1, 2), HOUR)) == (
        "maintenance 2027-01-01 02:00–03:00 UTC")


def test_a_rule_beyond_the_plain_parts_is_described_as_written():
    window = MaintenanceWindow(utc(2027, 1, 1, 2), HOUR, rrule="FREQ=DAILY;BYHOUR=2,14")
    assert describe(window).endswith("repeating by the rule FREQ=DAILY;BYHOUR=2,14")
    assert ":00:00" not in describe(window)  # never a timedelta


# --- contracts ----------------------------------------------------------------------------------

CONTRACT = """\
apiVersion: meshwatch/v1
kind: DataProduct
metadata: {{domain: shop, name: basket}}
owner: {{team: shop}}
maintenance:
  - {window}
"""


def contract(directory: Path, window: str) -> Path:
    path = directory / "basket.yaml"
    path.write_text(textwrap.dedent(CONTRACT.format(window=window)), encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    return [f"{p.line}: {p.field}: {p.message}" for p in load_contracts([path], KINDS).problems]


def test_a_local_start_in_a_time_zone_loads_as_wall_time_there(tmp_path):
    path = contract(tmp_path, "{start: 2027-03-14T02:00:00, duration: 2h, every: 7d, "
                              "timezone: Europe/Amsterdam}")
    [window] = load_contracts([path], KINDS).products["shop/basket"].maintenance
    assert window == SUNDAYS
    [shown] = product_json(load_contracts([path], KINDS).products["shop/basket"])["maintenance"]
    assert shown == {"start": "2027-03-14T02:00:00+01:00", "duration": "2h", "every": "7d",
                     "timezone": "Europe/Amsterdam", "rrule": None}


def test_an_aware_start_without_a_time_zone_keeps_recurring_in_utc(tmp_path):
    path = contract(tmp_path, '{start: "2026-12-01T02:00:00Z", duration: 2h, rrule: FREQ=WEEKLY}')
    [window] = load_contracts([path], KINDS).products["shop/basket"].maintenance
    assert (window.timezone, window.rrule) == ("UTC", "FREQ=WEEKLY")


def test_an_unknown_time_zone_is_refused_with_an_example(tmp_path):
    path = contract(tmp_path, "{start: 2027-03-14T02:00:00, duration: 2h, timezone: Mars/Base}")
    assert problems(path) == [
        "6: maintenance[0].timezone: unknown time zone 'Mars/Base' (e.g. UTC, Europe/Amsterdam)"]


def test_a_bad_rule_is_refused_saying_what_is_wrong(tmp_path):
    path = contract(tmp_path, '{start: "2027-01-01T02:00:00Z", duration: 1h, rrule: FREQ=SOMETIMES}')
    assert problems(path) == [
        "6: maintenance[0].rrule: not a recurrence rule 'FREQ=SOMETIMES': invalid 'FREQ': SOMETIMES "
        "(write an RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=SU)"]


def test_every_and_rrule_together_are_refused(tmp_path):
    path = contract(tmp_path, '{start: "2027-01-01T02:00:00Z", duration: 1h, every: 7d, '
                              'rrule: "FREQ=WEEKLY;BYDAY=SU"}')
    assert problems(path) == ["6: maintenance[0].rrule: give every or rrule, not both"]


def test_a_naive_start_without_a_time_zone_is_refused(tmp_path):
    path = contract(tmp_path, "{start: 2027-01-01T02:00:00, duration: 1h}")
    assert problems(path) == [
        "6: maintenance[0].start: give a UTC offset (e.g. 2026-12-01T02:00:00Z) or a timezone "
        "field (e.g. timezone: Europe/Amsterdam) to read it as local time"]


def test_a_duration_that_is_not_positive_or_longer_than_every_is_refused(tmp_path):
    assert problems(contract(tmp_path, '{start: "2027-01-01T02:00:00Z", duration: 0s}')) == [
        "6: maintenance[0].duration: duration must be positive"]
    assert problems(contract(tmp_path, '{start: "2027-01-01T02:00:00Z", duration: 2h, every: 1h}')
                    ) == ["6: maintenance[0].every: every 1h is shorter than the duration 2h: "
                          "occurrences would overlap"]


def test_meshwatch_validate_prints_the_maintenance_problem_and_fails(tmp_path):
    path = contract(tmp_path, "{start: 2027-03-14T02:00:00, duration: 2h, timezone: Mars/Base}")
    result = CliRunner().invoke(app, ["validate", str(path), "--config", str(ROOT / "config")])
    assert result.exit_code == 1
    assert f"{path}:6: maintenance[0].timezone: unknown time zone 'Mars/Base'" in result.output
