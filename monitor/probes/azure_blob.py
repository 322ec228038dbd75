"""Azure Blob Storage ports: list a container (under a prefix) and report its newest blob.

Availability and latency are those of the listing; freshness is the newest blob's last_modified.
`volume: {per: 1d, unit: bytes | blobs}` counts what landed in the last `per`: the sizes (or the
number) of the blobs modified since then. A listing cut at `max_blobs` knows no volume.
A container that does not exist is a `query_error`: the account answered, but what the port
names is not there (a deleted or misspelt container), which is not the same as a broken reply.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, Self
from urllib.parse import urlsplit

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from azure.storage.blob.aio import ContainerClient
from pydantic import Field, model_validator

from monitor.contracts.results import ErrorClass, Volume
from monitor.probes.azure import AzureProbe, first_line, scrub, transport_failure
from monitor.probes.base import Observation, ProbeFailure, ProbeOptions, VolumeOptions
from monitor.values.volumes import VolumeUnit

_LARGEST_PAGE = 5000  # the service's maximum results per listing page


class BlobVolume(VolumeOptions):
    """`volume:` of a blob port: the bytes (or blobs) modified in the last `per`."""

    unit: Literal["bytes", "blobs"] = "bytes"


class AzureBlobProbe(AzureProbe):
    kind = "azure_blob"

    class Options(ProbeOptions):
        connection_string: str | None = None
        account_url: str | None = None  # with DefaultAzureCredential (or the credential passed in)
        container: str
        prefix: str = ""
        max_blobs: int = Field(default=5000, ge=1)
        volume: BlobVolume | None = None

        @model_validator(mode="after")
        def _exactly_one_way_in(self) -> Self:
            if bool(self.connection_string) == bool(self.account_url):
                raise ValueError("give exactly one of connection_string or account_url")
            return self

    options: Options

    async def check(self) -> Observation:
        container = self._container_client()
        newest: Any = None
        count, truncated = 0, False
        spec = self.options.volume
        since = self.clock() - spec.per if spec else None
        landed = landed_bytes = 0
        # one more than max_blobs per page tells whether the listing had more, at no extra request
        pages = min(self.options.max_blobs + 1, _LARGEST_PAGE)
        async for blob in container.list_blobs(name_starts_with=self.options.prefix or None,
                                               results_per_page=pages):
            if count == self.options.max_blobs:
                truncated = True
                break
            count += 1
            if since is not None and _as_utc(blob.last_modified) >= since:
                landed, landed_bytes = landed + 1, landed_bytes + (blob.size or 0)
            if newest is None or (blob.last_modified, blob.name) > (newest.last_modified, newest.name):
                newest = blob
        details = {"blob_count": count, "truncated": truncated,
                   "newest_blob": newest.name if newest else None,
                   "newest_size": newest.size if newest else None}
        volume = None
        if spec is not None and truncated:
            details["volume_unknown"] = (f"the listing stopped at max_blobs ({self.options.max_blobs}"
                                         f"): what landed is not known")
        elif spec is not None:
            volume = (Volume(landed_bytes, VolumeUnit.BYTES, spec.per) if spec.unit == "bytes"
                      else Volume(landed, VolumeUnit.BLOBS, spec.per))
        return Observation(newest_data_at=_as_utc(newest.last_modified) if newest else None,
                           details=details, volume=volume)

    def _container_client(self) -> ContainerClient:
        if self._client is None:
            try:
                self._client = self._open_client()
            except ValueError as error:  # a malformed connection string, a token over plain http
                raise ProbeFailure(ErrorClass.CONFIG, self._scrub(str(error))) from None
        return self._client

    def _open_client(self) -> ContainerClient:
        # one listing per probe round, no retries: the scheduler's next round is the retry
        if self.options.connection_string:
            return ContainerClient.from_connection_string(
                self.options.connection_string, self.options.container, retry_total=0)
        account_url = self.options.account_url
        assert account_url  # Options holds exactly one way in: no connection string, so an account URL
        if _has_sas(account_url):
            return ContainerClient(account_url, self.options.container, retry_total=0)
        return ContainerClient(account_url, self.options.container,
                               credential=self._token_credential(), retry_total=0)

    def classify(self, error: BaseException) -> tuple[ErrorClass, str]:
        error_class, message = self._read(error)
        return error_class, self._scrub(message)

    def _read(self, error: BaseException) -> tuple[ErrorClass, str]:
        if isinstance(error, ResourceNotFoundError):
            if _code(error) == "ContainerNotFound":
                return ErrorClass.QUERY_ERROR, f"container {self.options.container!r} not found"
            return ErrorClass.QUERY_ERROR, _status_message(error)
        if isinstance(error, ClientAuthenticationError):
            return ErrorClass.AUTH, f"authentication failed: {_status_message(error)}"
        if isinstance(error, HttpResponseError) and error.status_code in (401, 403):
            return ErrorClass.AUTH, f"not authorised: {_status_message(error)}"
        if isinstance(error, HttpResponseError) and error.status_code is not None:
            return ErrorClass.HTTP_STATUS, _status_message(error)
        seen = transport_failure(error)
        if seen is not None:
            return seen
        return super().classify(error)

    def _scrub(self, text: str) -> str:
        return scrub(text, [self.options.connection_string, *_account_keys(self.options.connection_string)])


def _code(error: HttpResponseError) -> str | None:
    code = getattr(error, "error_code", None) or getattr(error.response, "headers", {}).get(
        "x-ms-error-code")
    return getattr(code, "value", code)  # the SDK gives a StorageErrorCode enum or a plain str


def _status_message(error: BaseException) -> str:
    if not isinstance(error, HttpResponseError) or error.status_code is None:
        return first_line(str(error)) or type(error).__name__
    code = _code(error)
    reason = first_line(error.message or error.reason or "")
    return " ".join(part for part in (str(error.status_code), code and f"({code})", reason) if part)


def _account_keys(connection_string: str | None) -> list[str]:
    if not connection_string:
        return []
    settings = dict(part.split("=", 1) for part in connection_string.split(";") if "=" in part)
    return [value for key, value in settings.items()
            if key.strip().lower() in ("accountkey", "sharedaccesssignature")]


def _has_sas(account_url: str | None) -> bool:
    """An account URL that carries a SAS token (`?sv=…&sig=…`) needs no other credential."""
    return "sig=" in urlsplit(account_url or "").query


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
