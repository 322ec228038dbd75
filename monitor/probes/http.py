"""HTTP(S) ports: available when the URL answers with an expected status within the timeout.

The newest data comes from a JSON field of the body (`freshness: {json_path: a.b.c}`) or from a
response header (`freshness: {header: Last-Modified}`). A declared `schema` (`{json_path: items,
fields: {id: integer, amount: number}}`) is compared with the JSON body: each field missing, or of
another JSON type, is a line of `details["schema_mismatch"]` (empty when all match) — never a
failure of the port, a condition of its own (monitor.contracts.schema). Each probe keeps one client session
(keep-alive) for its whole life, created inside the running loop on first use.

What the peer sends is bounded: the body is streamed and at most `max_body` bytes of it (decoded:
gzip, deflate and br are inflated chunk by chunk, so a bomb stops at the cap) are read; the
status line and each header line at most 8,190 bytes, at most 128 header fields. A body over
`max_body` is `too_large` when the probe needs it (a JSON freshness field); otherwise reading
stops at the cap and the port is available (details: `body_truncated`). The connection of an
answer over the cap, or a broken one, is closed instead of kept alive.

| what went wrong                                    | error class  |
| -------------------------------------------------- | ------------ |
| no answer within the port's timeout                | timeout      |
| connection refused, reset or closed before answer  | refused      |
| host name not resolved                             | dns          |
| certificate not trusted, handshake failed          | tls          |
| 401, 403, 407 not listed in `expected_status`      | auth         |
| any other status not in `expected_status`          | http_status  |
| body not JSON, field/header missing, bad timestamp | bad_payload  |
| not HTTP (junk, bad status line or header), body   | protocol     |
| shorter than its Content-Length, broken chunked    |              |
| encoding or compression, cut off mid-answer        |              |
| body over `max_body` (when read for freshness), a  | too_large    |
| header line over 8,190 bytes, over 128 headers     |              |
| URL the client cannot use                          | config       |

Messages never repeat the URL (its query string may hold a key), nor the peer's bytes: they say
what was wrong in words, with at most a short printable excerpt.
"""

from __future__ import annotations

import ast
import json
import re
import socket
from typing import Annotated, Any, Literal

import aiohttp
import yarl
from aiohttp import http_exceptions
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from monitor.contracts.model import Port
from monitor.contracts.results import ErrorClass, Volume
from monitor.contracts.schema import PayloadSchema, TypeFamily, matches, mismatch
from monitor.probes.base import Observation, Probe, ProbeFailure, ProbeOptions, VolumeOptions
from monitor.probes.timestamps import as_utc
from monitor.values.clock import Clock, utc_now
from monitor.values.secrets import bounded, has_placeholder
from monitor.values.volumes import VolumeUnit, parse_amount

AUTH_STATUSES = frozenset({401, 403, 407})
KIB, MIB, GIB = 1024, 1024**2, 1024**3
MAX_BODY = MIB  # the default of max_body
MAX_LINE = 8190  # bytes of the status line and of each header line (aiohttp's default, made explicit)
MAX_HEADERS = 128  # header fields in one answer
_READ = 64 * KIB  # bytes asked of the body stream at a time


def byte_size(value: Any) -> Any:
    """A size in bytes from an int or a text such as `512KiB`, `1MiB`, `2MB` (kB/MB/GB are
    powers of 1000, KiB/MiB/GiB of 1024); anything else is left for the int check to refuse."""
    if isinstance(value, str):
        try:
            amount = parse_amount(value)
        except ValueError:
            amount = None
        if amount is None or amount.unit not in (None, VolumeUnit.BYTES):
            raise ValueError(f"{value!r} is not a size: write bytes (1048576) or a number and a unit "
                             "(B, kB, MB, GB, KiB, MiB, GiB), e.g. 1MiB")
        return amount.value
    return value


ByteSize = Annotated[int, BeforeValidator(byte_size)]


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


class HttpVolume(VolumeOptions):
    """`volume:` of an HTTP port: the count the source reports for the last `per`, a number at
    `json_path` of the JSON body (or the length of the array there)."""

    json_path: str = Field(min_length=1)
    unit: Literal["rows", "items", "bytes"] = "rows"


class HttpOptions(ProbeOptions):
    url: str
    method: Literal["GET", "HEAD", "POST", "PUT", "OPTIONS"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    expected_status: list[int] | None = None  # None: any 2xx
    freshness: FreshnessSource | None = None
    volume: HttpVolume | None = None
    verify_tls: bool = True
    max_connections: int = Field(default=4, ge=1, le=100)  # per host, kept alive between rounds
    max_body: ByteSize = Field(default=MAX_BODY, ge=1, le=GIB, strict=True)  # decoded body bytes read
    declared_schema: PayloadSchema | None = Field(default=None, alias="schema")

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
        self._url: yarl.URL | None = None  # parsed once: a URL's parts are read at every request

    async def check(self) -> Observation:
        options = self.options
        if self._url is None:
            try:
                self._url = yarl.URL(options.url)
            except ValueError:
                raise ProbeFailure(ErrorClass.CONFIG, "the url is not a usable http(s) URL") from None
        async with self._client().request(options.method, self._url) as response:
            expected = self._expected(response.status)
            needed = expected and (options.volume is not None or (
                options.freshness is not None and options.freshness.json_path is not None))
            body, complete = await self._read_body(
                response, keep=needed or (expected and options.declared_schema is not None))
        if not expected:
            error_class = ErrorClass.AUTH if response.status in AUTH_STATUSES else ErrorClass.HTTP_STATUS
            raise ProbeFailure(error_class, f"HTTP {response.status} {_printable(response.reason or '')}"
                               .rstrip() + f" (expected {self._expected_text()})")
        if needed and not complete:
            cap = _size(options.max_body)
            field = "freshness" if options.volume is None else "volume"
            raise ProbeFailure(ErrorClass.TOO_LARGE, f"the body is larger than max_body ({cap}):"
                               f" the JSON {field} field is not read from part of a body")
        details: dict[str, Any] = {"status": response.status}
        if not complete:
            details["body_truncated"] = True
        elif options.declared_schema is not None:  # part of a body says nothing of its fields
            details["schema_mismatch"] = payload_mismatch(options.declared_schema, body)
        return Observation(newest_data_at=self._newest_data_at(response, body), details=details,
                           volume=self._volume(body))

    def _volume(self, body: bytes) -> Volume | None:
        spec = self.options.volume
        if spec is None:
            return None
        value = _field(_document(body), spec.json_path)
        count = len(value) if isinstance(value, list) else value
        if isinstance(count, float) and count.is_integer():
            count = int(count)
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ProbeFailure(ErrorClass.BAD_PAYLOAD, f"field {spec.json_path} is "
                               f"{bounded(repr(value), 60)}, not a count or an array")
        return Volume(count, VolumeUnit(spec.unit), spec.per)

    async def _read_body(self, response: aiohttp.ClientResponse, keep: bool) -> tuple[bytes, bool]:
        """Stream the (decoded) body, reading at most `max_body` bytes, keeping them when `keep`.
        Returns the body kept and whether it was read to its end; an answer over the cap has its
        connection closed rather than kept alive (the rest is never read, nor inflated)."""
        cap, read = self.options.max_body, 0
        chunks: list[bytes] = []
        while True:
            chunk = await response.content.read(min(_READ, cap + 1 - read))
            if not chunk:
                return b"".join(chunks), True
            read += len(chunk)
            if read > cap:
                response.close()
                return b"".join(chunks), False
            if keep:
                chunks.append(chunk)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def classify(self, error: BaseException) -> tuple[ErrorClass, str]:
        malformed = _malformed(error)
        if malformed is not None:
            return malformed
        match error:
            case aiohttp.ClientSSLError():
                return ErrorClass.TLS, f"TLS with {_where(error)} failed: {_reason(error)}"
            case aiohttp.ClientConnectorError() if isinstance(error.os_error, socket.gaierror):
                return ErrorClass.DNS, f"cannot resolve host {error.host}: {_reason(error)}"
            case aiohttp.ClientConnectorError():
                return ErrorClass.REFUSED, f"cannot connect to {_where(error)}: {_reason(error)}"
            case aiohttp.ServerDisconnectedError() if not isinstance(error.message, str):  # a partial head
                return ErrorClass.PROTOCOL, "the server closed the connection in the middle of its answer"
            case aiohttp.ServerDisconnectedError():
                return ErrorClass.REFUSED, "the server closed the connection without answering"
            case aiohttp.ClientPayloadError():
                return ErrorClass.PROTOCOL, "the response body was cut short (the connection ended early)"
            case aiohttp.ClientResponseError():  # any other answer the client could not read
                return ErrorClass.PROTOCOL, f"the answer is not valid HTTP ({type(error).__name__})"
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
                timeout=aiohttp.ClientTimeout(total=None),  # Probe.measure owns the timeout
                max_line_size=MAX_LINE, max_field_size=MAX_LINE, max_headers=MAX_HEADERS,
                read_bufsize=_READ)
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
        assert freshness.json_path is not None  # FreshnessSource holds exactly one of header, json_path
        return _timestamp(_field(_document(body), freshness.json_path), f"field {freshness.json_path}")


def _document(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        start = _excerpt(body)
        raise ProbeFailure(ErrorClass.BAD_PAYLOAD, "the body is not JSON"
                           + (f" (it starts with {start!r})" if start else "")) from None
    except RecursionError:
        raise ProbeFailure(ErrorClass.BAD_PAYLOAD, "the JSON body is nested too deep to read") from None


MAX_RECORDS = 1000  # records of an array compared with the declared fields


def payload_mismatch(schema: PayloadSchema, body: bytes) -> list[str]:
    """Each declared field missing from a record of the body, or of another JSON type (the first
    record that differs speaks for the field); `null` is no type and matches any."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return [mismatch(schema.json_path or "body", "JSON", "not JSON")]
    if schema.json_path is not None:
        try:
            document = _field(document, schema.json_path)
        except ProbeFailure:
            return [mismatch(schema.json_path, "", None)]
    records = document[:MAX_RECORDS] if isinstance(document, list) else [document]
    found = []
    for name, declared in schema.fields.items():
        for record in records:
            try:
                value = _field(record, name)
            except ProbeFailure:
                found.append(mismatch(name, declared, None))
                break
            kind = _json_type(value)
            if kind != "null" and not matches(declared, _JSON_FAMILIES[kind], kind):
                found.append(mismatch(name, declared, kind))
                break
    return found


_JSON_FAMILIES = {
    "boolean": {TypeFamily.BOOLEAN}, "integer": {TypeFamily.INTEGER, TypeFamily.NUMBER},
    "number": {TypeFamily.NUMBER}, "object": {TypeFamily.OBJECT}, "array": {TypeFamily.ARRAY},
    # JSON has no dates: a date or a timestamp travels as a string
    "string": {TypeFamily.STRING, TypeFamily.DATE, TypeFamily.TIMESTAMP, TypeFamily.TIME},
}


def _json_type(value: Any) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "boolean"
        case int():
            return "integer"
        case float():
            return "number"
        case str():
            return "string"
        case dict():
            return "object"
    return "array"


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


def _malformed(error: BaseException) -> tuple[ErrorClass, str] | None:
    """The class and words for an answer aiohttp's parser refused, found in the error's causes
    (a ClientResponseError or ClientPayloadError wraps the parser's own exception)."""
    cause = next((e for e in _causes(error) if isinstance(e, http_exceptions.HttpProcessingError)
                  and type(e) is not http_exceptions.HttpProcessingError), None)
    if cause is None:
        return None
    reason, data = _parser_words(cause)
    start = _excerpt(data)
    starts = f"; it starts with {start!r}" if start else ""
    match cause:
        case http_exceptions.LineTooLong():
            return ErrorClass.TOO_LARGE, f"a line of the answer's head is longer than {MAX_LINE:,} bytes"
        case http_exceptions.BadHttpMessage() if "too many headers" in reason.lower():
            return ErrorClass.TOO_LARGE, f"the answer has more than {MAX_HEADERS} header fields"
        case http_exceptions.DecompressSizeError():
            return ErrorClass.TOO_LARGE, "the compressed body inflates beyond what the client reads"
        case http_exceptions.ContentLengthError():
            return ErrorClass.PROTOCOL, "the body is shorter than its Content-Length header says"
        case http_exceptions.ContentEncodingError():
            return ErrorClass.PROTOCOL, "the body is not valid for its Content-Encoding (bad compression)"
        case http_exceptions.TransferEncodingError():
            return ErrorClass.PROTOCOL, "the body's chunked transfer encoding is malformed"
        case http_exceptions.BadHttpMessage() if "chunk" in reason.lower():
            return ErrorClass.PROTOCOL, f"the body's chunked transfer encoding is malformed ({reason})"
        case http_exceptions.BadStatusLine():
            return ErrorClass.PROTOCOL, f"the answer is not HTTP: no valid status line ({reason}{starts})"
        case http_exceptions.InvalidHeader():
            return ErrorClass.PROTOCOL, "the answer has a malformed header"
    return ErrorClass.PROTOCOL, f"the answer is not valid HTTP ({reason}{starts})"


# llhttp's errors read "<reason>:\n\n  b'<the bytes>'\n  ^", some behind "Bad status line:\n"
_PARSER_ERROR = re.compile(
    r"(?s)^(?:Bad status line:\s*)?(?P<reason>[^\n]*?):?\n\s*\n\s*(?P<data>b(['\"]).*?\3)\s*\n")


def _parser_words(error: http_exceptions.HttpProcessingError) -> tuple[str, bytes]:
    """The parser's reason in words (printable, short) and the bytes it quoted, if any."""
    message = str(error.message or "")
    match = _PARSER_ERROR.match(message)
    if match is not None:
        return _printable(match["reason"]) or type(error).__name__, _as_bytes(match["data"])
    line = getattr(error, "line", None)
    if isinstance(error, http_exceptions.BadStatusLine) and line:
        return "bad status line", _as_bytes(line)
    first = message.split(":", 1)[0].split("\n", 1)[0]
    return _printable(first) or type(error).__name__, b""


def _causes(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and not any(current is known for known in seen) and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _as_bytes(line: Any) -> bytes:
    """The bytes of a status line aiohttp keeps as the repr of bytes (`"b'\\x00...'"`) or as text."""
    if isinstance(line, bytes):
        return line
    text = str(line)
    if text[:2] in ("b'", 'b"'):
        try:
            value = ast.literal_eval(text[:20_000])
        except (ValueError, SyntaxError):
            value = None
        if isinstance(value, bytes):
            return value
    return text.encode("utf-8", "replace")


def _excerpt(data: bytes, limit: int = 40) -> str:
    """The first printable ASCII words of what the peer sent (runs of at least 3 characters),
    at most `limit` characters: enough to recognise it, never its raw bytes."""
    words = " ".join(" ".join(run.decode("ascii").split())
                     for run in re.findall(rb"[\x20-\x7e]{3,}", data[:4096]))
    words = " ".join(words.split())
    return words if len(words) <= limit else words[: limit - 1] + "…"


def _printable(text: str, limit: int = 80) -> str:
    """`text` (a reason phrase, a parser's reason) with only its printable ASCII, on one line."""
    words = " ".join("".join(ch if " " <= ch <= "~" else " " for ch in text[:1000]).split())
    return words if len(words) <= limit else words[: limit - 1] + "…"


def _size(size: int) -> str:
    for unit, name in ((GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")):
        if size % unit == 0:
            return f"{size // unit} {name}"
    return f"{size:,} bytes"


def _where(error: aiohttp.ClientConnectorError) -> str:
    return f"{error.host}:{error.port}"


def _reason(error: aiohttp.ClientConnectorError) -> str:
    reason = error.os_error
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    return (getattr(reason, "verify_message", None) or getattr(reason, "strerror", None)
            or str(reason) or type(reason).__name__)
