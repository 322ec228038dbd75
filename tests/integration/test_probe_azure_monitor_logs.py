"""The azure_monitor_logs probe through the real azure-monitor-query client, against a local
Log Analytics stand-in that answers `POST /v1/workspaces/{id}/query` as the service does."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from pydantic import ValidationError

from monitor.contracts.model import Port
from monitor.contracts.results import ErrorClass, ProbeResult
from monitor.probes import probe_class
from monitor.probes.azure_monitor_logs import AzureMonitorLogsProbe
from tests.support.credentials import TOKEN, FakeTokenCredential
from tests.support.serving import serving

WORKSPACE = "5d1f1c2e-0000-4000-8000-00000000abcd"
QUERY = ('AppRequests | where AppRoleName == "features-api"'
         " | summarize total=count(), failed=countif(Success == false)")


def table(columns: dict[str, str], *rows: list[Any]) -> dict[str, Any]:
    return {"tables": [{"name": "PrimaryResult",
                        "columns": [{"name": name, "type": kind} for name, kind in columns.items()],
                        "rows": [list(row) for row in rows]}]}


COUNTS = {"total": "long", "failed": "long"}


@dataclass
class Answer:
    status: int = 200
    body: dict[str, Any] = field(default_factory=lambda: table(COUNTS, [1000, 7]))
    never: bool = False  # hold the request open until the client gives up
    text: str | None = None  # a body that is not JSON (a proxy's error page)


@dataclass
class LogAnalytics:
    endpoint: str
    requests: list[dict[str, Any]]


@asynccontextmanager
async def log_analytics(answer: Answer) -> AsyncIterator[LogAnalytics]:
    requests: list[dict[str, Any]] = []
    release = asyncio.Event()

    async def query(request: web.Request) -> web.Response:
        requests.append({"workspace": request.match_info["workspace"], "body": await request.json(),
                         "authorization": request.headers.get("Authorization"),
                         "prefer": request.headers.get("Prefer")})
        if answer.never:
            await release.wait()
        if answer.text is not None:
            return web.Response(text=answer.text, status=answer.status, content_type="text/html")
        return web.json_response(answer.body, status=answer.status)

    app = web.Application()
    app.router.add_post("/v1/workspaces/{workspace}/query", query)
    async with serving(app) as url:
        try:
            yield LogAnalytics(f"{url}/v1", requests)
        finally:
            release.set()  # a request held open answers before the server stops


def run(answer: Answer | None = None, *, timeout: float = 5, credential=None,
        endpoint: Callable[[str], str] = lambda local: local,
        **options) -> tuple[ProbeResult, list[dict[str, Any]], FakeTokenCredential]:
    """Measure once against a stand-in giving `answer`; the result, what it was asked, the credential."""
    credential = credential or FakeTokenCredential()
    port = Port("requests", "azure_monitor_logs", interval=timedelta(minutes=5),
                timeout=timedelta(seconds=timeout))

    async def once():
        async with log_analytics(answer or Answer()) as server:
            settings = {"workspace_id": WORKSPACE, "query": QUERY,
                        "endpoint": endpoint(server.endpoint), **options}
            probe = AzureMonitorLogsProbe("marketing/features", port,
                                          AzureMonitorLogsProbe.Options(**settings),
                                          credential=credential)
            try:
                return await probe.measure(), server.requests
            finally:
                await probe.close()

    result, requests = asyncio.run(once())
    return result, requests, credential


def test_the_registry_finds_the_azure_monitor_logs_kind():
    assert probe_class("azure_monitor_logs") is AzureMonitorLogsProbe


def test_request_counts_become_total_and_failed_of_the_result():
    result, requests, credential = run(Answer(body=table(COUNTS, [1000, 7])))

    assert result.ok and result.error is None
    assert (result.total, result.failed) == (1000, 7)
    assert result.newest_data_at is None
    assert result.details == {"rows": 1, "timespan": "5m"}
    assert result.latency is not None


def test_the_service_receives_the_query_the_timespan_and_a_bearer_token():
    _, requests, credential = run(timespan="PT1H", timeout=7)

    [request] = requests
    assert request["workspace"] == WORKSPACE
    assert request["body"]["query"] == QUERY
    assert request["body"]["timespan"] == "PT3600.0S"
    assert request["authorization"] == f"Bearer {TOKEN}"
    assert request["prefer"] == "wait=7"  # the service gives up when the probe does
    assert credential.scopes and all(scope[0].endswith("/.default") for scope in credential.scopes)


def test_the_timespan_defaults_to_the_port_interval_and_reads_compact_durations():
    _, default, _ = run()
    _, compact, _ = run(timespan="90m")

    assert default[0]["body"]["timespan"] == "PT300.0S"
    assert compact[0]["body"]["timespan"] == "PT5400.0S"


def test_latency_and_newest_columns_land_in_details_and_freshness():
    columns = {**COUNTS, "latency_p95": "real", "latency_ms": "long", "newest": "datetime"}
    body = table(columns, [500, 2, 412.5, 120, "2026-11-02T11:58:30.1234567Z"])

    result, _, _ = run(Answer(body=body))

    assert result.ok
    assert result.details["latency_p95"] == 412.5 and result.details["latency_ms"] == 120.0
    assert result.newest_data_at == datetime(2026, 11, 2, 11, 58, 30, 123456, tzinfo=UTC)


def test_several_rows_are_summed_and_the_newest_and_worst_latency_win():
    columns = {**COUNTS, "latency_p95": "real", "newest": "datetime"}
    body = table(columns, [100, 1, 200.0, "2026-11-02T11:00:00Z"],
                 [50, 4, 350.0, "2026-11-02T11:30:00Z"], [0, 0, None, None])

    result, _, _ = run(Answer(body=body))

    assert (result.total, result.failed, result.details["rows"]) == (150, 5, 3)
    assert result.details["latency_p95"] == 350.0
    assert result.newest_data_at == datetime(2026, 11, 2, 11, 30, tzinfo=UTC)


def test_a_partial_result_is_still_a_measurement_but_says_it_is_partial():
    body = {**table(COUNTS, [800, 3]),
            "error": {"code": "PartialError", "message": "There were some errors when processing your query.",
                      "details": [{"code": "EngineError", "message": "Query exceeded memory"}],
                      "innererror": {
                          "code": "LimitsExceeded",
                          "message": "Query result set has exceeded the internal data size limit"}}}

    result, _, _ = run(Answer(body=body))

    assert result.ok
    assert (result.total, result.failed) == (800, 3)
    assert result.details["partial"] is True
    assert "exceeded the internal data size limit" in result.details["partial_error"]


def test_a_query_the_service_rejects_is_a_query_error_with_its_message():
    body = {"error": {"code": "BadArgumentError", "message": "The request had some invalid properties",
                      "innererror": {"code": "SyntaxError",
                                     "message": "A recognition error occurred in the query.",
                                     "innererror": {"code": "SYN0002",
                                                    "message": "Query could not be parsed at 'summarize'"}}}}

    result, _, _ = run(Answer(status=400, body=body))

    assert not result.ok
    assert result.error_class is ErrorClass.QUERY_ERROR
    assert result.error == "query rejected (400): BadArgumentError: Query could not be parsed at 'summarize'"


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_identity_is_an_auth_failure_that_never_shows_the_token(status):
    body = {"error": {"code": "InsufficientAccessError",
                      "message": "The provided credentials have insufficient access to perform the requested "
                                 "operation"}}

    result, _, _ = run(Answer(status=status, body=body))

    assert result.error_class is ErrorClass.AUTH
    assert result.error.startswith(f"not authorised ({status}): InsufficientAccessError")
    assert TOKEN not in repr(result)


def test_a_401_with_the_service_error_body_reports_its_innermost_message():
    body = {"error": {"code": "AuthorizationRequiredError",
                      "message": "Valid authentication was not provided",
                      "innererror": {"code": "TokenExpired", "message": "The access token has expired"}}}

    result, _, _ = run(Answer(status=401, body=body))

    assert result.error == "not authorised (401): AuthorizationRequiredError: The access token has expired"


@pytest.mark.parametrize("status, error_class", [(403, ErrorClass.AUTH), (502, ErrorClass.HTTP_STATUS)])
def test_an_error_page_that_is_not_json_is_still_classified_by_status(status, error_class):
    result, _, _ = run(Answer(status=status, text="<html><body>Forbidden by proxy</body></html>"))

    assert result.error_class is error_class
    assert str(status) in result.error


def test_a_credential_that_cannot_get_a_token_is_an_auth_failure():
    from azure.core.exceptions import ClientAuthenticationError

    class NoIdentity(FakeTokenCredential):
        async def get_token_info(self, *scopes, options=None):
            raise ClientAuthenticationError("no managed identity endpoint is available")

    result, requests, _ = run(credential=NoIdentity())

    assert result.error_class is ErrorClass.AUTH
    assert "no managed identity" in result.error
    assert requests == []


@pytest.mark.parametrize("columns, row, missing", [
    ({"total": "long"}, [10], "failed"),
    ({"requests": "long", "errors": "long"}, [10, 1], "total, failed"),
])
def test_an_answer_without_the_count_columns_is_a_bad_payload(columns, row, missing):
    result, _, _ = run(Answer(body=table(columns, row)))

    assert result.error_class is ErrorClass.BAD_PAYLOAD
    assert f"missing {missing}" in result.error


@pytest.mark.parametrize("row", [[10, 11], [None, 0], ["ten", 1], [10, -1]])
def test_counts_that_cannot_be_counts_are_a_bad_payload(row):
    result, _, _ = run(Answer(body=table({"total": "dynamic", "failed": "dynamic"}, row)))

    assert result.error_class is ErrorClass.BAD_PAYLOAD


@pytest.mark.parametrize("answer", [Answer(body={"tables": []}), Answer(body={"value": [1, 2]}),
                                    Answer(text="<html>maintenance</html>")])
def test_an_answer_without_a_result_table_is_a_bad_payload(answer):
    result, _, _ = run(answer)

    assert result.error_class is ErrorClass.BAD_PAYLOAD


def test_a_slow_answer_times_out_within_the_port_timeout():
    result, requests, _ = run(Answer(never=True), timeout=0.3)

    assert result.error_class is ErrorClass.TIMEOUT
    assert result.error == "no answer within 0.3s"
    assert len(requests) == 1


def test_a_server_error_is_an_http_status_failure():
    result, _, _ = run(Answer(status=503, body={"error": {"code": "ServiceUnavailable",
                                                          "message": "try later"}}))

    assert result.error_class is ErrorClass.HTTP_STATUS
    assert result.error == "HTTP 503: ServiceUnavailable: try later"


def test_an_endpoint_where_nothing_listens_is_refused():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
    result, _, _ = run(endpoint=lambda _: f"http://127.0.0.1:{port}/v1")

    assert result.error_class is ErrorClass.REFUSED
    assert f"127.0.0.1:{port}" in result.error


def test_a_token_is_never_sent_over_plain_http_to_another_machine():
    result, _, credential = run(endpoint=lambda _: "http://logs.contoso.example/v1")

    assert result.error_class is ErrorClass.CONFIG
    assert "https" in result.error
    assert credential.scopes == []


@pytest.mark.parametrize("options", [
    {"query": QUERY},
    {"workspace_id": WORKSPACE, "query": ""},
    {"workspace_id": WORKSPACE, "query": QUERY, "timespan": "soon"},
    {"workspace_id": WORKSPACE, "query": QUERY, "credential": "x"},
])
def test_options_reject_what_cannot_be_queried(options):
    with pytest.raises(ValidationError):
        AzureMonitorLogsProbe.Options(**options)


def test_options_default_to_the_public_endpoint():
    options = AzureMonitorLogsProbe.Options(workspace_id=WORKSPACE, query=QUERY)

    assert options.endpoint == "https://api.loganalytics.io/v1"
    assert options.timespan is None
    assert json.loads(options.model_dump_json())["query"] == QUERY
