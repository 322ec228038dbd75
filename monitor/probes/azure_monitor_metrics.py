"""Azure Monitor metrics ports: a resource's platform metrics (Event Hubs, Storage, Data Factory, …)
read through the metrics data plane, turned into one indicator's measurement.

Which client: `azure-monitor-querymetrics`' `MetricsClient` (the batch API,
`POST {region}.metrics.monitor.azure.com/subscriptions/{id}/metrics:getBatch`) rather than
`azure-mgmt-monitor`'s `metrics.list` (Azure Resource Manager). The data plane is the API Azure
names for monitoring at scale: its throttling budget is its own and not the subscription's ARM read
budget that deployments share, it is async (what probes are), it takes the `Retry-After` of a 429
as any azure-core client, and it is a small library, where the management SDK brings every
Monitor resource type. What it asks for in return: a regional endpoint (`region:` or `endpoint:`),
and a reader role on the resource, as ARM would.

What a port measures (`measure:`), from the time grains of `lookback` ending now:

| measure | reads | the result |
| --- | --- | --- |
| freshness | a count (`IncomingMessages`) | newest data = the start of the newest grain with a value > 0 |
| error_rate | `total_metric` or `succeeded_metrics`; `failed_metrics` | total, failed over complete grains |
| latency | a duration in ms (`SuccessE2ELatency`) | the newest grain's value is the port's latency |
| availability | a percentage (`Availability`) | unavailable when the newest value < `min_availability` |

Presets name the usual ones in a word (`preset: event_hub_freshness`): see PRESETS. Grains the
service left without a value are never filled in: trailing ones (not yet reported: metrics arrive
a minute or more late) are `pending_grains` in the details; gaps before the newest reported grain,
or a metric the service failed to read, make the result `partial` (none of them read: `bad_payload`).

Failures: 429 → `throttled` (the SDK waits out its Retry-After only when that ends within the
port's timeout; otherwise the 429 is the measurement), 401/403 → `auth`, 400 → `config` naming
the metric, 404 → `query_error` (no such resource).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Self

from azure.core.exceptions import HttpResponseError
from azure.core.pipeline.policies import AsyncRetryPolicy
from azure.monitor.querymetrics.aio import MetricsClient
from pydantic import Field, model_validator

from monitor.contracts.results import ErrorClass, ProbeResult
from monitor.contracts.spec import Duration
from monitor.probes.azure import (
    AzureProbe,
    bearer_over_plain_http,
    failure_without_status,
    first_line,
    scrub,
)
from monitor.probes.base import Observation, ProbeFailure, ProbeOptions
from monitor.values.durations import format_duration
from monitor.values.secrets import has_placeholder


class Measure(StrEnum):
    FRESHNESS = "freshness"
    ERROR_RATE = "error_rate"
    LATENCY = "latency"
    AVAILABILITY = "availability"


class Aggregation(StrEnum):
    TOTAL = "total"
    COUNT = "count"
    AVERAGE = "average"
    MINIMUM = "minimum"
    MAXIMUM = "maximum"


# the time grains Azure Monitor keeps platform metrics at
GRAINS = tuple(timedelta(minutes=m) for m in (1, 5, 15, 30, 60, 360, 720, 1440))
DEFAULT_LOOKBACK = {Measure.FRESHNESS: timedelta(hours=3), Measure.LATENCY: timedelta(minutes=15),
                    Measure.AVAILABILITY: timedelta(minutes=15)}  # error_rate: the port's interval
DEFAULT_AGGREGATION = {Measure.FRESHNESS: Aggregation.TOTAL, Measure.ERROR_RATE: Aggregation.TOTAL,
                       Measure.LATENCY: Aggregation.AVERAGE, Measure.AVAILABILITY: Aggregation.AVERAGE}

EVENT_HUBS, STORAGE, DATA_FACTORY = ("Microsoft.EventHub/namespaces",
                                     "Microsoft.Storage/storageAccounts",
                                     "Microsoft.DataFactory/factories")
PRESETS: dict[str, dict[str, Any]] = {
    "event_hub_freshness": {"namespace": EVENT_HUBS, "measure": Measure.FRESHNESS,
                            "metric": "IncomingMessages"},
    "event_hub_errors": {"namespace": EVENT_HUBS, "measure": Measure.ERROR_RATE,
                         "total_metric": "IncomingRequests",
                         "failed_metrics": ["ServerErrors", "UserErrors"]},
    "storage_availability": {"namespace": STORAGE, "measure": Measure.AVAILABILITY,
                             "metric": "Availability"},
    "storage_latency": {"namespace": STORAGE, "measure": Measure.LATENCY,
                        "metric": "SuccessE2ELatency"},
    "data_factory_failed_runs": {"namespace": DATA_FACTORY, "measure": Measure.ERROR_RATE,
                                 "succeeded_metrics": ["PipelineSucceededRuns"],
                                 "failed_metrics": ["PipelineFailedRuns"]},
}
_PRESET_FIELDS = ("measure", "metric", "total_metric", "succeeded_metrics", "failed_metrics")
_RESOURCE_ID = re.compile(r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/(?P<provider>[^/]+)"
                          r"/(?P<path>[^/]+/[^/]+(?:/[^/]+/[^/]+)*)/?", re.IGNORECASE)
_THROTTLE_RETRIES = 3  # at most, and only while each Retry-After ends before the port's timeout


def resource_namespace(resource_id: str) -> str | None:
    """`Microsoft.EventHub/namespaces` of an Event Hubs namespace's id; types of sub-resources
    join on (`Microsoft.Storage/storageAccounts/blobServices`). None when it is no resource id."""
    match = _RESOURCE_ID.fullmatch(resource_id)
    if match is None:
        return None
    types = match["path"].split("/")[::2]
    return "/".join([match["provider"], *types])


class AzureMonitorMetricsProbe(AzureProbe):
    kind = "azure_monitor_metrics"
    samples = False  # each grain aggregates all of its span: the port does not sample

    class Options(ProbeOptions):
        resource_id: str = Field(min_length=1)
        region: str | None = None  # e.g. westeurope: https://westeurope.metrics.monitor.azure.com
        endpoint: str | None = None  # instead of region; plain http only to this machine
        preset: str | None = None
        measure: Measure | None = None
        metric: str | None = None
        total_metric: str | None = None
        succeeded_metrics: list[str] = Field(default_factory=list)
        failed_metrics: list[str] = Field(default_factory=list)
        metric_namespace: str | None = None  # default: the resource id's type
        aggregation: Aggregation | None = None
        filter: str | None = None  # dimensions, e.g. EntityName eq 'cart-events'
        lookback: Duration | None = None
        grain: Duration = timedelta(minutes=1)
        min_availability: float | None = Field(default=None, ge=0, le=100)
        tenant_id: str | None = None  # all three, for a service principal's client secret
        client_id: str | None = None
        client_secret: str | None = None

        @model_validator(mode="before")
        @classmethod
        def _preset_fills_the_metrics(cls, data: Any) -> Any:
            if not isinstance(data, dict) or data.get("preset") is None:
                return data
            preset = PRESETS.get(data["preset"]) if isinstance(data["preset"], str) else None
            if preset is None:
                raise ValueError(f"unknown preset {data['preset']!r} (presets: {', '.join(PRESETS)})")
            given = [name for name in _PRESET_FIELDS if data.get(name) not in (None, [])]
            if given:
                raise ValueError(f"preset {data['preset']} sets {', '.join(given)}: leave "
                                 f"{'it' if len(given) == 1 else 'them'} out, or the preset")
            return {**data, **{k: v for k, v in preset.items() if k != "namespace"}}

        @model_validator(mode="after")
        def _usable(self) -> Self:
            problems = list(self._problems())
            if problems:
                raise ValueError("; ".join(problems))
            return self

        def _problems(self):
            if bool(self.region) == bool(self.endpoint):
                yield ("give region (e.g. westeurope) or endpoint "
                       "(https://westeurope.metrics.monitor.azure.com), not both")
            if self.measure is None:
                yield f"give measure ({', '.join(Measure)}) or a preset ({', '.join(PRESETS)})"
                return
            resolved = not has_placeholder(self.resource_id)
            namespace = resource_namespace(self.resource_id) if resolved else None
            if resolved and namespace is None:
                yield ("resource_id is not an Azure resource id (/subscriptions/…/resourceGroups/…"
                       f"/providers/Namespace/type/name): {self.resource_id!r}")
            expected = PRESETS[self.preset]["namespace"] if self.preset else None
            if namespace and expected and not namespace.lower().startswith(expected.lower()):
                yield f"preset {self.preset} reads a {expected} resource; resource_id is a {namespace}"
            yield from self._metric_problems(self.measure)
            if self.grain not in GRAINS:
                yield (f"grain {format_duration(self.grain)} is not one Azure Monitor keeps "
                       f"(grains: {', '.join(map(format_duration, GRAINS))})")
            if self.lookback is not None and self.lookback < self.grain:
                yield f"lookback {format_duration(self.lookback)} is shorter than one grain"
            secret = (self.tenant_id, self.client_id, self.client_secret)
            if any(secret) and not all(secret):
                yield "a client secret needs all three of tenant_id, client_id and client_secret"

        def _metric_problems(self, measure: Measure):
            if measure is Measure.ERROR_RATE:
                if self.metric:
                    yield ("error_rate reads total_metric (or succeeded_metrics) and failed_metrics, "
                           "not metric")
                if bool(self.total_metric) == bool(self.succeeded_metrics):
                    yield ("error_rate needs exactly one of total_metric (all requests) or "
                           "succeeded_metrics (the good ones; total = succeeded + failed)")
                if not self.failed_metrics:
                    yield "error_rate needs failed_metrics (e.g. [ServerErrors, UserErrors])"
                return
            if not self.metric:
                yield f"{measure} reads one metric: give metric (e.g. {_EXAMPLES.get(measure)})"
            if self.total_metric or self.succeeded_metrics or self.failed_metrics:
                yield f"{measure} reads metric only; total/succeeded/failed metrics are for error_rate"
            if measure is Measure.AVAILABILITY and self.min_availability is None:
                yield ("availability needs min_availability: the lowest value (percent) counted "
                       "as available, e.g. min_availability: 99.9")
            if measure is not Measure.AVAILABILITY and self.min_availability is not None:
                yield "min_availability is for measure availability"

        @property
        def metrics(self) -> list[str]:
            """Every metric the port asks for, each once, in the order given."""
            names = [self.metric, self.total_metric, *self.succeeded_metrics, *self.failed_metrics]
            return list(dict.fromkeys(name for name in names if name))

    options: Options
    _deadline = 0.0  # time.monotonic() when the running check's timeout ends
    _reported_latency: timedelta | None = None  # what a latency port's metric said, this round

    @property
    def lookback(self) -> timedelta:
        measure = self.options.measure
        assert measure is not None  # Options refuses a port without one
        # error_rate by default counts the port's interval, so successive probes count a request once
        return self.options.lookback or DEFAULT_LOOKBACK.get(measure, self.port.interval)

    @property
    def aggregation(self) -> Aggregation:
        assert self.options.measure is not None
        return self.options.aggregation or DEFAULT_AGGREGATION[self.options.measure]

    async def measure(self, slot: int | None = None) -> ProbeResult:
        """A latency port's latency is the one the platform reported (its round trip to the
        metrics endpoint is kept in the details)."""
        self._reported_latency = None
        result = await super().measure(slot)
        if self._reported_latency is None or not result.ok:
            return result
        return replace(result, latency=self._reported_latency,
                       details={**result.details, "round_trip_ms": result.latency_ms})

    async def check(self) -> Observation:
        options = self.options
        self._deadline = time.monotonic() + self.port.timeout.total_seconds()
        namespace = options.metric_namespace or resource_namespace(options.resource_id)
        if namespace is None:
            raise ProbeFailure(ErrorClass.CONFIG, "resource_id is not an Azure resource id")
        end = self.clock()
        answers: list[Any] = []
        try:
            results = await self._metrics_client().query_resources(
                resource_ids=[options.resource_id], metric_namespace=namespace,
                metric_names=options.metrics, timespan=(end - self.lookback, end),
                granularity=options.grain, aggregations=[self.aggregation], filter=options.filter,
                enforce_https=not self._plain_http_allowed(),
                raw_response_hook=lambda answer: answers.append(answer.http_response))
        except ValueError:
            # the SDK cannot read an error page that is not JSON (a proxy's, a gateway's)
            if answers and answers[-1].status_code != 200:
                failure = self._by_status(answers[-1].status_code, "the answer is not JSON")
                raise ProbeFailure(*failure) from None
            raise
        if len(results) != 1:
            raise ProbeFailure(ErrorClass.BAD_PAYLOAD,
                               f"the answer holds {len(results)} resources, not the one asked")
        series = _series(results[0], options.metrics, self.aggregation, _metric_errors(answers))
        if all(one.error for one in series.values()):
            raise ProbeFailure(ErrorClass.BAD_PAYLOAD, "the answer holds no values of " + "; ".join(
                f"{one.name} ({one.error})" for one in series.values()))
        seen = _MEASURES[options.measure](self, series)
        seen.details.update(metric_namespace=namespace, aggregation=str(self.aggregation),
                            lookback=format_duration(self.lookback), grain=format_duration(options.grain))
        return seen

    def _plain_http_allowed(self) -> bool:
        return bearer_over_plain_http(self.endpoint)

    @property
    def endpoint(self) -> str:
        return self.options.endpoint or f"https://{self.options.region}.metrics.monitor.azure.com"

    def _token_credential(self) -> Any:
        options = self.options
        if self._credential is None and options.client_secret:
            from azure.identity.aio import ClientSecretCredential

            assert options.tenant_id and options.client_id  # Options holds all three or none
            self._credential = ClientSecretCredential(options.tenant_id, options.client_id,
                                                      options.client_secret)
            self._owns_credential = True
        return super()._token_credential()

    def _metrics_client(self) -> MetricsClient:
        if self._client is None:
            self._client = MetricsClient(self.endpoint, self._token_credential(),
                                         retry_policy=RetryAfterWithinTimeout(lambda: self._deadline))
        return self._client

    # ---- reading the grains --------------------------------------------------------------------
    def _freshness(self, series: dict[str, Series]) -> Observation:
        [grains] = series.values()
        arrived = [moment for moment, value in grains.values.items() if value is not None and value > 0]
        details = grains.details()
        details["newest_grain"] = max(arrived).isoformat() if arrived else None
        return Observation(newest_data_at=max(arrived) if arrived else None, details=details)

    def _error_rate(self, series: dict[str, Series]) -> Observation:
        options = self.options
        complete = _complete_grains(series.values())
        total_names = [options.total_metric] if options.total_metric else options.succeeded_metrics
        counted = {name: sum(grains.values[moment] or 0 for moment in complete)
                   for name, grains in series.items()}
        failed = round(sum(counted[name] for name in options.failed_metrics))
        total = round(sum(counted[name] for name in total_names))
        if options.succeeded_metrics:
            total += failed
        if failed > total:
            raise ProbeFailure(ErrorClass.BAD_PAYLOAD,
                               f"{' + '.join(options.failed_metrics)} ({failed}) exceed "
                               f"{' + '.join(total_names)} ({total})")
        details = _combined_details(series.values(), complete)
        details["counts"] = {name: _number_shown(value) for name, value in counted.items()}
        return Observation(total=total, failed=failed, details=details)

    def _latency(self, series: dict[str, Series]) -> Observation:
        _, value, details = self._newest_value(series)
        details["value"] = value
        self._reported_latency = timedelta(milliseconds=value)
        return Observation(details=details)

    def _availability(self, series: dict[str, Series]) -> Observation:
        moment, value, details = self._newest_value(series)
        details.update(value=value, min_availability=self.options.min_availability)
        seen = Observation(details=details)
        bound = self.options.min_availability
        assert bound is not None  # Options refuses availability without it
        if value < bound:
            raise ProbeFailure(ErrorClass.REPORTED_UNAVAILABLE,
                               f"{self.options.metric} {_number_shown(value)}% < {_number_shown(bound)}%"
                               f" at {moment.isoformat()}", seen)
        return seen

    def _newest_value(self, series: dict[str, Series]) -> tuple[datetime, float, dict[str, Any]]:
        [grains] = series.values()
        reported = [(moment, value) for moment, value in grains.values.items() if value is not None]
        details = grains.details()
        if not reported:
            raise ProbeFailure(ErrorClass.BAD_PAYLOAD,
                               f"{grains.name} reported no value in the last "
                               f"{format_duration(self.lookback)} ({len(grains.values)} grains, all empty)",
                               Observation(details=details))
        moment, value = max(reported)
        details["newest_grain"] = moment.isoformat()
        return moment, value, details

    # ---- failures ------------------------------------------------------------------------------
    def classify(self, error: BaseException) -> tuple[ErrorClass, str]:
        error_class, message = self._read(error)
        return error_class, scrub(message, [self.options.client_secret])

    def _read(self, error: BaseException) -> tuple[ErrorClass, str]:
        status = getattr(error, "status_code", None)
        if isinstance(error, HttpResponseError) and status is not None:
            return self._by_status(status, _service_error(error), error)
        seen = failure_without_status(error)
        return seen if seen is not None else super().classify(error)

    def _by_status(self, status: int, text: str, error: HttpResponseError | None = None
                   ) -> tuple[ErrorClass, str]:
        if status == 429:
            wait = _retry_after(error)
            later = f"; the service asks to retry after {wait}" if wait else ""
            return ErrorClass.THROTTLED, f"throttled (429){later}: {text}"
        if status in (401, 403):
            return ErrorClass.AUTH, f"not authorised ({status}): {text}"
        if status == 400:
            names = ", ".join(self.options.metrics)
            return ErrorClass.CONFIG, f"metric {names} rejected (400): {text}"
        if status == 404:
            return ErrorClass.QUERY_ERROR, f"resource not found (404): {text}"
        return ErrorClass.HTTP_STATUS, f"HTTP {status}: {text}"


_EXAMPLES = {Measure.FRESHNESS: "IncomingMessages", Measure.LATENCY: "SuccessE2ELatency",
             Measure.AVAILABILITY: "Availability"}
_MEASURES: dict[Measure | None, Callable[[AzureMonitorMetricsProbe, dict[str, Series]], Observation]] = {
    Measure.FRESHNESS: AzureMonitorMetricsProbe._freshness,
    Measure.ERROR_RATE: AzureMonitorMetricsProbe._error_rate,
    Measure.LATENCY: AzureMonitorMetricsProbe._latency,
    Measure.AVAILABILITY: AzureMonitorMetricsProbe._availability,
}


class RetryAfterWithinTimeout(AsyncRetryPolicy):
    """azure-core's retry of a throttled request after its Retry-After, taken only when the wait
    ends before the probe's deadline; otherwise the 429 is the answer (a throttled measurement).
    Nothing else is retried: the scheduler's next round is the retry."""

    def __init__(self, deadline: Callable[[], float]):
        super().__init__(retry_total=_THROTTLE_RETRIES, retry_connect=0, retry_read=0,
                         retry_status=_THROTTLE_RETRIES, retry_backoff_factor=0)
        self._deadline = deadline

    def is_retry(self, settings: dict[str, Any], response: Any) -> bool:
        if response.http_response.status_code != 429:
            return False
        wait = self.get_retry_after(response)
        return wait is not None and time.monotonic() + wait < self._deadline()


class Series:
    """One metric's values by grain start, combined across its time series (dimension values)."""

    def __init__(self, name: str, values: dict[datetime, float | None], error: str | None = None):
        self.name = name
        self.values = dict(sorted(values.items()))
        self.error = error

    @property
    def newest_reported(self) -> datetime | None:
        return max((moment for moment, value in self.values.items() if value is not None), default=None)

    def missing(self, until: datetime | None) -> list[datetime]:
        """Grains without a value up to `until` (gaps, not the trailing ones not reported yet)."""
        return [moment for moment, value in self.values.items()
                if value is None and until is not None and moment < until]

    def details(self) -> dict[str, Any]:
        return _combined_details([self], {m for m, v in self.values.items() if v is not None})


def _combined_details(series: Any, complete: set[datetime]) -> dict[str, Any]:
    """What the answer held: grains, those counted, the trailing ones not reported yet, and the
    gaps (per metric) that make the result partial."""
    series = list(series)
    moments = sorted({moment for one in series for moment in one.values})
    newest = max(complete, default=None)
    missing = {one.name: len(one.missing(newest)) for one in series if one.missing(newest)}
    details: dict[str, Any] = {
        "grains": len(moments), "grains_counted": len(complete),
        "pending_grains": len([m for m in moments if newest is None or m > newest])}
    errors = {one.name: one.error for one in series if one.error}
    if missing or errors:
        details.update(partial=True, missing_grains=missing)
    if errors:
        details["metric_errors"] = errors
    return details


def _complete_grains(series: Any) -> set[datetime]:
    """The grains where every metric has a value: only those are counted, never a guessed one."""
    series = list(series)
    moments = set.intersection(*({m for m, v in one.values.items() if v is not None} for one in series))
    return moments


def _series(result: Any, names: list[str], aggregation: Aggregation,
            errors: dict[str, str]) -> dict[str, Series]:
    """Each asked metric's values by grain, from a MetricsQueryResult; a metric the answer lacks
    has no values (and the service's per-metric error, when it gave one)."""
    by_name = {metric.name.lower(): metric for metric in result.metrics}
    series = {}
    for name in names:
        metric = by_name.get(name.lower())
        values: dict[datetime, float | None] = {}
        for timeseries in (metric.timeseries if metric is not None else []):
            for point in timeseries.data:
                values[point.timestamp] = _combine(aggregation, values.get(point.timestamp),
                                                   getattr(point, aggregation.value))
        error = errors.get(name.lower()) or (None if metric is not None else "not in the answer")
        series[name] = Series(name, values, error)
    return series


def _combine(aggregation: Aggregation, seen: float | None, value: float | None) -> float | None:
    """Several time series of one metric (a filter matching several dimension values) at one grain:
    counts add up; of averages and extremes the worst is kept (the largest latency, the lowest
    availability are the ones an objective is about — maximum for max, minimum for min)."""
    if value is None or seen is None:
        return seen if value is None else value
    if aggregation in (Aggregation.TOTAL, Aggregation.COUNT):
        return seen + value
    if aggregation is Aggregation.MAXIMUM:
        return max(seen, value)
    return min(seen, value) if aggregation is Aggregation.MINIMUM else max(seen, value)


def _metric_errors(answers: list[Any]) -> dict[str, str]:
    """The batch answer's per-metric failures (`errorCode` other than Success), which the SDK's
    result model leaves out."""
    try:
        body = json.loads(answers[-1].text()) if answers else {}
    except Exception:  # noqa: BLE001 - the SDK reads the body itself and reports what it cannot
        return {}
    errors = {}
    for resource in body.get("values") or []:
        for metric in resource.get("value") or []:
            code = metric.get("errorCode")
            if code and code != "Success":
                name = str((metric.get("name") or {}).get("value", "")).lower()
                errors[name] = first_line(f"{code}: {metric.get('errorMessage') or ''}".rstrip(": "))
    return errors


def _retry_after(error: HttpResponseError | None) -> str | None:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None) or {}
    wait = headers.get("Retry-After")
    if wait is None:
        return None
    return f"{wait}s" if str(wait).isdigit() else str(wait)


def _service_error(error: HttpResponseError) -> str:
    """`Code: message` of the service's error (`{"error": {...}}`, or ARM's bare `{code, message}`)."""
    try:
        body = json.loads(error.response.text()) if error.response is not None else None
    except Exception:  # noqa: BLE001 - not JSON: fall back to the status line
        body = None
    if isinstance(body, dict):
        inner = body["error"] if isinstance(body.get("error"), dict) else body
        code, message = inner.get("code"), inner.get("message")
        if message:
            return scrub(f"{code}: {first_line(str(message))}" if code else first_line(str(message)))
    return scrub(first_line(error.reason or error.message or ""))


def _number_shown(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 3)
