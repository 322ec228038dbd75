"""Evaluate every objective of the mesh at a time T: store sums in, SLO evaluations out.

The query layer shared by the CLI, the daemon and the dashboard.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from monitor.contracts.model import DataProduct, Indicator, Objective
from monitor.durations import format_duration
from monitor.slo import AlertPolicy, Counts, Evaluation, Observations, evaluate_objective
from monitor.slo.policy import alert_windows
from monitor.store.events import last_event_minutes, series_ids, window_counts
from monitor.store.measurements import port_states
from monitor.store.rollups import minute_bucket, minute_time
from monitor.store.tables import PortState


@dataclass(frozen=True)
class ObjectiveReport:
    product: DataProduct
    objective: Objective
    evaluation: Evaluation


def objective_windows(objective: Objective, policy: AlertPolicy) -> tuple[timedelta, ...]:
    return (objective.window, *alert_windows(objective.window, policy.rules))


def expected_interval(product: DataProduct, objective: Objective) -> timedelta | None:
    """How often the objective's port(s) are probed; None when nothing probes it."""
    ports = [p for p in product.ports if objective.port in (None, p.name)]
    return min((p.interval for p in ports), default=None)


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
    return max(timedelta(0), at - max(newest)) if newest else None


def window_end(at: datetime) -> datetime:
    """Where the windows of an evaluation at `at` end: the end of the minute holding `at`."""
    return minute_time(minute_bucket(at))


def evaluate_mesh(connection: Connection, products: Iterable[DataProduct], at: datetime,
                  policy: AlertPolicy = AlertPolicy(),
                  monitoring_since: datetime | None = None) -> list[ObjectiveReport]:
    """Every objective of `products` at `at`: windows end at the end of the minute holding `at`
    (a minute-aligned `at` is exact; `now` counts everything measured so far).
    `monitoring_since`: when the collector started, so no data is not claimed before it probed."""
    end = minute_bucket(at)
    at = minute_time(end)
    pairs = [(product, objective) for product in products for objective in product.objectives]
    ids = series_ids(connection, [(p.id, o.name) for p, o in pairs], create=False)
    minutes = {w: w // timedelta(minutes=1) for p, o in pairs for w in objective_windows(o, policy)}
    sums = window_counts(connection, list(ids.values()), [(end - m, end) for m in minutes.values()])
    last = last_event_minutes(connection, list(ids.values()))
    states: dict[str, dict[tuple[str, str], PortState]] = {}
    for key, state in port_states(connection, {p.id for p, _ in pairs}).items():
        states.setdefault(key[0], {})[key] = state
    reports = []
    for product, objective in pairs:
        series = ids.get((product.id, objective.name))
        counts = {w: sums[(end - minutes[w], end)].get(series, Counts())
                  for w in objective_windows(objective, policy)}
        observations = Observations(
            counts=counts,
            last_event_at=minute_time(last[series]) if series in last else None,
            expected_interval=expected_interval(product, objective),
            data_age=data_age(product, objective, states.get(product.id, {}), at),
            monitoring_since=monitoring_since)
        evaluation = evaluate_objective(
            target=objective.target, window=objective.window, at=at,
            in_force=product.in_force(at), observations=observations,
            threshold=objective.threshold, policy=policy)
        reports.append(ObjectiveReport(product, objective, evaluation))
    return reports


def report_json(report: ObjectiveReport) -> dict:
    """One objective in the documented `evaluate --json` shape."""
    evaluation, objective = report.evaluation, report.objective
    return {
        "product": report.product.id,
        "objective": objective.name,
        "indicator": objective.indicator.value,
        "target": float(objective.target),
        "threshold": format_duration(objective.threshold) if objective.threshold else None,
        "window": format_duration(objective.window),
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
    }
