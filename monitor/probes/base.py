"""The probe interface: one class per port kind, each measuring one port and never raising."""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, field_validator

from monitor.contracts.model import Port
from monitor.contracts.results import ErrorClass, ProbeResult, Volume
from monitor.contracts.spec import Duration
from monitor.values.clock import Clock, utc_now
from monitor.values.secrets import safe_text


class ProbeFailure(Exception):
    """Raised inside a probe's `check` to report a classified failure, with what it still saw."""

    def __init__(self, error_class: ErrorClass, message: str,
                 seen: Observation | None = None):
        super().__init__(message)
        self.error_class = error_class
        self.message = message
        self.seen = seen


@dataclass
class Observation:
    """What a successful `check` saw, beyond being reachable."""

    newest_data_at: datetime | None = None
    total: int | None = None
    failed: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    volume: Volume | None = None


class ProbeOptions(BaseModel):
    """Base of every kind's own port settings (the port's YAML keys beyond name/type/interval)."""

    model_config = ConfigDict(extra="forbid")


class VolumeOptions(BaseModel):
    """A port's `volume:` block, the part every kind that counts volume shares: `per`, the
    span before each probe whose arrivals it counts (rolling; default a day)."""

    model_config = ConfigDict(extra="forbid")
    per: Duration = timedelta(days=1)

    @field_validator("per")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value < timedelta(minutes=1):
            raise ValueError("per must be at least 1m")
        return value


class Probe(ABC):
    """Measures one port. Subclasses implement `check`; `measure` adds timing, timeout, safety."""

    kind: str  # the port type measured: each kind's class sets it, UnusablePort takes its port's
    Options: ClassVar[type[ProbeOptions]]
    # True: each probe looks at the port once, as a consumer's query would, so it is probed at
    # least as often as the contract's terms.query_interval (monitor.contracts.terms); False for
    # kinds that hear every run or count every request between probes (heartbeats, logs)
    samples: ClassVar[bool] = True

    def __init__(self, product: str, port: Port, options: ProbeOptions, clock: Clock = utc_now):
        self.product = product
        self.port = port
        self.options = options
        self.clock = clock

    @abstractmethod
    async def check(self) -> Observation:
        """Look at the port once; raise ProbeFailure (or any error) when it is not usable."""

    async def close(self) -> None:  # noqa: B027 - an optional hook, not abstract
        """Release clients and connections held between rounds."""

    def classify(self, error: BaseException) -> tuple[ErrorClass, str]:
        """Map an unexpected exception of this kind's client library to an error class."""
        return ErrorClass.INTERNAL, f"{type(error).__name__}: {error}"

    async def measure(self, slot: int | None = None) -> ProbeResult:
        """Run `check` under the port's timeout, which counts from the moment the probe starts
        (the scheduler starts it when its run is due, never queued behind other probes). Never
        raises; a failure is a measurement, its error text redacted and bounded
        (`values.secrets.safe_text`) whatever the library said. `slot` numbers the scheduled run."""
        started_at = self.clock()
        began = time.perf_counter()
        error_class: ErrorClass | None = None
        message: str | None = None
        seen = Observation()
        try:
            async with asyncio.timeout(self.port.timeout.total_seconds()):
                seen = await self.check()
        except TimeoutError:
            return ProbeResult(self.product, self.port.name, self.kind, started_at, ok=False,
                               error_class=ErrorClass.TIMEOUT, slot=slot,
                               error=f"no answer within {self.port.timeout.total_seconds():g}s")
        except ProbeFailure as failure:
            seen = failure.seen or seen
            error_class, message = failure.error_class, safe_text(failure.message)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - a probe never raises
            error_class, message = self.classify(error)
            message = safe_text(message)
        if error_class is not None:
            return ProbeResult(self.product, self.port.name, self.kind, started_at, ok=False,
                               latency=_since(began), error_class=error_class, error=message,
                               newest_data_at=seen.newest_data_at, details=seen.details, slot=slot)
        return ProbeResult(self.product, self.port.name, self.kind, started_at, ok=True,
                           latency=_since(began), newest_data_at=seen.newest_data_at,
                           total=seen.total, failed=seen.failed, details=seen.details, slot=slot,
                           volume=seen.volume)


def _since(began: float) -> timedelta:
    return timedelta(seconds=time.perf_counter() - began)
