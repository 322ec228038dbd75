"""The write buffer: probe results wait here until a flush writes them to the store."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from monitor.contracts.model import DataProduct
from monitor.evaluation.indicators import events_from_result
from monitor.store.events import record_events
from monitor.store.measurements import record_probe_results

log = logging.getLogger("meshwatch.collector")
PortKey = tuple[str, str]  # (product id, port name)


@dataclass
class FlushResult:
    written: int = 0
    pending: int = 0
    error: str | None = None


class MeasurementBuffer:
    """Results wait here until a flush writes them in one transaction. A failed flush keeps them
    (up to `capacity`, then the oldest go, counted and logged) so a database that goes away does
    not lose measurements."""

    def __init__(self, engine: Engine, capacity: int = 500_000):
        self.engine = engine
        self.products: dict[str, DataProduct] = {}
        self._pending: deque = deque()
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self.capacity = capacity
        self.dropped = 0
        self.failed_writes = 0  # flushes the store refused (each one retried later)
        self.last_error: str | None = None

    def add(self, result) -> None:
        with self._lock:
            if len(self._pending) >= self.capacity:
                self._pending.popleft()
                self.dropped += 1
            self._pending.append(result)

    def __len__(self) -> int:
        return len(self._pending)

    def flush(self) -> FlushResult:
        """Write everything buffered; on failure put it back and report why (never raises)."""
        with self._flushing:
            with self._lock:
                batch = list(self._pending)
                self._pending.clear()
            if not batch:
                return FlushResult()
            try:
                with self.engine.begin() as connection:
                    record_probe_results(connection, batch)
                    record_events(connection, self._events(batch))
            except (SQLAlchemyError, OSError) as error:
                with self._lock:
                    self._pending.extendleft(reversed(batch))
                self.failed_writes += 1
                message = f"cannot write {len(batch)} measurement(s): {_reason(error)}"
                if message != self.last_error:
                    log.error("%s; keeping them to retry", message)
                self.last_error = message
                return FlushResult(0, len(self._pending), message)
            if self.last_error:
                log.info("store writable again; wrote %d buffered measurement(s)", len(batch))
                self.last_error = None
            return FlushResult(len(batch), len(self._pending))

    def _events(self, results: Iterable) -> Iterable:
        for result in results:
            product = self.products.get(result.product)
            if product is not None:
                yield from events_from_result(product, result)


def _reason(error: BaseException) -> str:
    original = getattr(error, "orig", None)
    return str(original or error).strip().splitlines()[0]
