"""Azure Monitor Log Analytics ports: run a KQL query that counts requests, for the error rate.

The query must return the columns `total` and `failed` (summed over its rows); it may return
`latency_p95` / `latency_ms` (numbers, reported in details) and `newest` (a datetime, the
freshness). A partial result is still a measurement: ok, with details["partial"] = True.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from azure.core.exceptions import HttpResponseError
from azure.monitor.query import LogsQueryError, LogsQueryPartialResult
from azure.monitor.query.aio import LogsQueryClient
from pydantic import BeforeValidator, Field

from monitor.contracts.results import ErrorClass
from monitor.probes.azure import (
    AzureProbe,
    bearer_over_plain_http,
    failure_without_status,
    first_line,
    scrub,
)
from monitor.probes.base import Observation, ProbeFailure, ProbeOptions
from monitor.values.durations import format_duration, parse_duration

PUBLIC_ENDPOINT = "https://api.loganalytics.io/v1"
COUNTS = ("total", "failed")
LATENCIES = ("latency_p95", "latency_ms")

Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class AzureMonitorLogsProbe(AzureProbe):
    kind = "azure_monitor_logs"
    samples = False  # the query counts every request of its timespan

    class Options(ProbeOptions):
        workspace_id: str = Field(min_length=1)
        query: str = Field(min_length=1)
        # default: the port's interval, so that successive probes count each request once
        timespan: Duration | None = None
        endpoint: str = PUBLIC_ENDPOINT

    options: Options

    @property
    def timespan(self) -> timedelta:
        return self.options.timespan or self.port.interval

    async def check(self) -> Observation:
        client = self._logs_client()
        statuses: list[int] = []
        try:
            result = await client.query_workspace(
                self.options.workspace_id, self.options.query, timespan=self.timespan,
                server_timeout=max(1, math.ceil(self.port.timeout.total_seconds())),
                enforce_https=not self._plain_http_allowed(),
                raw_response_hook=lambda answer: statuses.append(answer.http_response.status_code))
        except ValueError:
            # the SDK cannot read an error page that is not JSON (a proxy's, a gateway's)
            if statuses and statuses[-1] != 200:
                raise ProbeFailure(*_by_status(statuses[-1], "the answer is not JSON")) from None
            raise
        if isinstance(result, LogsQueryPartialResult):
            partial_error, tables = result.partial_error, result.partial_data or []
        else:
            partial_error, tables = None, result.tables
        if partial_error is not None and not tables:
            raise ProbeFailure(ErrorClass.QUERY_ERROR, f"query failed: {_error_text(partial_error)}")
        seen = _read_counts(tables)
        seen.details["timespan"] = format_duration(self.timespan)
        if partial_error is not None:
            seen.details.update(partial=True, partial_error=_error_text(partial_error))
        return seen

    def _plain_http_allowed(self) -> bool:
        return bearer_over_plain_http(self.options.endpoint)

    def _logs_client(self) -> LogsQueryClient:
        if self._client is None:
            # one query per probe round, no retries: the scheduler's next round is the retry
            self._client = LogsQueryClient(self._token_credential(), endpoint=self.options.endpoint,
                                           retry_total=0)
        return self._client

    def classify(self, error: BaseException) -> tuple[ErrorClass, str]:
        error_class, message = self._read(error)
        return error_class, scrub(message)

    def _read(self, error: BaseException) -> tuple[ErrorClass, str]:
        status = getattr(error, "status_code", None)
        if isinstance(error, HttpResponseError) and status is not None:
            return _by_status(status, _service_error(error))
        seen = failure_without_status(error)
        return seen if seen is not None else super().classify(error)


def _by_status(status: int, text: str) -> tuple[ErrorClass, str]:
    if status in (401, 403):
        return ErrorClass.AUTH, f"not authorised ({status}): {text}"
    if status in (400, 404):  # a bad query, an unknown workspace
        return ErrorClass.QUERY_ERROR, f"query rejected ({status}): {text}"
    return ErrorClass.HTTP_STATUS, f"HTTP {status}: {text}"


def _read_counts(tables: list[Any]) -> Observation:
    if not tables:
        raise ProbeFailure(ErrorClass.BAD_PAYLOAD, "the query returned no table")
    table = tables[0]
    missing = [name for name in COUNTS if name not in table.columns]
    if missing:
        raise ProbeFailure(ErrorClass.BAD_PAYLOAD,
                           f"the query must return columns total and failed; missing {', '.join(missing)}"
                           f" (got {', '.join(table.columns) or 'none'})")
    total = sum(_count(row, "total") for row in table.rows)
    failed = sum(_count(row, "failed") for row in table.rows)
    if failed > total:
        raise ProbeFailure(ErrorClass.BAD_PAYLOAD, f"failed ({failed}) exceeds total ({total})")
    details: dict[str, Any] = {"rows": len(table.rows)}
    for name in LATENCIES:
        if name in table.columns:
            values = [_number(row, name) for row in table.rows if row[name] is not None]
            details[name] = max(values) if values else None  # across rows, the worst
    newest = None
    if "newest" in table.columns:
        moments = [_moment(row["newest"]) for row in table.rows if row["newest"] is not None]
        newest = max(moments) if moments else None
    return Observation(newest_data_at=newest, total=total, failed=failed, details=details)


def _count(row: Any, column: str) -> int:
    value = row[column]
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 \
            or value != int(value):
        raise ProbeFailure(ErrorClass.BAD_PAYLOAD, f"column {column} is not a count: {value!r}")
    return int(value)


def _number(row: Any, column: str) -> float:
    value = row[column]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProbeFailure(ErrorClass.BAD_PAYLOAD, f"column {column} is not a number: {value!r}")
    return float(value)


def _moment(value: Any) -> datetime:
    if not isinstance(value, datetime):
        raise ProbeFailure(ErrorClass.BAD_PAYLOAD, f"column newest is not a datetime: {value!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _service_error(error: HttpResponseError) -> str:
    """The service's own error, read from the SDK's model or else from the answer's body."""
    if isinstance(error.model, LogsQueryError):
        return _error_text(error.model)
    try:
        body = json.loads(error.response.text()) if error.response is not None else None
    except Exception:  # noqa: BLE001 - not JSON: fall back to the status line
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return _error_text(body["error"])
    return first_line(error.reason or error.message or "")


def _error_text(error: Any) -> str:
    """`Code: message` from a LogsQueryError or the service's error object (innermost message)."""
    if isinstance(error, dict):
        code, inner = error.get("code"), error
        while isinstance(inner.get("innererror"), dict):
            inner = inner["innererror"]
        message = inner.get("message") or error.get("message")
    else:
        code, message = getattr(error, "code", None), getattr(error, "message", None)
    message = first_line(str(message or error))
    return scrub(f"{code}: {message}" if code else message)
