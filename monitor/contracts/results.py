"""What measuring a port gives: a ProbeResult, with the class of its error. Probes make them,
the store records them, evaluation turns them into events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from monitor.values.volumes import VolumeUnit


class ErrorClass(StrEnum):
    TIMEOUT = "timeout"
    REFUSED = "refused"
    DNS = "dns"
    TLS = "tls"
    HTTP_STATUS = "http_status"
    BAD_PAYLOAD = "bad_payload"  # a well-formed answer whose content is not what the port promised
    PROTOCOL = "protocol"  # not the protocol at all: junk, a bad status line, a lying length, bad encoding
    TOO_LARGE = "too_large"  # an answer (body, header) over the bound the probe reads
    AUTH = "auth"
    THROTTLED = "throttled"  # the service asked to be asked later (429) beyond the probe's timeout
    REPORTED_UNAVAILABLE = "reported_unavailable"  # the resource's own metric says so (below a bound)
    QUERY_ERROR = "query_error"
    CONFIG = "config"  # e.g. a secret that is not set
    INTERNAL = "internal"  # a bug in a probe: reported, never raised


@dataclass(frozen=True)
class Volume:
    """How much the port received in the `per` before the probe: rows, bytes, blobs or items."""

    amount: int
    unit: VolumeUnit
    per: timedelta


@dataclass(frozen=True)
class ProbeResult:
    """One measurement of one port. `ok` is availability; the rest feeds the other indicators."""

    product: str
    port: str
    kind: str
    started_at: datetime
    ok: bool
    latency: timedelta | None = None
    newest_data_at: datetime | None = None
    total: int | None = None  # requests counted by the source (error rate)
    failed: int | None = None
    details: dict[str, Any] = field(default_factory=dict)  # e.g. row_count, newest_blob
    error_class: ErrorClass | None = None
    error: str | None = None
    slot: int | None = None  # the scheduled run it answers (None for a run on demand)
    volume: Volume | None = None  # what the port received lately, where it counts that

    @property
    def data_age(self) -> timedelta | None:
        """How old the newest data was when the probe ran; None when it saw no data."""
        return data_age(self.newest_data_at, self.started_at)

    @property
    def latency_ms(self) -> float | None:
        return None if self.latency is None else self.latency.total_seconds() * 1000


def data_age(newest_data_at: datetime | None, at: datetime) -> timedelta | None:
    """The age of data whose newest timestamp is `newest_data_at`, seen at `at` (the one home of
    that subtraction: probes, evaluation and the dashboard all ask it)."""
    return None if newest_data_at is None else at - newest_data_at
