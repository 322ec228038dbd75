"""Properties of the SLO math and of the minute/hour rollups, checked with hypothesis."""

from __future__ import annotations

import itertools
import math
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.slo import Counts, burn_rate, compliance, error_budget_remaining
from monitor.store import Event, open_store, record_events, series_ids, window_counts
from monitor.store.rollups import TIER_MINUTES, Tier, minute_time, split_window

targets = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("0.99999"), places=5)


@st.composite
def counts(draw, max_total: int = 10**9) -> Counts:
    total = draw(st.integers(min_value=1, max_value=max_total))
    return Counts(draw(st.integers(min_value=0, max_value=total)), total)


@given(total=st.integers(min_value=1, max_value=10**9), data=st.data(), target=targets)
def test_error_budget_never_grows_when_more_events_are_bad(total, data, target):
    fewer, more = sorted(data.draw(st.lists(st.integers(0, total), min_size=2, max_size=2)))
    assert (error_budget_remaining(Counts(total - more, total), target)
            <= error_budget_remaining(Counts(total - fewer, total), target))


@given(counts=counts(), target=targets)
def test_burn_rate_is_never_negative_and_is_the_budget_spent(counts, target):
    rate = burn_rate(counts, target)
    assert rate >= 0
    assert math.isclose(rate, 1 - error_budget_remaining(counts, target), rel_tol=1e-9,
                        abs_tol=1e-9)
    assert (rate == 0) == (counts.bad == 0)


@given(counts=counts())
def test_compliance_is_a_fraction_between_0_and_1(counts):
    value = compliance(counts)
    assert 0 <= value <= 1
    assert math.isclose(value, counts.good / counts.total)


def test_no_events_have_no_compliance_budget_or_burn_rate():
    assert compliance(Counts()) is None
    assert error_budget_remaining(Counts(), Decimal("0.99")) is None
    assert burn_rate(Counts(), Decimal("0.99")) is None


def test_counts_refuse_more_good_than_total_events():
    with pytest.raises(ValueError, match="good <= total"):
        Counts(2, 1)


# --- rollups -------------------------------------------------------------------------------------

def span_minutes(span) -> range:
    size = TIER_MINUTES[Tier(span.size)]
    return range((span.first - 1) * size + 1, span.last * size + 1)


@given(start=st.integers(min_value=0, max_value=10**8), length=st.integers(0, 200_000))
def test_window_spans_cover_every_minute_of_the_window_exactly_once(start, length):
    end = start + length
    spans = split_window(start, end)
    covered = sorted(itertools.chain.from_iterable(span_minutes(s) for s in spans))
    assert covered == list(range(start + 1, end + 1))  # (start, end], no gap, no overlap
    assert sum(len(span_minutes(s)) for s in spans) == length
    # whole days, then whole hours where they fit: never more than 59 loose minutes at either
    # edge, nor 23 loose hours
    assert sum(len(span_minutes(s)) for s in spans if s.size == "minute") <= 2 * 59 + 1
    assert sum(s.last - s.first + 1 for s in spans if s.size == "hour") <= 2 * 23 + 1


@given(start=st.integers(min_value=0, max_value=10**8), length=st.integers(1, 200_000),
       days_of_minutes=st.integers(1, 60), days_of_hours=st.integers(1, 800))
def test_a_window_reaching_past_a_pruned_tier_reads_only_kept_buckets(start, length, days_of_minutes,
                                                                       days_of_hours):
    """Prunes keep whole days (store/retention.py): a tier's horizon is the first bucket of a
    day, and a window ends in the kept minutes (now)."""
    end = start + length
    today = end // 1440
    minutes_from = (today - days_of_minutes) * 1440 + 1
    hours_from = (today - days_of_minutes - days_of_hours) * 24 + 1
    spans = split_window(start, end, minutes_from, hours_from)
    covered = sorted(itertools.chain.from_iterable(span_minutes(s) for s in spans))
    assert covered == list(range(covered[0], end + 1))  # contiguous, up to the end
    first = covered[0] - 1  # where the window starts in the kept tiers: never later
    assert first <= start and start - first < 1440
    assert all(s.first >= minutes_from for s in spans if s.size == "minute")
    assert all(s.first >= hours_from for s in spans if s.size == "hour")
    if start + 1 >= minutes_from:  # nothing pruned inside the window: exactly the window
        assert first == start
    elif -(-(start + 1) // 60) >= hours_from:  # its hour is kept: it starts at that hour
        assert start - first < 60


@given(start=st.integers(min_value=10**6, max_value=10**8), length=st.integers(1, 100_000),
       past=st.integers(0, 100_000))
def test_a_window_wholly_in_pruned_minutes_reads_the_hours_that_cover_it(start, length, past):
    end = start + length
    minutes_from = (end + past) // 1440 * 1440 + 1441  # the minutes up to past `end` are pruned
    spans = split_window(start, end, minutes_from, None)
    assert all(s.size != "minute" for s in spans)
    covered = sorted(itertools.chain.from_iterable(span_minutes(s) for s in spans))
    assert covered == list(range(covered[0], covered[-1] + 1))
    assert 0 <= start - (covered[0] - 1) < 60 and 0 <= covered[-1] - end < 60


@given(start=st.integers(min_value=0, max_value=10**6), back=st.integers(0, 10**6))
def test_an_empty_or_reversed_window_has_no_spans(start, back):
    assert split_window(start, start - back) == []


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory):
    engine = open_store(f"sqlite:///{tmp_path_factory.mktemp('rollups') / 'meshwatch.db'}")
    yield engine
    engine.dispose()


BASE_MINUTE = 29_000_000  # 2025-02-19: any minute will do, ours is well after the epoch
SPAN_MINUTES = 3 * 24 * 60
series_names = itertools.count()

raw_events = st.lists(
    st.tuples(
        st.one_of(st.integers(0, SPAN_MINUTES).map(lambda m: m * 60_000_000),  # on a minute
                  st.integers(0, SPAN_MINUTES * 60_000_000)),  # anywhere inside one
        st.integers(0, 50), st.integers(0, 50)),
    max_size=60)
windows = st.lists(st.tuples(st.integers(-60, SPAN_MINUTES + 60), st.integers(0, 4000)),
                   min_size=1, max_size=6)


@settings(max_examples=30, deadline=None)
@given(raw=raw_events, windows=windows)
def test_rollup_sums_equal_the_sum_of_the_raw_events_in_every_window(sqlite_store, raw, windows):
    product = f"prop/p{next(series_names)}"  # a fresh series per example in the shared store
    base = minute_time(BASE_MINUTE)
    events = [Event(product, "o", base + timedelta(microseconds=offset), min(good, total), total)
              for offset, good, total in raw]
    with sqlite_store.begin() as connection:
        record_events(connection, events)
    wanted = [(BASE_MINUTE + start, BASE_MINUTE + start + length) for start, length in windows]
    with sqlite_store.connect() as connection:
        ids = series_ids(connection, [(product, "o")], create=False)
        sums = window_counts(connection, list(ids.values()), wanted)
    for start, end in wanted:
        inside = [e for e in events if minute_time(start) < e.at <= minute_time(end)]
        expected = Counts(sum(e.good for e in inside), sum(e.total for e in inside))
        got = sums[(start, end)].get(ids.get((product, "o")), Counts())
        assert got == expected, (start - BASE_MINUTE, end - BASE_MINUTE)


@given(total=st.integers(1, 10**12), share=st.fractions(0, 1), expected=st.integers(0, 10**12),
       target=st.sampled_from(["0.5", "0.9", "0.99", "0.999", "0.9995", "0.99999", "0.123"]),
       burn=st.sampled_from(["14.4", "6", "1", "0.5", "3"]))
def test_integer_budget_arithmetic_is_the_exact_fractions_rounded_once(total, share, expected,
                                                                       target, burn):
    """burn rate, budget left and `exceeds` work in integers for speed (an evaluation round
    computes them for every window of every objective): the same floats as the exact
    Fractions, rounded once, and the same comparison."""
    from fractions import Fraction

    from monitor.slo.budget import exceeds
    from monitor.slo.status import window_budget_remaining

    bad = int(total * share)
    counts, goal = Counts(total - bad, total), Decimal(target)
    exact = Fraction(bad, total) / (1 - Fraction(goal))
    assert burn_rate(counts, goal) == float(exact)
    assert error_budget_remaining(counts, goal) == float(1 - exact)
    assert exceeds(counts, goal, Decimal(burn)) is (exact > Fraction(Decimal(burn)))
    basis = max(total, expected)
    assert window_budget_remaining(counts, goal, expected) == float(
        1 - Fraction(bad) / ((1 - Fraction(goal)) * basis))
