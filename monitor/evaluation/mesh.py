"""Evaluate every objective of the mesh at a time T: store sums in, SLO evaluations out.

The query layer shared by the CLI, the daemon and the dashboard.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Connection

from monitor.contracts.lineage import Lineage
from monitor.contracts.maintenance import maintenance_spans
from monitor.contracts.model import DataProduct, Indicator, Objective
from monitor.contracts.results import data_age as data_age_at
from monitor.evaluation.lineage import UpstreamObjective, upstream_in_round
from monitor.slo import (
    AlertPolicy,
    Counts,
    Evaluation,
    Observations,
    Period,
    Status,
    alert_windows,
    evaluate_objective,
    period_of,
    status_of,
)
from monitor.store.events import last_event_minutes, newest_minutes, series_ids, window_sums
from monitor.store.measurements import port_states
from monitor.store.rollups import floor_minute, minute_bucket, minute_time
from monitor.store.tables import PortState
from monitor.values.durations import format_duration
from monitor.values.text import iso_time

MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class ObjectiveEvaluation:
    product: DataProduct
    objective: Objective
    evaluation: Evaluation
    upstream: tuple[UpstreamObjective, ...] = ()  # bad objectives upstream, nearest first
    upstream_products: tuple[str, ...] = ()  # every product it reads from, nearest first


def objective_windows(product: DataProduct, objective: Objective, policy: AlertPolicy
                      ) -> tuple[timedelta, ...]:
    """The objective's window and every window of its burn-rate rules."""
    return (objective.window, *alert_windows(objective.window, policy.rules,
                                             expected_interval(product, objective)))


def expected_interval(product: DataProduct, objective: Objective) -> timedelta | None:
    """How often the objective's port(s) are probed; None when nothing probes it."""
    ports = [p for p in product.ports if objective.port in (None, p.name)]
    return min((p.interval for p in ports), default=None)


def one_event_per_probe(objective: Objective) -> bool:
    """Whether each probe makes one event (a full window's events follow from the interval), or
    the source counts them (error rate from requests)."""
    return objective.indicator is not Indicator.ERROR_RATE


def data_age(product: DataProduct, objective: Objective,
             states: Mapping[tuple[str, str], PortState], at: datetime) -> timedelta | None:
    """How old the newest data of the objective's port(s) is at `at`, when a recent probe knows.

    Port states hold the latest results, so a state probed after `at` does not speak for it."""
    if objective.indicator is not Indicator.FRESHNESS:
        return None
    newest = [state.newest_data_at for (product_id, port), state in states.items()
              if product_id == product.id and objective.port in (None, port)
              and state.newest_data_at is not None
              and state.last_started_at < at + timedelta(minutes=1)]
    age = data_age_at(max(newest), at) if newest else None
    return None if age is None else max(timedelta(0), age)


def schema_mismatch(product: DataProduct, objective: Objective,
                    states: Mapping[tuple[str, str], PortState], at: datetime) -> tuple[str, ...]:
    """What the latest look at the objective's port(s) found of their declared schema missing or
    retyped, at `at`: every objective judged on a port holds its schema mismatch, since each
    consumer agreed to objectives, not to ports. Only ports that still declare a schema speak."""
    declaring = {p.name for p in product.ports if p.options.get("schema")
                 and objective.port in (None, p.name)}
    found: list[str] = []
    for (product_id, port), state in sorted(states.items()):
        if product_id == product.id and port in declaring and state.schema_mismatch \
                and state.last_started_at < at + timedelta(minutes=1):
            found += state.schema_mismatch
    return tuple(found)


def window_end(at: datetime) -> datetime:
    """Where the windows of an evaluation at `at` end: the end of the minute holding `at`."""
    return minute_time(minute_bucket(at))


def probed_end(end: int, newest: int | None, interval: timedelta | None) -> int:
    """Where one objective's windows end, in epoch minutes: at `end`, or at the newest minute
    that holds its events when the minutes after it are not probed yet — a port probed every 5 m
    has no event in most minutes, and a window ending in one of those would read as empty.
    Never further back than one interval (and a minute of slack): after that, missing probes
    are missing data."""
    if interval is None or newest is None or newest >= end:
        return end
    due = math.ceil(interval / MINUTE) + 1
    return max(newest, end - due)


def current_period(objective: Objective, last: int, timezone: str) -> Period | None:
    """A calendar objective's period for windows ending at epoch minute `last`, in the
    objective's own time zone or else `timezone`; None for a rolling window."""
    if objective.calendar is None:
        return None
    return period_of(objective.calendar, minute_time(last), objective.timezone or timezone)


@dataclass(frozen=True)
class LatestEvaluation:
    """The reports of the latest evaluation round, replaced whole by each round."""

    reports: Sequence[ObjectiveEvaluation] = ()
    at: datetime | None = None
    failed_notifications: int | None = None


def evaluate_mesh(connection: Connection, products: Iterable[DataProduct], at: datetime,
                  policy: AlertPolicy = AlertPolicy(),
                  monitoring_since: datetime | None = None,
                  timezone: str = "UTC", lineage: Lineage | None = None
                  ) -> list[ObjectiveEvaluation]:
    """Every objective of `products` at `at`: windows end at the end of the minute holding `at`
    (a minute-aligned `at` is exact; `now` counts everything measured so far), or earlier at the
    newest probed minute (`probed_end`). Maintenance windows are left out of the alert
    conditions always, and out of every figure where the product excludes them from its SLO.
    `monitoring_since`: when the collector started, so no data is not claimed before it probed.
    `timezone`: the clock of calendar windows (`window: month`) that name no zone of their own
    (the settings' `timezone`): their own window starts at the current period's start there.
    `lineage`: the whole mesh's (a worker evaluating its shard passes it); each report lists the
    objectives upstream of its product that are breached or at risk (monitor.evaluation.lineage).
    """
    products = list(products)
    now = at  # data age is judged at `at` itself, not at the end of its minute
    end = minute_bucket(at)
    at = minute_time(end)
    pairs = [(product, objective) for product in products for objective in product.objectives]
    ids = series_ids(connection, [(p.id, o.name) for p, o in pairs], create=False)
    intervals = {(p.id, o.name): expected_interval(p, o) for p, o in pairs}
    slack = max((math.ceil(i / MINUTE) + 1 for i in intervals.values() if i), default=0)
    newest = newest_minutes(connection, list(ids.values()), end - slack, end) if slack else {}
    plans = []
    wanted: dict[tuple[int, int], set[int]] = defaultdict(set)
    for product, objective in pairs:
        series = ids.get((product.id, objective.name))
        newest_minute = newest.get(series) if series is not None else None
        last = probed_end(end, newest_minute, intervals[(product.id, objective.name)])
        windows = objective_windows(product, objective, policy)
        period = current_period(objective, last, timezone)
        spans = {w: _Plan.span_of(last, w, objective, period) for w in windows}
        earliest = min(start for start, _ in spans.values())
        maintenance = [(floor_minute(s), floor_minute(e)) for s, e in maintenance_spans(
            product.maintenance, minute_time(earliest), minute_time(last))
        ] if product.maintenance else []
        plan = _Plan(product, objective, series, last, spans, maintenance, period)
        if series is not None:  # an objective without a series yet has nothing to sum
            for span in plan.spans():
                wanted[span].add(series)
        plans.append(plan)
    sums = window_sums(connection, wanted) if ids else {}
    last_events = last_event_minutes(connection, list(ids.values()))
    states: dict[str, dict[tuple[str, str], PortState]] = {}
    for key, state in port_states(connection, {p.id for p, _ in pairs}).items():
        states.setdefault(key[0], {})[key] = state
    reports = []
    for plan in plans:
        product, objective, series = plan.product, plan.objective, plan.series
        observations = Observations(
            counts={},
            last_event_at=minute_time(last_events[series]) if series in last_events else None,
            expected_interval=intervals[(product.id, objective.name)],
            data_age=data_age(product, objective, states.get(product.id, {}), now),
            data_seen_at=now,
            monitoring_since=monitoring_since,
            one_event_per_probe=one_event_per_probe(objective),
            schema_mismatch=schema_mismatch(product, objective, states.get(product.id, {}), now))
        everything = _evaluate(plan, observations, sums, at, policy, without_maintenance=False,
                               timezone=timezone)
        if not plan.maintenance:
            reports.append(ObjectiveEvaluation(product, objective, everything))
            continue
        outside = _evaluate(plan, observations, sums, at, policy, without_maintenance=True,
                            timezone=timezone)
        if not product.maintenance_counts_in_slo:
            reports.append(ObjectiveEvaluation(product, objective, outside))
            continue
        # counted maintenance: its events are in the figures, but they never raise an alert
        merged = replace(everything, conditions=outside.conditions,
                         status=status_of(everything.counts, objective.target, outside.conditions)
                         if everything.status is not Status.NOT_IN_FORCE else everything.status)
        reports.append(ObjectiveEvaluation(product, objective, merged))
    return with_upstream(connection, reports, lineage or Lineage.declared(products))


def with_upstream(connection: Connection, reports: list[ObjectiveEvaluation], lineage: Lineage
                  ) -> list[ObjectiveEvaluation]:
    """`reports`, each with the bad objectives upstream of its product at this round."""
    upstream = upstream_in_round(connection, lineage, [
        (r.product.id, r.objective.name, r.evaluation.status) for r in reports])
    ancestors = {r.product.id: tuple(lineage.ancestors(r.product.id)) for r in reports}
    if not any(ancestors.values()):
        return reports
    return [replace(r, upstream=upstream.get(r.product.id, ()),
                    upstream_products=ancestors[r.product.id]) for r in reports]


def _evaluate(plan: _Plan, observations: Observations,
              sums: Mapping[tuple[int, int], Mapping[int, Counts]], at: datetime,
              policy: AlertPolicy, without_maintenance: bool, timezone: str) -> Evaluation:
    objective = plan.objective
    counts = plan.counts(sums, without_maintenance)
    return evaluate_objective(
        target=objective.target, window=objective.window, at=at,
        in_force=plan.product.in_force(at), observations=replace(observations, counts=counts),
        threshold=objective.threshold, policy=policy, period=plan.period,
        schedule=objective.schedule, timezone=objective.timezone or timezone)


@dataclass(frozen=True)
class _Plan:
    """What to sum for one objective: its windows, ending at `last`, and the maintenance
    minutes inside the longest of them, as (start, end] epoch-minute spans. A calendar
    objective's own window starts at its period's start (floored to the minute), its burn-rate
    windows roll as any."""

    product: DataProduct
    objective: Objective
    series: int | None
    last: int
    window_spans: dict[timedelta, tuple[int, int]]  # each window's (start, end], computed once
    maintenance: list[tuple[int, int]]
    period: Period | None = None

    @staticmethod
    def span_of(last: int, window: timedelta, objective: Objective, period: Period | None
                ) -> tuple[int, int]:
        if period is not None and window == objective.window:
            return floor_minute(period.start), last
        return last - window // MINUTE, last

    def spans(self) -> list[tuple[int, int]]:
        found = list(self.window_spans.values())
        if self.maintenance:
            for low, high in self.window_spans.values():
                found += [(max(s, low), min(e, high)) for s, e in self.maintenance
                          if s < high and e > low]
        return found

    def counts(self, sums: Mapping[tuple[int, int], Mapping[int, Counts]],
               without_maintenance: bool) -> dict[timedelta, Counts]:
        series = self.series
        if series is None:
            return {window: Counts() for window in self.window_spans}
        result = {}
        for window, (low, high) in self.window_spans.items():
            total = sums.get((low, high), {}).get(series) or Counts()
            if without_maintenance:
                for s, e in self.maintenance:
                    if s < high and e > low:
                        inside = _get(sums, (max(s, low), min(e, high)), series)
                        total = Counts(total.good - inside.good, total.total - inside.total)
            result[window] = total
        return result


def _get(sums: Mapping[tuple[int, int], Mapping[int, Counts]], span: tuple[int, int],
         series: int | None) -> Counts:
    return sums.get(span, {}).get(series, Counts()) if series is not None else Counts()


def objective_json(report: ObjectiveEvaluation) -> dict:
    """One objective in the documented `evaluate --json` shape."""
    evaluation, objective = report.evaluation, report.objective
    period = evaluation.period
    return {
        "product": report.product.id,
        "objective": objective.name,
        "indicator": objective.indicator.value,
        "target": float(objective.target),
        "threshold": format_duration(objective.threshold) if objective.threshold else None,
        **({"min": objective.minimum.value if objective.minimum else None,
            "max": objective.maximum.value if objective.maximum else None}
           if objective.indicator is Indicator.VOLUME else {}),
        "window": format_duration(window_length(report)),
        "status": evaluation.status.value,
        "compliance": evaluation.compliance,
        "error_budget_remaining": evaluation.error_budget_remaining,
        "good": evaluation.counts.good,
        "total": evaluation.counts.total,
        "burn_rates": {format_duration(w): rate for w, rate in evaluation.burn_rates.items()},
        "conditions": [
            {"name": c.name, "severity": c.severity,
             "long_window": format_duration(c.long_window) if c.long_window else None,
             "short_window": format_duration(c.short_window) if c.short_window else None,
             "burn_rate_threshold": float(c.burn_rate_threshold)
             if c.burn_rate_threshold is not None else None}
            for c in evaluation.conditions],
        "calendar": objective.calendar.value if objective.calendar else None,
        "timezone": period.timezone if period else None,
        "period_start": iso_time(period.start) if period else None,
        "period_end": iso_time(period.end) if period else None,
        "upstream": [u.as_json() for u in report.upstream],
        "schedule": objective.schedule.cron if objective.schedule else None,
        "deadline": iso_time(evaluation.deadline) if evaluation.deadline else None,
        "schema_mismatch": list(evaluation.schema_mismatch),
    }


def window_length(report: ObjectiveEvaluation) -> timedelta:
    """The objective's window as evaluated: a calendar objective's whole current period (31 d in
    December), else its rolling length."""
    return report.evaluation.budget_window or report.objective.window
