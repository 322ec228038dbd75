"""Known reports and probe results for the telemetry tests, and ways to read exported points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from opentelemetry.sdk.metrics.export import MetricsData

from monitor.contracts.model import DataProduct, Indicator, Objective, Owner, Port
from monitor.contracts.results import ErrorClass, ProbeResult
from monitor.evaluation.mesh import ObjectiveEvaluation
from monitor.slo import Counts, Observations, evaluate_objective

AT = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
AVAILABILITY = Objective("api-availability", Indicator.AVAILABILITY, Decimal("0.99"), port="api")
FRESHNESS = Objective("lake-freshness", Indicator.FRESHNESS, Decimal("0.95"),
                      threshold=timedelta(hours=1), port="lake")
ORDERS = DataProduct(
    "checkout", "orders", Owner("checkout"),
    ports=(Port("api", "http", timeout=timedelta(seconds=2),
                options={"url": "http://orders.internal.example:8081/orders/latest"}),
           Port("lake", "azure_blob", options={"connection_string": "${CHECKOUT_STORAGE}"})),
    objectives=(AVAILABILITY, FRESHNESS))
ORDERS_ATTRIBUTES = {"product": "checkout/orders", "objective": "api-availability",
                     "indicator": "availability"}
FRESHNESS_ATTRIBUTES = {"product": "checkout/orders", "objective": "lake-freshness",
                        "indicator": "freshness"}


def at_risk_report() -> ObjectiveEvaluation:
    """99 % target over 30 d: 995 of 1000 good (budget half spent); the last hour burns at 50,
    the last five minutes at 100, so fast_burn holds and the objective is at risk."""
    counts = {timedelta(days=30): Counts(995, 1000), timedelta(hours=1): Counts(30, 60),
              timedelta(minutes=5): Counts(0, 5)}
    evaluation = evaluate_objective(
        target=AVAILABILITY.target, window=AVAILABILITY.window, at=AT, in_force=True,
        observations=Observations(counts, last_event_at=AT, expected_interval=timedelta(minutes=1)))
    return ObjectiveEvaluation(ORDERS, AVAILABILITY, evaluation)


def stale_report() -> ObjectiveEvaluation:
    """95 % target: 90 of 100 slices fresh (breached), data two hours old (freshness_breach)."""
    counts = {timedelta(days=30): Counts(90, 100)}
    evaluation = evaluate_objective(
        target=FRESHNESS.target, window=FRESHNESS.window, at=AT, in_force=True,
        threshold=FRESHNESS.threshold,
        observations=Observations(counts, last_event_at=AT, data_age=timedelta(hours=2)))
    return ObjectiveEvaluation(ORDERS, FRESHNESS, evaluation)


def probe_results() -> list[ProbeResult]:
    return [
        ProbeResult("checkout/orders", "api", "http", AT, ok=True, latency=timedelta(milliseconds=40)),
        ProbeResult("checkout/orders", "api", "http", AT, ok=True, latency=timedelta(milliseconds=300)),
        ProbeResult("checkout/orders", "api", "http", AT, ok=False, latency=timedelta(milliseconds=20),
                    error_class=ErrorClass.HTTP_STATUS, error="HTTP 503"),
        ProbeResult("checkout/orders", "api", "http", AT, ok=False, error_class=ErrorClass.TIMEOUT,
                    error="no answer within 2s"),
    ]


def points(data: MetricsData | None, name: str) -> list:
    """The data points of metric `name` in one collection (empty when it was not exported)."""
    if data is None:
        return []
    return [point for resource in data.resource_metrics for scope in resource.scope_metrics
            for metric in scope.metrics if metric.name == name for point in metric.data.data_points]


def values(data: MetricsData | None, name: str, key: str | None = None) -> dict:
    """{value of attribute `key` (or the whole attribute set): value} for a gauge or sum."""
    found = {}
    for point in points(data, name):
        attributes = dict(point.attributes)
        found[attributes.get(key) if key else tuple(sorted(attributes.items()))] = point.value
    return found


def metric(data: MetricsData, name: str):
    return next(metric for resource in data.resource_metrics for scope in resource.scope_metrics
                for metric in scope.metrics if metric.name == name)
