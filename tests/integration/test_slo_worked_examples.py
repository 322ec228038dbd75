"""Worked examples of the SLO math, checked by hand: once through the pure evaluator, once end to
end through the store (SQLite and PostgreSQL) and `evaluate_mesh`.

The central example (99.9 % error-rate objective over 30 d, so the error budget is 0.1 %):
steady traffic of 1000 requests a minute, all good for days, then a burst in which 20 of every
1000 requests fail (2 %). The fast-burn rule pages when the burn rate is above 14.4 over both 1 h
and 5 m, i.e. when the bad fraction is above 14.4 × 0.001 = 0.0144 in both windows.

- 5 m window during the burst: 100 bad of 5000 = 0.02 > 0.0144 from the 5th burst minute on
  (already 20·k/5000 > 0.0144 ⇔ k ≥ 4).
- 1 h window after k burst minutes: 20·k bad of 60 000 > 0.0144 ⇔ k > 43.2, so the condition
  does not hold after the 43rd burst minute (860/60000 = 0.01433) and holds from the 44th
  (880/60000 = 0.014667).
- The burst lasts 60 minutes. After j clean minutes the 5 m window holds 20·(5 − j) bad of 5000:
  > 0.0144 ⇔ 5 − j > 3.6 ⇔ j ≤ 1 (the 1 h window still has 20·(60 − j)/60000 ≥ 0.0197 then).
  So the condition still holds 1 minute after the burst and is gone 2 minutes after it.

Minute buckets are named by their end: the events of burst minute k have timestamps in
(B + (k−1) min, B + k min] and we evaluate at B + k min.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from monitor.contracts.model import DataProduct, Indicator, Objective, Owner, Port
from monitor.evaluation.mesh import evaluate_mesh
from monitor.slo import (
    AlertPolicy,
    Counts,
    Observations,
    Status,
    alert_windows,
    evaluate_objective,
    scaled_rules,
)
from monitor.store import Event, record_events

MINUTE = timedelta(minutes=1)
THIRTY_DAYS = timedelta(days=30)
TARGET = Decimal("0.999")
STEADY = 1000  # requests a minute
BURST_BAD = 20  # failed requests a minute during the burst: 2 %
BURST_MINUTES = 60
BURST_START = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)  # B: the burst's first bucket ends at B+1m
WINDOWS_30D = (THIRTY_DAYS, *alert_windows(THIRTY_DAYS))


def names(evaluation) -> list[str]:
    return [condition.name for condition in evaluation.conditions]


def steady_with_burst(at_minute: int, window: timedelta) -> Counts:
    """Counts over (at − window, at] of the example, minutes counted from B (burst = 1..60)."""
    length = window // MINUTE
    first, last = at_minute - length + 1, at_minute
    burst = max(0, min(last, BURST_MINUTES) - max(first, 1) + 1)
    total = STEADY * length
    return Counts(total - BURST_BAD * burst, total)


def evaluate_example(at_minute: int, **overrides):
    observations = Observations(
        counts={w: steady_with_burst(at_minute, w) for w in WINDOWS_30D})
    return evaluate_objective(target=TARGET, window=THIRTY_DAYS,
                              at=BURST_START + at_minute * MINUTE, in_force=True,
                              observations=observations, **overrides)


def evaluate_counts(counts: dict[timedelta, Counts], *, target: Decimal = TARGET,
                    window: timedelta = THIRTY_DAYS, policy: AlertPolicy = AlertPolicy(),
                    **observed):
    return evaluate_objective(target=target, window=window, at=BURST_START, in_force=True,
                              observations=Observations(counts=counts, **observed), policy=policy)


# --- the fast-burn example, pure ----------------------------------------------------------------

def test_fast_burn_does_not_page_after_43_minutes_of_a_2_percent_error_burst():
    evaluation = evaluate_example(43)
    assert steady_with_burst(43, timedelta(hours=1)) == Counts(60_000 - 860, 60_000)
    assert "fast_burn" not in names(evaluation)
    assert evaluation.burn_rates[timedelta(hours=1)] == pytest.approx(860 / 60_000 / 0.001)


def test_fast_burn_pages_after_44_minutes_of_a_2_percent_error_burst():
    evaluation = evaluate_example(44)
    assert names(evaluation) == ["fast_burn"]
    fast = evaluation.conditions[0]
    assert (fast.severity, fast.long_window, fast.short_window, fast.burn_rate_threshold) == (
        "page", timedelta(hours=1), timedelta(minutes=5), Decimal("14.4"))
    assert evaluation.status is Status.AT_RISK
    assert evaluation.burn_rates[timedelta(hours=1)] == pytest.approx(14.6667, abs=1e-4)
    assert evaluation.burn_rates[timedelta(minutes=5)] == pytest.approx(20.0)


def test_fast_burn_holds_one_minute_after_the_burst_and_clears_two_minutes_after():
    assert "fast_burn" in names(evaluate_example(BURST_MINUTES))
    assert "fast_burn" in names(evaluate_example(BURST_MINUTES + 1))
    assert "fast_burn" not in names(evaluate_example(BURST_MINUTES + 2))
    # 3 bad minutes of 5 left in the short window: 60/5000 = 0.012 — a burn rate of 12
    assert evaluate_example(BURST_MINUTES + 2).burn_rates[timedelta(minutes=5)] == pytest.approx(12)


def test_fast_burn_holds_exactly_from_minute_44_to_one_minute_after_the_burst():
    firing = [k for k in range(0, BURST_MINUTES + 10) if "fast_burn" in names(evaluate_example(k))]
    assert firing == list(range(44, BURST_MINUTES + 2))


# --- compliance, budget, burn rate ---------------------------------------------------------------

def test_999_good_of_1000_at_99_9_percent_leaves_exactly_no_budget_and_is_at_risk_not_breached():
    evaluation = evaluate_counts({THIRTY_DAYS: Counts(999, 1000)})
    assert evaluation.compliance == 0.999
    assert evaluation.error_budget_remaining == 0.0
    assert "budget_exhausted" in names(evaluation)
    assert evaluation.status is Status.AT_RISK


def test_998_good_of_1000_at_99_9_percent_is_breached_with_budget_minus_one():
    evaluation = evaluate_counts({THIRTY_DAYS: Counts(998, 1000)})
    assert evaluation.compliance == 0.998
    assert evaluation.error_budget_remaining == -1.0
    assert evaluation.status is Status.BREACHED
    assert "budget_exhausted" in names(evaluation)


def test_half_the_allowed_bad_events_leaves_half_the_budget_and_is_ok():
    evaluation = evaluate_counts({THIRTY_DAYS: Counts(199_900, 200_000)},
                                 target=Decimal("0.999"))
    # 100 bad of 200 000 = 0.0005 = half of 0.001
    assert evaluation.error_budget_remaining == pytest.approx(0.5)
    assert evaluation.conditions == ()
    assert evaluation.status is Status.OK


def test_burn_rate_is_the_bad_fraction_over_the_allowed_fraction():
    # 99 % target: 1 % may be bad. 3 bad of 100 over 1 h → burn rate 3; 0 bad over 5 m → 0.
    evaluation = evaluate_counts({timedelta(hours=1): Counts(97, 100),
                                  timedelta(minutes=5): Counts(10, 10)}, target=Decimal("0.99"))
    assert evaluation.burn_rates[timedelta(hours=1)] == pytest.approx(3.0)
    assert evaluation.burn_rates[timedelta(minutes=5)] == 0.0
    assert evaluation.burn_rates[timedelta(days=3)] is None  # no events: no rate
    assert set(evaluation.burn_rates) == {timedelta(minutes=5), timedelta(minutes=30),
                                          timedelta(hours=1), timedelta(hours=6), timedelta(days=3)}


# --- the slower rules ---------------------------------------------------------------------------

def test_sustained_burn_pages_above_6x_over_6h_and_30m_but_not_at_exactly_6x():
    # 6 × 0.001 = 0.006: 2160 bad of 360 000 is exactly 6x, 2161 is above; 30 m: 181 of 30 000.
    quiet_hour = {timedelta(hours=1): Counts(59_700, 60_000),
                  timedelta(minutes=5): Counts(4_975, 5_000)}  # burn 5: below the fast rule
    above = evaluate_counts({timedelta(hours=6): Counts(360_000 - 2161, 360_000),
                             timedelta(minutes=30): Counts(30_000 - 181, 30_000), **quiet_hour})
    exactly = evaluate_counts({timedelta(hours=6): Counts(360_000 - 2160, 360_000),
                               timedelta(minutes=30): Counts(30_000 - 181, 30_000), **quiet_hour})
    short_clear = evaluate_counts({timedelta(hours=6): Counts(360_000 - 2161, 360_000),
                                   timedelta(minutes=30): Counts(30_000 - 180, 30_000),
                                   **quiet_hour})
    assert names(above) == ["sustained_burn"]
    assert above.conditions[0].severity == "page"
    assert above.conditions[0].long_window == timedelta(hours=6)
    assert above.conditions[0].short_window == timedelta(minutes=30)
    assert names(exactly) == []
    assert names(short_clear) == []


def test_slow_burn_files_a_ticket_above_1x_over_3d_and_6h():
    # 1 × 0.001: over 3 d 4321 bad of 4 320 000 (above), over 6 h 361 of 360 000 (above).
    counts = {timedelta(days=3): Counts(4_320_000 - 4321, 4_320_000),
              timedelta(hours=6): Counts(360_000 - 361, 360_000)}
    evaluation = evaluate_counts(counts)
    assert names(evaluation) == ["slow_burn"]
    assert evaluation.conditions[0].severity == "ticket"
    assert evaluation.conditions[0].burn_rate_threshold == Decimal(1)
    within = evaluate_counts({**counts, timedelta(days=3): Counts(4_320_000 - 4320, 4_320_000)})
    assert names(within) == []


def test_low_traffic_does_not_page_below_min_events():
    # every event bad, but only 9 in the long window: the 10-event guard keeps it quiet
    nine = {timedelta(hours=1): Counts(0, 9), timedelta(minutes=5): Counts(0, 9)}
    ten = {timedelta(hours=1): Counts(0, 10), timedelta(minutes=5): Counts(0, 2)}
    assert "fast_burn" not in names(evaluate_counts(nine))
    assert "fast_burn" in names(evaluate_counts(ten))
    assert "fast_burn" not in names(evaluate_counts(ten, policy=AlertPolicy(min_events=11)))


# --- no data, not in force, freshness -----------------------------------------------------------

def test_no_data_holds_only_after_the_configured_number_of_missed_intervals():
    interval = timedelta(minutes=5)
    def at_age(age: timedelta):
        return evaluate_counts({THIRTY_DAYS: Counts(10, 10)}, last_event_at=BURST_START - age,
                               expected_interval=interval)
    assert "no_data" not in names(at_age(3 * interval))
    assert "no_data" in names(at_age(3 * interval + MINUTE))
    two = AlertPolicy(no_data_intervals=2)
    assert "no_data" in names(evaluate_counts(
        {THIRTY_DAYS: Counts(10, 10)}, last_event_at=BURST_START - 2 * interval - MINUTE,
        expected_interval=interval, policy=two))
    assert at_age(3 * interval + MINUTE).conditions[-1].severity == "ticket"


def test_no_data_holds_for_a_probed_port_that_never_reported():
    evaluation = evaluate_counts({}, expected_interval=timedelta(minutes=1))
    assert names(evaluation) == ["no_data"]
    assert evaluation.status is Status.NO_DATA


def test_objective_without_events_has_status_no_data_and_no_numbers():
    evaluation = evaluate_counts({})
    assert evaluation.status is Status.NO_DATA
    assert evaluation.compliance is None
    assert evaluation.error_budget_remaining is None
    assert evaluation.conditions == ()
    assert all(rate is None for rate in evaluation.burn_rates.values())


def test_objective_outside_its_contract_is_not_in_force_and_raises_nothing():
    burning = {w: steady_with_burst(50, w) for w in WINDOWS_30D}
    evaluation = evaluate_objective(
        target=TARGET, window=THIRTY_DAYS, at=BURST_START, in_force=False,
        observations=Observations(counts=burning, expected_interval=MINUTE))
    assert evaluation.status is Status.NOT_IN_FORCE
    assert evaluation.conditions == ()
    assert evaluation.counts == burning[THIRTY_DAYS]  # still shown


def test_contract_is_in_force_from_its_start_date_until_before_its_end_date():
    product = DataProduct(domain="d", name="p", owner=Owner("d"),
                          start=date(2026, 1, 1), end=date(2027, 1, 1))
    assert not product.in_force(datetime(2025, 12, 31, 23, 59, tzinfo=UTC))
    assert product.in_force(datetime(2026, 1, 1, 0, 0, tzinfo=UTC))
    assert product.in_force(datetime(2026, 12, 31, 23, 59, tzinfo=UTC))
    assert not product.in_force(datetime(2027, 1, 1, 0, 0, tzinfo=UTC))


def test_freshness_breach_pages_when_the_data_is_older_than_the_threshold():
    hour = timedelta(hours=1)
    fresh = evaluate_counts({THIRTY_DAYS: Counts(100, 100)}, data_age=hour)
    evaluation = evaluate_objective(
        target=Decimal("0.99"), window=THIRTY_DAYS, at=BURST_START, in_force=True,
        threshold=hour, observations=Observations(counts={THIRTY_DAYS: Counts(100, 100)},
                                                  data_age=hour + timedelta(seconds=1)))
    at_threshold = evaluate_objective(
        target=Decimal("0.99"), window=THIRTY_DAYS, at=BURST_START, in_force=True,
        threshold=hour, observations=Observations(counts={THIRTY_DAYS: Counts(100, 100)},
                                                  data_age=hour))
    assert names(fresh) == []  # no threshold given: no freshness condition
    assert names(at_threshold) == []
    assert names(evaluation) == ["freshness_breach"]
    assert evaluation.conditions[0].severity == "page"
    assert evaluation.status is Status.AT_RISK


# --- windows scaled to the objective -----------------------------------------------------------

def test_rules_of_a_7_day_objective_have_windows_times_7_over_30_in_whole_minutes():
    rules = {rule.name: rule for rule in scaled_rules(timedelta(days=7))}
    # 1 h·7/30 = 14 m, 5 m·7/30 = 1.17 m → 1 m; 6 h → 84 m, 30 m → 7 m; 3 d → 1008 m, 6 h → 84 m
    assert (rules["fast_burn"].long_window, rules["fast_burn"].short_window) == (
        timedelta(minutes=14), timedelta(minutes=1))
    assert (rules["sustained_burn"].long_window, rules["sustained_burn"].short_window) == (
        timedelta(minutes=84), timedelta(minutes=7))
    assert (rules["slow_burn"].long_window, rules["slow_burn"].short_window) == (
        timedelta(minutes=1008), timedelta(minutes=84))
    assert [rule.burn_rate for rule in rules.values()] == [Decimal("14.4"), Decimal(6), Decimal(1)]
    assert alert_windows(timedelta(days=7)) == tuple(
        timedelta(minutes=m) for m in (1, 7, 14, 84, 1008))


def test_rules_of_a_30_day_objective_are_the_sre_workbook_windows():
    assert alert_windows(THIRTY_DAYS) == (timedelta(minutes=5), timedelta(minutes=30),
                                          timedelta(hours=1), timedelta(hours=6), timedelta(days=3))


def test_a_7_day_objective_pages_on_its_scaled_14_and_1_minute_windows():
    # 99 %: fast burn above 14.4 × 0.01 = 0.144 over 14 m and 1 m
    week = timedelta(days=7)
    counts = {timedelta(minutes=14): Counts(1400 - 203, 1400),  # 0.145
              timedelta(minutes=1): Counts(80, 100)}
    evaluation = evaluate_counts(counts, target=Decimal("0.99"), window=week)
    assert names(evaluation) == ["fast_burn"]
    assert evaluation.conditions[0].long_window == timedelta(minutes=14)
    assert set(evaluation.burn_rates) == set(alert_windows(week))
    calm = evaluate_counts({**counts, timedelta(minutes=14): Counts(1400 - 201, 1400)},  # 0.1436
                           target=Decimal("0.99"), window=week)
    assert names(calm) == []


# --- the same examples end to end through the store ---------------------------------------------

ERRORS = Objective(name="request-errors", indicator=Indicator.ERROR_RATE, target=TARGET,
                   window=THIRTY_DAYS)
SHOP = DataProduct(domain="shop", name="orders", owner=Owner("shop"), start=date(2026, 1, 1),
                   objectives=(ERRORS,))


def minute_events(product: DataProduct, objective: Objective, first: datetime, minutes: int,
                  good: int, total: int) -> list[Event]:
    """One event a minute, 30 s before each bucket's end, for `minutes` buckets after `first`."""
    return [Event(product.id, objective.name, first + (i + 1) * MINUTE - timedelta(seconds=30),
                  good, total) for i in range(minutes)]


def evaluate_one(connection, product: DataProduct, at: datetime, policy=AlertPolicy()):
    (report,) = evaluate_mesh(connection, [product], at, policy)
    return report.evaluation


def test_fast_burn_pages_from_burst_minute_44_until_one_minute_after_it_in_the_store(store):
    history = 3 * 24 * 60  # three days of steady, all-good traffic before the burst
    events = (minute_events(SHOP, ERRORS, BURST_START - history * MINUTE, history, STEADY, STEADY)
              + minute_events(SHOP, ERRORS, BURST_START, BURST_MINUTES,
                              STEADY - BURST_BAD, STEADY)
              + minute_events(SHOP, ERRORS, BURST_START + BURST_MINUTES * MINUTE, 10,
                              STEADY, STEADY))
    with store.begin() as connection:
        record_events(connection, events)
    with store.connect() as connection:
        def at(k: int):
            return evaluate_one(connection, SHOP, BURST_START + k * MINUTE)
        assert "fast_burn" not in names(at(43))
        minute_44 = at(44)
        assert names(minute_44) == ["fast_burn"]
        assert minute_44.status is Status.AT_RISK
        assert minute_44.burn_rates[timedelta(hours=1)] == pytest.approx(880 / 60_000 / 0.001)
        assert "fast_burn" in names(at(BURST_MINUTES + 1))
        assert "fast_burn" not in names(at(BURST_MINUTES + 2))
        # the 30-day count holds every event up to T: 3 days + the 44 burst minutes
        assert minute_44.counts == Counts((history + 44) * STEADY - 44 * BURST_BAD,
                                          (history + 44) * STEADY)
        # inside a minute the windows end where that minute's bucket ends: 43m01s counts minute 44
        assert names(evaluate_one(connection, SHOP,
                                  BURST_START + 43 * MINUTE + timedelta(seconds=1))) == ["fast_burn"]


@pytest.mark.parametrize(("good", "status", "budget"), [
    (999, Status.AT_RISK, 0.0),
    (998, Status.BREACHED, -1.0),
    (1000, Status.OK, 1.0),
])
def test_budget_of_good_out_of_1000_at_99_9_percent_through_the_store(store, good, status, budget):
    with store.begin() as connection:
        record_events(connection, [Event(SHOP.id, ERRORS.name, BURST_START - timedelta(days=1),
                                         good, 1000)])
    with store.connect() as connection:
        evaluation = evaluate_one(connection, SHOP, BURST_START)
    assert evaluation.counts == Counts(good, 1000)
    assert evaluation.status is status
    assert evaluation.error_budget_remaining == budget
    assert ("budget_exhausted" in names(evaluation)) == (budget <= 0)


def test_events_older_than_the_window_no_longer_count(store):
    with store.begin() as connection:
        record_events(connection, [
            Event(SHOP.id, ERRORS.name, BURST_START - THIRTY_DAYS, 0, 1000),  # (T−30d, T] excludes it
            Event(SHOP.id, ERRORS.name, BURST_START - THIRTY_DAYS + timedelta(seconds=1), 5, 5)])
    with store.connect() as connection:
        evaluation = evaluate_one(connection, SHOP, BURST_START)
    assert evaluation.counts == Counts(5, 5)
    assert evaluation.status is Status.OK


def test_low_traffic_burst_does_not_page_through_the_store(store):
    with store.begin() as connection:
        record_events(connection, minute_events(SHOP, ERRORS, BURST_START - 5 * MINUTE, 5, 0, 1))
    with store.connect() as connection:
        quiet = evaluate_one(connection, SHOP, BURST_START)
        strict = evaluate_one(connection, SHOP, BURST_START, AlertPolicy(min_events=5))
    assert quiet.counts == Counts(0, 5)
    assert not {"fast_burn", "sustained_burn", "slow_burn"} & set(names(quiet))
    assert {"fast_burn", "sustained_burn", "slow_burn"} <= set(names(strict))


def test_probed_objective_reports_no_data_after_three_missed_intervals_in_the_store(store):
    probed = DataProduct(domain="shop", name="api", owner=Owner("shop"),
                         ports=(Port("api", "http", interval=MINUTE),),
                         objectives=(Objective("api-availability", Indicator.AVAILABILITY,
                                               Decimal("0.99"), port="api"),))
    with store.begin() as connection:
        record_events(connection, [Event(probed.id, "api-availability",
                                         BURST_START - timedelta(seconds=30), 1, 1)])
    with store.connect() as connection:
        assert "no_data" not in names(evaluate_one(connection, probed, BURST_START + 3 * MINUTE))
        later = evaluate_one(connection, probed, BURST_START + 4 * MINUTE)
        never = evaluate_one(connection, SHOP, BURST_START)
    assert "no_data" in names(later)
    assert later.status is Status.AT_RISK  # one good event counted, but nothing new arrives
    assert never.status is Status.NO_DATA
    assert never.conditions == ()  # no port probes SHOP's objective: no interval to miss


def test_objectives_before_the_contract_starts_are_not_in_force_in_the_store(store):
    future = DataProduct(domain="shop", name="orders", owner=Owner("shop"),
                         start=date(2026, 12, 1), objectives=(ERRORS,))
    with store.begin() as connection:
        record_events(connection, [Event(SHOP.id, ERRORS.name, BURST_START, 0, 1000)])
    with store.connect() as connection:
        evaluation = evaluate_one(connection, future, BURST_START)
    assert evaluation.status is Status.NOT_IN_FORCE
    assert evaluation.conditions == ()
    assert evaluation.counts == Counts(0, 1000)


# --- live windows: never shorter than two intervals, never ending in an unprobed minute ----------

def probed_product(window: timedelta, interval: timedelta) -> DataProduct:
    return DataProduct(domain="shop", name="api", owner=Owner("shop"), start=date(2026, 1, 1),
                       ports=(Port("api", "http", interval=interval),),
                       objectives=(Objective("api-availability", Indicator.AVAILABILITY,
                                             Decimal("0.99"), window=window, port="api"),))


def outage(product: DataProduct, interval: timedelta, hours: int) -> list[Event]:
    """Every probe bad for `hours` up to BURST_START, each 40 s before its minute's end."""
    count = hours * 60 * MINUTE // interval
    return [Event(product.id, "api-availability",
                  BURST_START - i * interval - timedelta(seconds=40), 0, 1) for i in range(count)]


@pytest.mark.parametrize("window, interval", [
    (timedelta(days=7), MINUTE), (THIRTY_DAYS, 5 * MINUTE), (timedelta(days=7), 5 * MINUTE)])
def test_a_steady_outage_keeps_paging_between_probes(store, window, interval):
    # 7 d scales the 5 m short window to 1 m; a 5-minute port leaves most minutes empty: before
    # the next probe, a window ending at the end of the current minute would hold nothing
    product = probed_product(window, interval)
    with store.begin() as connection:
        record_events(connection, outage(product, interval, hours=1))
    with store.connect() as connection:
        seen = [names(evaluate_one(connection, product, BURST_START + seconds * timedelta(
            seconds=1))) for seconds in range(5, int(interval.total_seconds()) + 5, 15)]
    assert all(found == seen[0] for found in seen), seen  # no flapping between probes
    # a page condition holds (on 7 d / 5 m, fast_burn's 14 m window holds too few events to
    # reach slo.min_events, so sustained_burn pages)
    assert {"fast_burn", "sustained_burn"} & set(seen[0])


def test_a_7_day_objective_on_a_1_minute_port_judges_its_short_window_over_two_minutes(store):
    product = probed_product(timedelta(days=7), MINUTE)
    with store.connect() as connection:
        evaluation = evaluate_one(connection, product, BURST_START)
    assert [(r.name, r.long_window, r.short_window) for r in evaluation.rules] == [
        ("fast_burn", timedelta(minutes=14), timedelta(minutes=2)),
        ("sustained_burn", timedelta(minutes=84), timedelta(minutes=7)),
        ("slow_burn", timedelta(hours=16, minutes=48), timedelta(minutes=84))]


def test_a_port_that_stopped_being_probed_is_not_judged_on_its_last_probe_for_ever(store):
    # an interval and a minute after the newest probe, the windows end at the present again
    product = probed_product(timedelta(days=7), MINUTE)
    with store.begin() as connection:
        record_events(connection, outage(product, MINUTE, hours=1))
    with store.connect() as connection:
        soon = evaluate_one(connection, product, BURST_START + timedelta(seconds=50))
        later = evaluate_one(connection, product, BURST_START + 3 * MINUTE)
    assert soon.burn_rates[timedelta(minutes=2)] == pytest.approx(100.0)
    assert later.burn_rates[timedelta(minutes=2)] is None  # nothing in the last two minutes


@pytest.mark.parametrize("bad, expected", [(1, []), (433, ["budget_exhausted"])])
def test_budget_exhausted_counts_the_events_a_full_window_holds(store, bad, expected):
    # 99 % over 30 d of a 1-minute port: a full window holds 43,200 probes, so 1 % is 432 bad.
    # One bad probe of the first four leaves the budget spent of what was observed (compliance
    # 75 %) but not of the window's: budget_exhausted waits for the 433rd bad probe.
    product = probed_product(THIRTY_DAYS, MINUTE)
    events = [Event(product.id, "api-availability", BURST_START - i * MINUTE - timedelta(seconds=40),
                    int(i >= bad), 1) for i in range(max(4, bad + 3))]
    with store.begin() as connection:
        record_events(connection, events)
    with store.connect() as connection:
        evaluation = evaluate_one(connection, product, BURST_START)
    assert evaluation.error_budget_remaining < 0
    assert [n for n in names(evaluation) if n == "budget_exhausted"] == expected
