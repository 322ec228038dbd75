"""The azure_monitor_metrics probe through the real azure-monitor-querymetrics MetricsClient,
against a local stand-in of the metrics data plane that answers
`POST /subscriptions/{id}/metrics:getBatch` in the service's shapes: time grains per metric,
grains without a value, per-metric errors, 429 with Retry-After, 400/401/403/404 error bodies."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web

from monitor.contracts.model import Port
from monitor.contracts.results import ErrorClass, ProbeResult
from monitor.probes import probe_class
from monitor.probes.azure_monitor_metrics import AzureMonitorMetricsProbe
from tests.support.credentials import TOKEN, FakeTokenCredential
from tests.support.ports import free_port
from tests.support.serving import serving

SUBSCRIPTION = "6f1c0f3e-0000-4000-8000-00000000cafe"
GROUP = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/cart"
EVENT_HUBS = f"{GROUP}/providers/Microsoft.EventHub/namespaces/contoso-cart"
STORAGE = f"{GROUP}/providers/Microsoft.Storage/storageAccounts/contosocart"
FACTORY = f"{GROUP}/providers/Microsoft.DataFactory/factories/contoso-cart-adf"
NOW = datetime(2026, 11, 2, 12, 0, 30, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
Grains = list[float | None]  # one metric's values, oldest first, the last one the grain of "now"


@dataclass
class Answer:
    """What the stand-in answers: per metric, the values of the newest grains (older grains of
    the asked timespan get `fill`, as Azure fills count metrics with 0); or an error."""

    values: dict[str, Grains] = field(default_factory=dict)
    fill: float | None = 0.0
    series: int = 1  # time series per metric (a dimension filter matching several values)
    metric_errors: dict[str, str] = field(default_factory=dict)  # name → errorCode
    status: int = 200
    error: dict[str, Any] | None = None
    retry_after: str | None = None
    throttled_times: int = 0  # answer 429 (with retry_after) this many times first
    never: bool = False
    text: str | None = None
    body: dict[str, Any] | None = None  # a 200 answer as given, instead of the grains


@dataclass
class MetricsEndpoint:
    endpoint: str
    requests: list[dict[str, Any]]


def grain_starts(start: datetime, end: datetime, grain: timedelta) -> list[datetime]:
    step = grain.total_seconds()
    first = datetime.fromtimestamp(start.timestamp() // step * step, tz=UTC)
    return [first + grain * i for i in range(int((end - first) / grain) + 1)
            if first + grain * i < end]


def point(moment: datetime, aggregation: str, value: float | None) -> dict[str, Any]:
    shown = {"timeStamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ")}
    return shown if value is None else {**shown, aggregation: value}


def batch_answer(answer: Answer, request: web.Request, resource_ids: list[str]) -> dict[str, Any]:
    query = request.query
    start, end = (datetime.fromisoformat(query[name]) for name in ("starttime", "endtime"))
    grain = timedelta(minutes={"PT1M": 1, "PT5M": 5, "PT15M": 15, "PT1H": 60}[query["interval"]])
    moments = grain_starts(start, end, grain)
    aggregation = query["aggregation"]
    metrics = []
    for name in query["metricnames"].split(","):
        newest = answer.values.get(name, [])
        values = [answer.fill] * (len(moments) - len(newest)) + newest[-len(moments):]
        data = [point(moment, aggregation, value) for moment, value in zip(moments, values, strict=True)]
        metric = {"id": f"{resource_ids[0]}/providers/Microsoft.Insights/metrics/{name}",
                  "type": "Microsoft.Insights/metrics",
                  "name": {"value": name, "localizedValue": name},
                  "displayDescription": f"{name} of the resource", "unit": "Count",
                  "errorCode": "Success",
                  "timeseries": [{"metadatavalues": [], "data": data}] * answer.series}
        if name in answer.metric_errors:
            metric.update(errorCode=answer.metric_errors[name], errorMessage=f"{name} is unavailable",
                          timeseries=[])
        metrics.append(metric)
    return {"values": [{"starttime": query["starttime"], "endtime": query["endtime"],
                        "interval": query["interval"], "namespace": query["metricnamespace"],
                        "resourceregion": "westeurope", "resourceid": resource_ids[0],
                        "value": metrics}]}


@asynccontextmanager
async def metrics_endpoint(answer: Answer) -> AsyncIterator[MetricsEndpoint]:
    requests: list[dict[str, Any]] = []
    release = asyncio.Event()

    async def get_batch(request: web.Request) -> web.Response:
        body = await request.json()
        requests.append({"subscription": request.match_info["subscription"],
                         "query": dict(request.query), "body": body, "at": time.monotonic(),
                         "authorization": request.headers.get("Authorization")})
        if answer.never:
            await release.wait()
        if len(requests) <= answer.throttled_times or answer.status == 429:
            headers = {"Retry-After": answer.retry_after} if answer.retry_after else {}
            return web.json_response({"error": {"code": "TooManyRequests",
                                                "message": "The request was throttled."}},
                                     status=429, headers=headers)
        if answer.text is not None:
            return web.Response(text=answer.text, status=answer.status, content_type="text/html")
        if answer.status != 200:
            return web.json_response(answer.error or {}, status=answer.status)
        if answer.body is not None:
            return web.json_response(answer.body)
        return web.json_response(batch_answer(answer, request, body["resourceids"]))

    app = web.Application()
    app.router.add_post("/subscriptions/{subscription}/metrics:getBatch", get_batch)
    async with serving(app) as url:
        try:
            yield MetricsEndpoint(url, requests)
        finally:
            release.set()  # a request held open answers before the server stops


def run(answer: Answer | None = None, *, timeout: float = 5, credential=None,
        endpoint: Callable[[str], str] = lambda local: local, interval: timedelta = timedelta(minutes=5),
        **options) -> tuple[ProbeResult, list[dict[str, Any]], FakeTokenCredential]:
    """Measure once at NOW against a stand-in giving `answer`: the result, what the service was
    asked, the credential."""
    credential = credential or FakeTokenCredential()
    port = Port("hub", "azure_monitor_metrics", interval=interval, timeout=timedelta(seconds=timeout))
    settings = {"resource_id": EVENT_HUBS, "preset": "event_hub_freshness", **options}

    async def once():
        async with metrics_endpoint(answer or Answer()) as server:
            probe = AzureMonitorMetricsProbe(
                "cart/events", port,
                AzureMonitorMetricsProbe.Options(**settings, endpoint=endpoint(server.endpoint)),
                clock=lambda: NOW, credential=credential)
            try:
                return await probe.measure(), server.requests
            finally:
                await probe.close()

    result, requests = asyncio.run(once())
    return result, requests, credential


def test_the_registry_finds_the_azure_monitor_metrics_kind():
    assert probe_class("azure_monitor_metrics") is AzureMonitorMetricsProbe


def test_event_hub_freshness_is_the_start_of_the_newest_grain_that_received_messages():
    # messages until 11:57, none in the three minutes since
    result, _, _ = run(Answer(values={"IncomingMessages": [40, 12, 3, 0, 0, 0]}))

    assert result.ok, result.error
    assert result.newest_data_at == datetime(2026, 11, 2, 11, 57, tzinfo=UTC)
    assert result.data_age == timedelta(minutes=3, seconds=30)
    assert result.details["newest_grain"] == "2026-11-02T11:57:00+00:00"
    assert result.details["grains"] == 181 and "partial" not in result.details
    assert result.total is None and result.failed is None


def test_the_service_is_asked_the_batch_query_of_the_port_with_a_bearer_token():
    _, requests, credential = run(filter="EntityName eq 'cart-events'")

    [request] = requests
    assert request["subscription"] == SUBSCRIPTION
    assert request["body"] == {"resourceids": [EVENT_HUBS]}
    query = request["query"]
    assert query["metricnamespace"] == "Microsoft.EventHub/namespaces"
    assert query["metricnames"] == "IncomingMessages"
    assert (query["aggregation"], query["interval"]) == ("total", "PT1M")
    assert query["filter"] == "EntityName eq 'cart-events'"
    assert datetime.fromisoformat(query["endtime"]) == NOW
    assert datetime.fromisoformat(query["starttime"]) == NOW - timedelta(hours=3)  # the default lookback
    assert query["api-version"] == "2024-02-01"
    assert request["authorization"] == f"Bearer {TOKEN}"
    assert credential.scopes == [("https://metrics.monitor.azure.com/.default",)]


def test_a_hub_that_received_nothing_in_the_lookback_is_reachable_but_holds_no_data():
    result, _, _ = run(Answer(fill=0.0), lookback="30m")

    assert result.ok
    assert result.newest_data_at is None
    assert result.details["newest_grain"] is None and result.details["lookback"] == "30m"


def test_event_hub_errors_count_server_and_user_errors_against_incoming_requests():
    answer = Answer(values={"IncomingRequests": [100, 120, 90, 110, 80],
                            "ServerErrors": [1, 0, 2, 0, 0], "UserErrors": [0, 3, 0, 0, 1]})

    result, requests, _ = run(answer, preset="event_hub_errors")

    assert result.ok, result.error
    assert (result.total, result.failed) == (500, 7)
    assert result.details["counts"] == {"IncomingRequests": 500, "ServerErrors": 3, "UserErrors": 4}
    assert requests[0]["query"]["metricnames"] == "IncomingRequests,ServerErrors,UserErrors"
    # the lookback defaults to the port's interval: successive probes count each request once
    assert datetime.fromisoformat(requests[0]["query"]["starttime"]) == NOW - timedelta(minutes=5)
    assert "partial" not in result.details


def test_data_factory_failed_runs_count_against_succeeded_plus_failed_runs():
    answer = Answer(values={"PipelineSucceededRuns": [4, 4, 3], "PipelineFailedRuns": [0, 1, 1]})

    result, requests, _ = run(answer, resource_id=FACTORY, preset="data_factory_failed_runs",
                              lookback="1h", grain="15m")

    assert result.ok, result.error
    assert (result.total, result.failed) == (13, 2)
    assert requests[0]["query"]["metricnamespace"] == "Microsoft.DataFactory/factories"
    assert requests[0]["query"]["interval"] == "PT15M"


def test_storage_latency_is_the_latency_the_platform_reported_in_the_newest_grain():
    answer = Answer(values={"SuccessE2ELatency": [18.5, 22.25, None]}, fill=20.0)

    result, requests, _ = run(answer, resource_id=STORAGE, preset="storage_latency")

    assert result.ok, result.error
    assert result.latency == timedelta(milliseconds=22.25)
    assert result.details["value"] == 22.25
    assert result.details["newest_grain"] == "2026-11-02T11:59:00+00:00"
    assert result.details["pending_grains"] == 1 and "partial" not in result.details
    assert result.details["round_trip_ms"] > 0
    assert requests[0]["query"]["aggregation"] == "average"


def test_storage_availability_under_the_bound_is_reported_unavailable():
    healthy, _, _ = run(Answer(values={"Availability": [100.0, 99.95]}), resource_id=STORAGE,
                        preset="storage_availability", min_availability=99.9)
    degraded, _, _ = run(Answer(values={"Availability": [100.0, 98.5]}), resource_id=STORAGE,
                         preset="storage_availability", min_availability=99.9)

    assert healthy.ok and healthy.details["value"] == 99.95
    assert not degraded.ok
    assert degraded.error_class is ErrorClass.REPORTED_UNAVAILABLE
    assert degraded.error == "Availability 98.5% < 99.9% at 2026-11-02T12:00:00+00:00"
    assert degraded.details["value"] == 98.5


def test_a_metric_that_reported_no_value_in_the_lookback_is_no_latency_invented():
    result, _, _ = run(Answer(fill=None), resource_id=STORAGE, preset="storage_latency")

    assert not result.ok
    assert result.error_class is ErrorClass.BAD_PAYLOAD
    assert result.error == "SuccessE2ELatency reported no value in the last 15m (16 grains, all empty)"
    assert result.latency != timedelta(0) and "value" not in result.details


def test_gaps_in_the_grains_make_a_partial_result_that_counts_only_what_was_reported():
    answer = Answer(values={"IncomingRequests": [100, None, 90, 110, None],
                            "ServerErrors": [1, 5, None, 0, 0], "UserErrors": [0, 0, 0, 2, 0]})

    result, _, _ = run(answer, preset="event_hub_errors")

    assert result.ok
    # 11:57 and 11:58 lack a metric; 12:00 is not reported yet: counted 11:55 (0), 11:56, 11:59
    assert (result.total, result.failed) == (210, 3)
    assert result.details["grains"] == 6 and result.details["grains_counted"] == 3
    assert result.details["pending_grains"] == 1
    assert result.details["partial"] is True
    assert result.details["missing_grains"] == {"IncomingRequests": 1, "ServerErrors": 1}


def test_trailing_grains_not_reported_yet_leave_freshness_whole():
    result, _, _ = run(Answer(values={"IncomingMessages": [5, 7, None, None]}, fill=5.0))

    assert result.newest_data_at == datetime(2026, 11, 2, 11, 58, tzinfo=UTC)
    assert result.details["pending_grains"] == 2 and "partial" not in result.details


def test_a_metric_the_service_failed_to_read_is_named_in_a_partial_result():
    answer = Answer(values={"IncomingRequests": [100] * 5, "UserErrors": [1] * 5},
                    metric_errors={"ServerErrors": "InternalError"})

    result, _, _ = run(answer, preset="event_hub_errors")

    assert result.details["partial"] is True
    assert result.details["metric_errors"] == {"ServerErrors": "InternalError: ServerErrors is unavailable"}
    assert (result.total, result.failed) == (0, 0), "no grain has every metric: nothing is counted"


def test_several_time_series_of_a_metric_add_up_their_counts():
    answer = Answer(values={"IncomingRequests": [10] * 5, "ServerErrors": [1] * 5,
                            "UserErrors": [0] * 5}, series=3)

    result, _, _ = run(answer, preset="event_hub_errors", filter="EntityName eq '*'")

    assert (result.total, result.failed) == (150, 15)


def test_a_throttled_request_is_retried_after_retry_after_when_that_fits_the_timeout():
    result, requests, _ = run(Answer(values={"IncomingMessages": [1]}, throttled_times=1,
                                     retry_after="1"), timeout=5)

    assert result.ok, result.error
    assert len(requests) == 2
    assert requests[1]["at"] - requests[0]["at"] >= 0.9, "the SDK waited the Retry-After"


def test_a_retry_after_beyond_the_timeout_is_a_throttled_measurement_at_once():
    began = time.monotonic()
    result, requests, _ = run(Answer(status=429, retry_after="30"), timeout=3)

    assert time.monotonic() - began < 2.5, "no wait the timeout cannot hold"
    assert len(requests) == 1
    assert result.error_class is ErrorClass.THROTTLED
    assert result.error == ("throttled (429); the service asks to retry after 30s: "
                            "TooManyRequests: The request was throttled.")


def test_a_429_without_retry_after_is_throttled_without_a_retry():
    result, requests, _ = run(Answer(status=429))

    assert result.error_class is ErrorClass.THROTTLED and len(requests) == 1
    assert result.error.startswith("throttled (429): ")


def test_an_unknown_metric_is_a_config_error_naming_it():
    error = {"error": {"code": "BadRequest",
                       "message": "Failed to find metric configuration for provider: Microsoft.EventHub, "
                                  "resource Type: namespaces, metric: IncomingMesages, Valid metrics: "
                                  "SuccessfulRequests,ServerErrors,UserErrors,IncomingMessages"}}

    result, _, _ = run(Answer(status=400, error=error), preset=None, measure="freshness",
                       metric="IncomingMesages")

    assert result.error_class is ErrorClass.CONFIG
    assert result.error.startswith("metric IncomingMesages rejected (400): BadRequest: Failed to find "
                                   "metric configuration")


@pytest.mark.parametrize("status", [401, 403])
def test_bad_credentials_are_an_auth_failure_that_never_shows_the_token(status):
    error = {"error": {"code": "AuthorizationFailed",
                       "message": "The client 'meshwatch' does not have authorization to perform action "
                                  "'Microsoft.Insights/metrics/read'"}}

    result, _, _ = run(Answer(status=status, error=error))

    assert result.error_class is ErrorClass.AUTH
    assert result.error.startswith(f"not authorised ({status}): AuthorizationFailed: The client")
    assert TOKEN not in repr(result)


def test_a_credential_that_cannot_get_a_token_is_an_auth_failure():
    from azure.core.exceptions import ClientAuthenticationError

    class NoIdentity(FakeTokenCredential):
        async def get_token_info(self, *scopes, options=None):
            raise ClientAuthenticationError("no managed identity endpoint is available")

    result, requests, _ = run(credential=NoIdentity())

    assert result.error_class is ErrorClass.AUTH
    assert "no managed identity" in result.error
    assert requests == []


def test_a_client_secret_makes_a_service_principal_credential_and_stays_out_of_results():
    from azure.identity.aio import ClientSecretCredential

    port = Port("hub", "azure_monitor_metrics")
    options = AzureMonitorMetricsProbe.Options(
        resource_id=EVENT_HUBS, region="westeurope", preset="event_hub_freshness",
        tenant_id="contoso.onmicrosoft.com", client_id="0000-meshwatch", client_secret="s3cr3t-value-x1")
    probe = AzureMonitorMetricsProbe("cart/events", port, options)

    async def made():
        credential = probe._token_credential()
        await probe.close()
        return credential

    assert isinstance(asyncio.run(made()), ClientSecretCredential)
    assert probe.endpoint == "https://westeurope.metrics.monitor.azure.com"
    error_class, message = probe.classify(ValueError("tenant rejected secret s3cr3t-value-x1"))
    assert "s3cr3t-value-x1" not in message


def test_an_unknown_resource_is_a_query_error():
    error = {"error": {"code": "ResourceNotFound",
                       "message": "The Resource 'Microsoft.EventHub/namespaces/contoso-cart' was not found."}}

    result, _, _ = run(Answer(status=404, error=error))

    assert result.error_class is ErrorClass.QUERY_ERROR
    assert result.error.startswith("resource not found (404): ResourceNotFound")


@pytest.mark.parametrize("status, error_class", [(403, ErrorClass.AUTH), (502, ErrorClass.HTTP_STATUS)])
def test_an_error_page_that_is_not_json_is_still_classified_by_status(status, error_class):
    result, _, _ = run(Answer(status=status, text="<html><body>Bad gateway</body></html>"))

    assert result.error_class is error_class
    assert str(status) in result.error


@pytest.mark.parametrize("body", [{"values": []}, {"values": [{"starttime": "x"}]}, {"tables": []}])
def test_an_answer_without_the_resource_s_metrics_is_a_bad_payload(body):
    result, _, _ = run(Answer(body=body))

    assert result.error_class is ErrorClass.BAD_PAYLOAD, result.error


def test_a_metric_the_service_could_not_read_is_no_stale_data_invented():
    result, _, _ = run(Answer(metric_errors={"IncomingMessages": "InternalError"}))

    assert result.error_class is ErrorClass.BAD_PAYLOAD
    assert result.error == ("the answer holds no values of IncomingMessages "
                            "(InternalError: IncomingMessages is unavailable)")


def test_a_slow_answer_times_out_within_the_port_timeout():
    result, requests, _ = run(Answer(never=True), timeout=0.3)

    assert result.error_class is ErrorClass.TIMEOUT and len(requests) == 1


def test_an_endpoint_where_nothing_listens_is_refused():
    port = free_port()  # bound and released: nothing listens there
    result, _, _ = run(endpoint=lambda _: f"http://127.0.0.1:{port}")

    assert result.error_class is ErrorClass.REFUSED
    assert f"127.0.0.1:{port}" in result.error


def test_a_token_is_never_sent_over_plain_http_to_another_machine():
    result, _, credential = run(endpoint=lambda _: "http://westeurope.metrics.contoso.example")

    assert result.error_class is ErrorClass.CONFIG
    assert "https" in result.error
    assert credential.scopes == []


async def test_the_demo_event_hub_is_fresh_while_cart_s_pipeline_stalls(tmp_path, monkeypatch):
    """The example mesh's hub port against the demo's stand-in: messages keep arriving (the last
    whole minute is the newest reported grain) in the scripted stall of the pipeline as before it."""
    from monitor.config.loading import load_config
    from monitor.demo.credentials import loopback_probe_context
    from monitor.demo.history import simulated_result
    from monitor.demo.standins import StandInPorts, StandIns
    from monitor.probes.factory import build_probe
    from monitor.store import open_store
    from tests.support.repository import ROOT

    ports = StandInPorts(free_port(), free_port(), free_port(), free_port())
    now = datetime.now(UTC)
    standins = StandIns(now - timedelta(minutes=10), tmp_path / "demo", ports)  # inside the stall
    monkeypatch.setenv("CART_METRICS_ENDPOINT", f"http://127.0.0.1:{ports.logs}")
    config = load_config(ROOT / "config")
    cart = config.registry.products["cart/events"]
    [hub] = [port for port in cart.ports if port.name == "hub"]
    engine = open_store(f"sqlite:///{tmp_path / 'meshwatch.db'}")
    await standins._serve(standins._logs_app(), ports.logs)
    try:
        probe = build_probe(cart, hub, engine=engine, context=loopback_probe_context())
        result = await probe.measure()
        await probe.close()
    finally:
        await standins.stop()
        engine.dispose()

    assert result.ok, result.error
    assert timedelta(minutes=1) <= result.data_age < timedelta(minutes=2)
    assert result.details["pending_grains"] == 1 and "partial" not in result.details
    assert standins.behaviour().cart_stalled
    history = simulated_result(cart, hub, now - timedelta(days=3), standins.live_start)
    assert history.data_age is not None and history.data_age < timedelta(minutes=2)
