"""The write buffer: probe results wait here until a flush writes them to the store.

Two kinds of failure, told apart by the error:
- the store is away (no connection, locked, read-only): the whole batch is kept and retried at the
  next flush (up to `capacity`, then the oldest go, counted). The outage is logged when it starts
  and when it ends, with what was kept and written — not at every flush.
- the store refuses a row (a value it cannot hold): the batch is split so every other row is
  written, and the row that fails alone is quarantined with its error. It is tried again at the
  next `QUARANTINE_ATTEMPTS - 1` flushes, then dropped and logged; at most `QUARANTINE_LIMIT`
  rows wait in quarantine. Both counts are on `/healthz` and in telemetry.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from monitor.contracts.model import DataProduct
from monitor.contracts.results import ProbeResult
from monitor.evaluation.indicators import events_from_result
from monitor.store.engine import store_error_text
from monitor.store.events import Event, SeriesCache, record_events
from monitor.store.leases import record_skipped
from monitor.store.measurements import RunStoredBefore, record_port_states, record_probe_history
from monitor.values.durations import human_duration
from monitor.values.secrets import bounded

log = logging.getLogger("meshwatch.collector")
PortKey = tuple[str, str]  # (product id, port name)

QUARANTINE_ATTEMPTS = 3  # flushes at which a refused row is tried before it is dropped
QUARANTINE_LIMIT = 1_000  # refused rows held at most; beyond, the oldest is dropped at once
STATE_EVERY = 10.0  # seconds between writes of a port's unchanged state (see StateThrottle)


@dataclass
class FlushResult:
    written: int = 0
    pending: int = 0
    error: str | None = None


@dataclass
class Quarantined:
    """A measurement the store refused on its own, with why, and how often it was tried."""

    result: ProbeResult
    error: str
    attempts: int = 1


@dataclass
class _Outage:
    reason: str
    began: float  # time.monotonic()
    dropped_before: int


@dataclass
class StateThrottle:
    """Which ports' latest states a flush writes: a port whose availability or error class
    changed at once, an unchanged one at most every STATE_EVERY (its time and newest data move
    on in between) — when a flush is asked to throttle, as the daemon's own frequent flushes are;
    every other flush (before an evaluation, at a stop, on demand) writes every port. The newest
    stored result of a port not written yet waits here, so nothing is lost, only delayed."""

    waiting: dict[PortKey, ProbeResult] = field(default_factory=dict)
    written: dict[PortKey, tuple[bool, object, float]] = field(default_factory=dict)

    def due(self, stored: Iterable[ProbeResult], everything: bool
            ) -> tuple[list[ProbeResult], dict[PortKey, ProbeResult]]:
        """The results whose states to write now, and what waits if that write commits."""
        waiting = dict(self.waiting)
        for result in stored:
            key = (result.product, result.port)
            before = waiting.get(key)
            if before is not None:
                if before.started_at > result.started_at:
                    continue
                if result.newest_data_at is None and before.newest_data_at is not None:
                    result = replace(result, newest_data_at=before.newest_data_at)
                if "schema_mismatch" in before.details and "schema_mismatch" not in result.details:
                    # a look that could not compare the schema keeps the findings of the last one
                    result = replace(result, details={
                        **result.details, "schema_mismatch": before.details["schema_mismatch"]})
            waiting[key] = result
        now = time.monotonic()
        due = []
        for key, result in waiting.items():
            last = self.written.get(key)
            if (everything or last is None or last[0] != result.ok or last[1] != result.error_class
                    or now - last[2] >= STATE_EVERY):
                due.append(result)
        return due, waiting

    def wrote(self, due: Iterable[ProbeResult], waiting: dict[PortKey, ProbeResult]) -> None:
        """The write of `due` committed."""
        now = time.monotonic()
        self.waiting = waiting
        for result in due:
            key = (result.product, result.port)
            self.written[key] = (result.ok, result.error_class, now)
            if waiting.get(key) is result:
                del waiting[key]


class StoreAway(Exception):
    """The store could not be reached or written at all: retry the whole batch later."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
        self.unwritten: list[ProbeResult] = []
        self.written = 0  # rows of the batch written before the store went


class MeasurementBuffer:
    """Results wait here until a flush writes them. A flush never raises and never loses a
    measurement silently: see the module's docstring for what happens when the store fails."""

    def __init__(self, engine: Engine, capacity: int = 500_000, timezone: str = "UTC"):
        self.engine = engine
        self.products: dict[str, DataProduct] = {}
        self.timezone = timezone  # the clock of delivery schedules that name no zone (settings)
        self._pending: deque[ProbeResult] = deque()
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self.capacity = capacity
        self.dropped = 0  # measurements dropped because the buffer was full during an outage
        self.failed_writes = 0  # flushes the store refused (each one retried later)
        self.quarantine: deque[Quarantined] = deque()
        self.rejected = 0  # refused rows dropped after QUARANTINE_ATTEMPTS (or a full quarantine)
        self.last_rejection: str | None = None
        self._outage: _Outage | None = None
        self._skipped: Counter[tuple[str, str, int]] = Counter()  # (product, port, minute) → runs
        self._series = SeriesCache()
        self._states = StateThrottle()
        self._every_state = True  # this flush writes the state of every port (see flush)
        # told of the events of each committed write, once each (telemetry's event counters)
        self.on_stored: list[Callable[[Sequence[Event]], None]] = []

    @property
    def last_error(self) -> str | None:
        """Why the store cannot be written now (None while it can)."""
        return None if self._outage is None else self._outage.reason

    def add(self, result: ProbeResult) -> None:
        with self._lock:
            if len(self._pending) >= self.capacity:
                self._pending.popleft()
                if not self.dropped or self.dropped % self.capacity == 0:
                    log.error("write buffer full (%d measurements): dropping the oldest until the "
                              "store is writable again", self.capacity)
                self.dropped += 1
            self._pending.append(result)

    def skip(self, product: str, port: str, minute: int, runs: int = 1) -> None:
        """Count scheduled runs of a port not made (the daemon's overload), written at the next flush."""
        with self._lock:
            self._skipped[(product, port, minute)] += runs

    def _write_skipped(self) -> None:
        with self._lock:
            skipped, self._skipped = self._skipped, Counter()
        if not skipped:
            return
        try:
            with self.engine.begin() as connection:
                record_skipped(connection, skipped)
        except SQLAlchemyError:
            with self._lock:
                self._skipped.update(skipped)  # kept for the next flush; the outage is logged below

    def __len__(self) -> int:
        return len(self._pending)

    def flush(self, throttle_states: bool = False) -> FlushResult:
        """Write everything buffered and retry the quarantine (never raises), and bring every
        port's state up to date — or, with `throttle_states` (the daemon's frequent flushes), only
        the states StateThrottle says are due."""
        with self._flushing:
            self._every_state = all_states = not throttle_states
            self._write_skipped()
            with self._lock:
                batch = list(self._pending)
                self._pending.clear()
            retried = {id(q.result): q for q in self.quarantine}
            self.quarantine.clear()
            if not batch and not retried:
                if all_states and self._states.waiting:
                    with contextlib.suppress(StoreAway, SQLAlchemyError):  # they wait for the next
                        self._write([])
                return FlushResult()
            try:
                written = self._write_around([*batch, *(q.result for q in retried.values())], retried)
            except StoreAway as away:
                unwritten = {id(row) for row in away.unwritten}
                with self._lock:
                    self._pending.extendleft(reversed([r for r in batch if id(r) in unwritten]))
                self.quarantine.extend(q for key, q in retried.items() if key in unwritten)
                self.failed_writes += 1
                self._store_away(away.reason)
                message = f"cannot write {len(self._pending)} measurement(s): {away.reason}"
                return FlushResult(away.written, len(self._pending), message)
            self._store_back(written)
            return FlushResult(written, len(self._pending))

    # ---- writing around refused rows --------------------------------------------------------
    def _write_around(self, rows: list[ProbeResult], retried: dict[int, Quarantined]) -> int:
        """Write `rows`, splitting the batch in halves around rows the store refuses; the number
        written. Raises StoreAway, holding the rows not written, when the store itself fails."""
        parts, written = [rows], 0
        while parts:
            part = parts.pop()
            try:
                self._write(part)
            except StoreAway as away:
                away.unwritten = [row for rest in (*parts, part) for row in rest]
                away.written = written
                raise
            except (SQLAlchemyError, ValueError, TypeError) as error:
                if len(part) == 1:
                    self._refuse(part[0], retried.get(id(part[0])), store_error_text(error))
                else:
                    parts += [part[len(part) // 2:], part[: len(part) // 2]]
            else:
                written += len(part)
        return written

    def _write(self, rows: Sequence[ProbeResult]) -> None:
        try:
            self._write_once(rows, fast=True)
        except RunStoredBefore:  # a hand-over: another worker stored some of these runs
            self._write_once(rows, fast=False)

    def _write_once(self, rows: Sequence[ProbeResult], fast: bool) -> None:
        try:
            try:
                with self.engine.begin() as connection:
                    stored = record_probe_history(connection, rows, fast)
                    states, waiting = self._states.due(stored, self._every_state)
                    record_port_states(connection, states)
                    events = list(self._events(stored))  # only runs no other worker stored
                    record_events(connection, events, cache=self._series)
            except BaseException:
                self._series.discard()
                raise
            self._series.commit()
            self._states.wrote(states, waiting)
            self._tell_stored(events)
        except (OperationalError, InterfaceError, PoolTimeout, OSError) as error:
            raise StoreAway(store_error_text(error)) from error
        except DBAPIError as error:
            if error.connection_invalidated:
                raise StoreAway(store_error_text(error)) from error
            raise

    def _tell_stored(self, events: Sequence[Event]) -> None:
        for observer in self.on_stored:
            try:
                observer(events)
            except Exception:  # noqa: BLE001 - the write committed; an observer cannot undo it
                log.exception("an observer of stored events failed")

    def _refuse(self, result: ProbeResult, before: Quarantined | None, error: str) -> None:
        attempts = 1 if before is None else before.attempts + 1
        where = _port(result)
        if attempts >= QUARANTINE_ATTEMPTS:
            self._reject(result, f"dropped a measurement of {where} the store refused "
                                 f"{attempts} times: {error}")
            return
        if before is None:
            log.warning("the store refused a measurement of %s: %s; the rest of the batch was "
                        "written, this one is quarantined and tried again", where, error)
        self.quarantine.append(Quarantined(result, error, attempts))
        while len(self.quarantine) > QUARANTINE_LIMIT:
            oldest = self.quarantine.popleft()
            self._reject(oldest.result, f"dropped a quarantined measurement of {_port(oldest.result)} "
                                        f"(quarantine full, {QUARANTINE_LIMIT}): {oldest.error}")

    def _reject(self, result: ProbeResult, message: str) -> None:
        self.rejected += 1
        self.last_rejection = message
        log.error("%s", message)

    # ---- outage: one line when it starts, one when it ends ----------------------------------
    def _store_away(self, reason: str) -> None:
        if self._outage is None:
            self._outage = _Outage(reason, time.monotonic(), self.dropped)
            log.error("store not writable: %s; keeping measurements in memory (up to %d) and "
                      "retrying at each flush", reason, self.capacity)

    def _store_back(self, written: int) -> None:
        outage, self._outage = self._outage, None
        if outage is None:
            return
        lost = self.dropped - outage.dropped_before
        took = human_duration(timedelta(seconds=time.monotonic() - outage.began))
        log.info("store writable again after %s: wrote %d measurement(s) kept meanwhile%s", took,
                 written, f"; {lost} dropped (the buffer was full)" if lost else "; none lost")

    def _events(self, results: Iterable[ProbeResult]) -> Iterable:
        for result in results:
            product = self.products.get(result.product)
            if product is not None:
                yield from events_from_result(product, result, self.timezone)


def _port(result: ProbeResult) -> str:
    return bounded(f"{result.product}/{result.port}", 80)
