"""What the Azure probe kinds share: a credential and client kept between rounds, reading the SDK's
failures, and keeping secrets out of messages."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    DecodeError,
    HttpResponseError,
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)

from monitor.contracts.model import Port
from monitor.contracts.results import ErrorClass
from monitor.probes.base import Probe, ProbeFailure, ProbeOptions
from monitor.values.clock import Clock, utc_now
from monitor.values.secrets import redacted, remember


class AzureProbe(Probe):
    """A probe holding one SDK client and, when it made it, a DefaultAzureCredential."""

    def __init__(self, product: str, port: Port, options: ProbeOptions, clock: Clock = utc_now, *,
                 credential: Any = None):
        """`credential` replaces DefaultAzureCredential (an async token credential)."""
        super().__init__(product, port, options, clock)
        self._credential = credential
        self._owns_credential = False
        self._client: Any = None

    def _token_credential(self) -> Any:
        """The credential given, or a DefaultAzureCredential made once and closed with the probe."""
        if self._credential is None:
            from azure.identity.aio import DefaultAzureCredential

            self._credential, self._owns_credential = DefaultAzureCredential(), True
        return self._credential

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._owns_credential:
            await self._credential.close()
            self._credential, self._owns_credential = None, False


_BEARER_OVER_HTTP = "Bearer token authentication is not permitted"
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def bearer_over_plain_http(endpoint: str) -> bool:
    """Whether a bearer token may go to `endpoint` over plain http: only to this machine (a local
    stand-in or tunnel); http to anywhere else is a config failure, https is False."""
    address = urlsplit(endpoint)
    if address.scheme != "http":
        return False
    if address.hostname not in _LOOPBACK:
        raise ProbeFailure(ErrorClass.CONFIG,
                           f"endpoint {address.hostname} is plain http; bearer tokens need https")
    return True


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with `secrets` (now remembered for every later text too), every secret resolved
    before, and anything shaped like a credential (keys, SAS signatures, SharedKey and bearer
    headers) replaced by *** — the one redaction point, `values.secrets`."""
    for secret in secrets:
        remember(secret)
    return redacted(text)


def first_line(text: str, limit: int = 300) -> str:
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def causes(error: BaseException) -> Iterator[BaseException]:
    """The error and what it wraps: `__cause__`/`__context__` and azure-core's `inner_exception`."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        inner = getattr(current, "inner_exception", None)
        pending += [current.__cause__, current.__context__,
                    inner if isinstance(inner, BaseException) else None]


def transport_failure(error: BaseException) -> tuple[ErrorClass, str] | None:
    """How a request failed before an HTTP answer came back, or None when it got one."""
    if isinstance(error, HttpResponseError) and error.status_code is not None:
        return None
    if not isinstance(error, AzureError | OSError | asyncio.TimeoutError | aiohttp.ClientError):
        return None
    for cause in causes(error):
        if _BEARER_OVER_HTTP in str(cause):
            return ErrorClass.CONFIG, "bearer tokens are only sent over https; use an https:// URL"
        if isinstance(cause, aiohttp.ClientConnectorDNSError | socket.gaierror):
            return ErrorClass.DNS, f"name lookup failed for {_host(error)}"
        if isinstance(cause, aiohttp.ClientSSLError | ssl.SSLError):
            return ErrorClass.TLS, f"TLS failed with {_host(error)}: {first_line(str(cause))}"
        if isinstance(cause, ConnectionRefusedError):
            return ErrorClass.REFUSED, f"connection refused by {_host(error)}"
        if isinstance(cause, ServiceRequestTimeoutError | ServiceResponseTimeoutError
                      | aiohttp.ServerTimeoutError | asyncio.TimeoutError):
            return ErrorClass.TIMEOUT, f"no answer from {_host(error)} in time"
    if isinstance(error, ServiceRequestError | ServiceResponseError | OSError | aiohttp.ClientError):
        return ErrorClass.REFUSED, f"connection to {_host(error)} failed: {_describe(error)}"
    return None


def failure_without_status(error: BaseException) -> tuple[ErrorClass, str] | None:
    """How a query client's call failed where no HTTP status says it: the credential got no token
    (the SDK re-raises it as a bare HttpResponseError), the answer was unreadable, or the request
    never got one; None when it is none of these."""
    refused = next((cause for cause in causes(error) if isinstance(cause, ClientAuthenticationError)),
                   None)
    if refused is not None:
        return ErrorClass.AUTH, f"no token: {first_line(str(refused))}"
    if isinstance(error, DecodeError | ValueError | KeyError | TypeError):
        return ErrorClass.BAD_PAYLOAD, f"unreadable answer: {first_line(str(error))}"
    return transport_failure(error)


def _host(error: BaseException) -> str:
    for cause in causes(error):
        if isinstance(cause, aiohttp.ClientConnectorError):
            return f"{cause.host}:{cause.port}"
    return "the service"


def _describe(error: BaseException) -> str:
    innermost = list(causes(error))[-1]
    return first_line(str(innermost)) or type(innermost).__name__
