"""HTTP(S) ports: available when the URL answers with an expected status within the timeout.

The newest data comes from a JSON field of the body (`freshness: {json_path: a.b.c}`) or from a
response header (`freshness: {header: Last-Modified}`). Each probe keeps one client session
(keep-alive) for its whole life, created inside the running loop on first use.

| what went wrong                                    | error class  |
| -------------------------------------------------- | ------------ |
| no answer within the port's timeout                | timeout      |
| connection refused, reset or closed before answer  | refused      |
| host name not resolved                             | dns          |
| certificate not trusted, handshake failed          | tls          |
| 401, 403, 407 not listed in `expected_status`      | auth         |
| any other status not in `expected_status`          | http_status  |
| body not JSON, field/header missing, bad timestamp | bad_payload  |
| URL the client cannot use                          | config       |

Messages never repeat the URL: its query string may hold a key.
"""

from __future__ import annotations

import json
import socket
from typing import Any, Literal

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.contracts.model import Port
from monitor.contracts.results import ErrorClass
from monitor.probes.base import Observation, Probe, ProbeFailure, ProbeOptions
from monitor.probes.timestamps import as_utc
from monitor.values.clock import Clock, utc_now
from monitor.values.secrets import has_placeholder

AUTH_STATUSES = frozenset({401, 403, 407})


class FreshnessSource(BaseModel):
    """Where the newest-data timestamp is: a JSON field (`a.b.0.c`) or a response header."""

    model_config = ConfigDict(extra="forbid")
    json_path: str | None = Field(default=None, min_length=1)
    header: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _exactly_one(self) -> FreshnessSource:
        if (self.json_path is None) == (self.header is None):
            raise ValueError("give exactly one of json_path or header")
        return self


class HttpOptions(ProbeOptions):
    url: str
    method: Literal["GET", "HEAD", "POST", "PUT", "OPTIONS"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    expected_status: list[int] | None = None  # None: any 2xx
    freshness: FreshnessSource | None = None
    verify_tls: bool = True
    max_connections: int = Field(default=4, ge=1, le=100)  # per host, kept alive between rounds

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not has_placeholder(url) and not url.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return url

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, method: Any) -> Any:
        return method.upper() if isinstance(method, str) else method

    @field_validator("expected_status", mode="before")
    @classmethod
    def _listed(cls, statuses: Any) -> Any:
        return [statuses] if isinstance(statuses, int) else statuses

    @field_validator("expected_status")
    @classmethod
    def _real_statuses(cls, statuses: list[int] | None) -> list[int] | None:
        for status in statuses or []:
            if not 100 <= status <= 599:
                raise ValueError(f"{status} is not an HTTP status (100-599)")
        return statuses


class HttpProbe(Probe):
    kind = "http"
    Options = HttpOptions
    options: HttpOptions

    def __init__(self, product: str, port: Port, options: HttpOptions, clock: Clock = utc_now):
        super().__init__(product, port, options, clock)
        self._session: aiohttp.ClientSession | None = None

    async def check(self) -> Observation:
        options = self.options
        async with self._client().request(options.method, options.url) as response:
            body = await response.read()  # read to the end so the connection is kept alive
        if not self._expected(response.status):
            error_class = ErrorClass.AUTH if response.status in AUTH_STATUSES else ErrorClass.HTTP_STATUS
            raise ProbeFailure(error_class, f"HTTP {response.status} {response.reason or ''}".rstrip()
                               + f" (expected {self._expected_text()})")
        return Observation(newest_data_at=self._newest_data_at(response, body),
                           details={"status": response.status})

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def classify(self, error: BaseException) -> tuple[ErrorClass, str]:
        match error:
            case aiohttp.ClientSSLError():
                return ErrorClass.TLS, f"TLS with {_where(error)} failed: {_reason(error)}"
            case aiohttp.ClientConnectorError() if isinstance(error.os_error, socket.gaierror):
                return ErrorClass.DNS, f"cannot resolve host {error.host}: {_reason(error)}"
            case aiohttp.ClientConnectorError():
                return ErrorClass.REFUSED, f"cannot connect to {_where(error)}: {_reason(error)}"
            case aiohttp.ServerDisconnectedError():
                return ErrorClass.REFUSED, "the server closed the connection without answering"
            case aiohttp.ClientPayloadError():
                return ErrorClass.BAD_PAYLOAD, f"the response body was cut short: {error}"
            case aiohttp.TooManyRedirects():
                return ErrorClass.HTTP_STATUS, "too many redirects"
            case aiohttp.InvalidURL() | aiohttp.NonHttpUrlClientError():
                return ErrorClass.CONFIG, "the url is not a usable http(s) URL"
            case aiohttp.ServerTimeoutError():
                return ErrorClass.TIMEOUT, str(error) or "the server did not answer in time"
            case aiohttp.ClientConnectionError():
                return ErrorClass.REFUSED, f"{type(error).__name__}: {error}"
        return super().classify(error)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=0, limit_per_host=self.options.max_connections,
                                             ssl=self.options.verify_tls)
            self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                headers={"User-Agent": "meshwatch", **self.options.headers},
                timeout=aiohttp.ClientTimeout(total=None))  # Probe.measure owns the timeout
        return self._session

    def _expected(self, status: int) -> bool:
        expected = self.options.expected_status
        return 200 <= status <= 299 if expected is None else status in expected

    def _expected_text(self) -> str:
        expected = self.options.expected_status
        return "2xx" if expected is None else ", ".join(map(str, expected))

    def _newest_data_at(self, response: aiohttp.ClientResponse, body: bytes):
        freshness = self.options.freshness
        if freshness is None:
            return None
        if freshness.header is not None:
            value = response.headers.get(freshness.header)
            if value is None:
                raise ProbeFailure(ErrorClass.BAD_PAYLOAD, f"no {freshness.header} header in the answer")
            return _timestamp(value, f"header {freshness.header}")
        try:
            document = json.loads(body)
        except ValueError:
            raise ProbeFailure(ErrorClass.BAD_PAYLOAD,
                               f"the body is not JSON (starts with {body[:40]!r})") from None
        assert freshness.json_path is not None  # FreshnessSource holds exactly one of header, json_path
        return _timestamp(_field(document, freshness.json_path), f"field {freshness.json_path}")


def _field(document: Any, path: str) -> Any:
    """`a.b.0.c`: keys of objects and indexes of arrays."""
    value = document
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise ProbeFailure(ErrorClass.BAD_PAYLOAD, f"no field {path} in the JSON body")
    return value


def _timestamp(value: Any, where: str):
    try:
        return as_utc(value)
    except ValueError as error:
        raise ProbeFailure(ErrorClass.BAD_PAYLOAD, f"{where}: {error}") from None


def _where(error: aiohttp.ClientConnectorError) -> str:
    return f"{error.host}:{error.port}"


def _reason(error: aiohttp.ClientConnectorError) -> str:
    reason = error.os_error
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    return (getattr(reason, "verify_message", None) or getattr(reason, "strerror", None)
            or str(reason) or type(reason).__name__)
