"""The collector daemon: a run schedule for every port, batched writes, evaluation after each
round, configuration reloads, shard leases shared with other workers, and a clean stop. Wires
registry → probes → store → evaluator → alerting.

Ports are probed by the daemon's own schedule (a heap of due runs, one task), not by one
APScheduler job each: a run of a port is due at `phase + k·interval` (the phase spread from the
port's name, the same in every worker), and `k` is its slot, stored with the result. A run that
cannot start within its grace — the daemon behind, the port's previous run still going,
`max_in_flight` probes running all along (it waits for a free slot until then), more results
waiting to be written than the store takes (WRITE_BACKLOG) — is skipped and
counted as such (`SkipReason`), as is a timeout while the daemon's own loop was stalled: the
monitor's overload is never an event of the product.
APScheduler runs the daemon's periodic jobs (flush, evaluation, reload, leases, prune); each job
starts a task of the daemon's own, so a stop waits for them instead of cancelling them.

The daemon runs exactly one configuration (`self.config`: settings and contracts, validated
together) and every part reads its settings from it when it needs them. A reload swaps the
whole configuration, or — when `meshwatch.yaml` has problems — none of it (`config_refused`).
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import math
import time
import zlib
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from monitor.config.loading import Config, load_config
from monitor.config.settings import DaemonSettings, Settings
from monitor.contracts import Registry
from monitor.contracts.lineage import Lineage
from monitor.contracts.loader import SETTINGS_FILE, contract_files
from monitor.contracts.model import DataProduct
from monitor.contracts.results import ErrorClass, ProbeResult
from monitor.daemon.buffer import MeasurementBuffer, PortKey
from monitor.daemon.health import Health, Refusal, SkipReason
from monitor.daemon.leases import RENEW, UNSETTLED, Leases
from monitor.daemon.reloading import keep_restart_only
from monitor.evaluation.mesh import LatestEvaluation, ObjectiveEvaluation, evaluate_mesh
from monitor.probes.base import Probe
from monitor.probes.factory import build_probe
from monitor.slo import AlertPolicy
from monitor.store.engine import store_error_text
from monitor.store.partitions import ensure_ahead
from monitor.store.retention import prune
from monitor.store.rollups import minute_bucket
from monitor.values.clock import Clock, utc_now
from monitor.values.secrets import redact

log = logging.getLogger("meshwatch.daemon")
AfterEvaluation = Callable[[Sequence[ObjectiveEvaluation], datetime], object]  # what it returns is unused
Periodic = Callable[[datetime], object]
OnConfig = Callable[[Config], None]

STOP_WITHIN = 8.0  # seconds a stop waits for probes and jobs in flight, at most
STALL = 0.05  # seconds the schedule loop must oversleep to count as a stall of the event loop
STALLED_SHARE = 0.25  # a timeout is the daemon's when stalls took this share of the timeout
# results waiting to be written, the store being writable, beyond which runs are skipped: the
# daemon probes faster than it writes (while the store is away the buffer keeps them all)
WRITE_BACKLOG = 10_000
PRUNE_AFTER_START = timedelta(minutes=1)  # then every hour


@dataclass
class Timing:
    """When a port's runs are due: at `phase + slot·interval` seconds since the epoch. `grace`:
    how late a run may start; later, it is skipped (it would crowd the next one)."""

    interval: float
    phase: float
    generation: int  # entries of an older schedule of the port, still in the heap, are ignored
    grace: float = 0.0

    def __post_init__(self) -> None:
        self.grace = min(max(self.interval / 2, 0.5), 30.0)

    @classmethod
    def of(cls, key: PortKey, interval: float, generation: int) -> Timing:
        # spread the ports over their interval so a thousand of them do not fire in one second;
        # from the name alone, so every worker agrees on the slots
        return cls(interval, (zlib.crc32("/".join(key).encode()) % 10_000) / 10_000 * interval,
                   generation)

    def due(self, slot: int) -> float:
        return self.phase + slot * self.interval

    def next_slot(self, after: float) -> int:
        return math.floor((after - self.phase) / self.interval) + 1


class Daemon:
    def __init__(self, config: Config, engine: Engine, clock: Clock = utc_now,
                 after_evaluation: list[AfterEvaluation] | None = None,
                 probe_context: dict[str, dict] | None = None,
                 periodic: list[tuple[timedelta, Periodic]] | None = None,
                 on_result: list[Callable[[ProbeResult], None]] | None = None,
                 on_config: list[OnConfig] | None = None,
                 load: Callable[[Path], Config] = load_config,
                 leases: Leases | None = None):
        self.config = config  # the one running configuration; replaced whole by `reload`
        self.config_loaded_at = clock()
        self.config_refused: Refusal | None = None  # the last refused change, until a good one
        self.engine = engine
        self.clock = clock
        self.after_evaluation = list(after_evaluation or [])
        self.probe_context = probe_context or {}
        self.periodic = list(periodic or [])
        self.on_result = list(on_result or [])
        self.on_config = list(on_config or [])  # told of each accepted reload, before it applies
        self.load = load
        self.leases = leases  # None: this daemon probes every product (no other worker)
        self.products: dict[str, DataProduct] = {}  # every product of the configuration
        self.probes: dict[PortKey, Probe] = {}  # the ports of the products this worker holds
        self.buffer = MeasurementBuffer(engine)
        self.health = Health(started_at=clock())
        self.latest = LatestEvaluation()  # the reports of the latest round, replaced whole by each
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self._in_flight = 0
        self._running: set[asyncio.Task] = set()  # probes in flight
        self._jobs: dict[str, asyncio.Task] = {}  # periodic jobs in flight, by job id
        self._probing: set[PortKey] = set()
        self._retired: set[Probe] = set()  # unscheduled while a run of it was in flight
        self._semaphore: asyncio.Semaphore | None = None  # bounds `measure_all` only
        self._timings: dict[PortKey, Timing] = {}
        self._due: list[tuple[float, PortKey, int]] = []  # heap of (due time, port, generation)
        self._waiting: deque[tuple[PortKey, int, float]] = deque()  # due, waiting for a free slot
        self._generation = 0
        self._schedule_task: asyncio.Task | None = None
        self._stalls: deque[tuple[float, float]] = deque(maxlen=512)  # (monotonic, seconds) of stalls
        self._failing: dict[PortKey, str] = {}
        self._statuses: dict[tuple[str, str], str] = {}
        self._fingerprint = self._config_fingerprint()
        self._reported_problems: set[str] = set()
        self._stopping = False
        self._reloading = asyncio.Lock()
        self._had_settings_file = (config.directory / SETTINGS_FILE).is_file()

    @property
    def settings(self) -> Settings:
        """The running settings (those of `self.config`)."""
        return self.config.settings

    @property
    def policy(self) -> AlertPolicy:
        """The SLO policy objectives are evaluated with (from `slo:` in the running settings)."""
        return self.settings.slo.policy()

    def owns(self, product: str) -> bool:
        """Whether this worker probes, evaluates and alerts for `product` (its shard's lease)."""
        return self.leases is None or self.leases.owns(product)

    # ---- life cycle -------------------------------------------------------------------------
    async def start(self) -> None:
        if self.leases is not None:
            await asyncio.to_thread(self.leases.renew_now, self._load())
        await asyncio.to_thread(self._partitions_ahead, self.clock())
        self._apply(self.config)
        daemon = self.settings.daemon
        jobs: list[tuple[str, float, Callable[[], Awaitable[object]]]] = [
            ("flush", daemon.flush_interval.total_seconds(), self._flush),
            ("evaluate", daemon.evaluation_interval.total_seconds(), self.evaluate_round),
            ("reload", daemon.reload_interval.total_seconds(), self._watch_config),
            ("prune", 3600.0, self._prune)]
        if self.leases is not None:
            jobs.append(("leases", RENEW.total_seconds(), self._renew_leases))
        for number, (every, action) in enumerate(self.periodic):
            jobs.append((f"periodic:{number}", every.total_seconds(), partial(self._run_periodic, action)))
        first_prune = datetime.now(UTC) + PRUNE_AFTER_START
        for job_id, seconds, run in jobs:
            self.scheduler.add_job(self._start_job, IntervalTrigger(seconds=seconds), args=[job_id, run],
                                   id=job_id, max_instances=1, coalesce=True,
                                   **({"next_run_time": first_prune} if job_id == "prune" else {}))
        self.scheduler.start()
        self._schedule_task = asyncio.get_running_loop().create_task(self._run_schedule())
        log.info("monitoring %d product(s), %d port(s)%s", len(self.owned()), len(self.probes),
                 f" as worker {self.leases.id} ({len(self.leases.held)} shard(s))"
                 if self.leases is not None else "")
        self._warn_without_contracts()

    async def _start_job(self, job_id: str, run: Callable[[], Awaitable[object]]) -> None:
        """What APScheduler runs: start the job as the daemon's own task (unless the last run of
        it is still going, or the daemon is stopping), so a stop can wait for it to finish."""
        if self._stopping or job_id in self._jobs:
            return

        async def job() -> None:
            try:
                await run()
            except Exception:  # noqa: BLE001 - one failed run of a job must not stop the others
                log.exception("job %s failed", job_id)
            finally:
                self._jobs.pop(job_id, None)

        self._jobs[job_id] = asyncio.get_running_loop().create_task(job())

    async def stop(self) -> None:
        """Stop scheduling, let probes and jobs in flight finish (within STOP_WITHIN), write what
        is buffered, give the shards up, close. Nothing runs after "stopped" is logged."""
        self._stopping = True
        deadline = time.monotonic() + STOP_WITHIN
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._schedule_task is not None:
            self._schedule_task.cancel()
            await asyncio.gather(self._schedule_task, return_exceptions=True)
        if self._running:
            longest = max((p.port.timeout.total_seconds() for p in self.probes.values()), default=0)
            await asyncio.wait(set(self._running), timeout=min(longest + 1, STOP_WITHIN))
        unfinished = [task for task in self._running if not task.done()]
        for task in unfinished:
            task.cancel()  # past its own timeout: nothing it could still return is worth waiting for
        if self._jobs:
            await asyncio.wait(set(self._jobs.values()), timeout=max(0.1, deadline - time.monotonic()))
        report = await asyncio.to_thread(self.buffer.flush)
        if report.pending:
            log.error("stopping with %d measurement(s) not written: %s", report.pending,
                      report.error)
        if self.leases is not None:
            await asyncio.to_thread(self.leases.release_all)
        for probe in [*self.probes.values(), *self._retired]:
            await _close(probe)
        still = [name for name, task in self._jobs.items() if not task.done()]
        log.info("stopped; %d measurement(s) written at stop%s", report.written,
                 f"; job(s) {', '.join(still)} still finishing their database work" if still else "")

    # ---- probes -----------------------------------------------------------------------------
    def owned(self) -> list[DataProduct]:
        """The products this worker holds (every product without leases)."""
        return [product for product in self.products.values() if self.owns(product.id)]

    def _apply(self, config: Config) -> None:
        """Make the scheduled ports match `config`'s products (the last good ones for refused
        files) that this worker holds."""
        refused = config.registry.refused_files
        products = dict(config.registry.products)
        for product in self.products.values():
            if product.source in refused and product.id not in products:
                products[product.id] = product  # keep monitoring the last good version
        for problem in config.problems:
            if str(problem) not in self._reported_problems:
                log.error("configuration problem: %s", problem)
        self._reported_problems = {str(p) for p in config.problems}
        self.products = products
        self.buffer.products = products
        self.buffer.timezone = config.settings.timezone
        self.config = Config(config.directory, config.settings,
                             Registry(products, config.registry.problems), config.problems)
        self._reconcile()

    def _reconcile(self) -> None:
        """Schedule the ports of the products held, and only those."""
        wanted = {(p.id, port.name): (p, port) for p in self.owned() for port in p.ports}
        for key in set(self.probes) - set(wanted):
            self._unschedule(key)
        for key, (product, port) in wanted.items():
            current = self.probes.get(key)
            if current is None or current.port != port:
                if current is not None:
                    self._unschedule(key)
                self._schedule(key, build_probe(product, port, engine=self.engine, clock=self.clock,
                                                context=self.probe_context))

    def scheduled(self, key: PortKey) -> bool:
        return key in self._timings

    def _schedule(self, key: PortKey, probe: Probe) -> None:
        self.probes[key] = probe
        self._generation += 1
        timing = Timing.of(key, probe.port.interval.total_seconds(), self._generation)
        self._timings[key] = timing
        heapq.heappush(self._due, (timing.due(timing.next_slot(time.time())), key, timing.generation))

    def _unschedule(self, key: PortKey) -> None:
        probe = self.probes.pop(key, None)
        self._timings.pop(key, None)  # its entry in the heap is skipped when it comes due
        if probe is None:
            return
        if key in self._probing:  # closed when its run ends: closing it now would fail the run
            self._retired.add(probe)
        else:
            asyncio.get_running_loop().create_task(_close(probe))

    async def _run_schedule(self) -> None:
        """Start every run when it is due (see the module's docstring), until the stop."""
        while not self._stopping:
            now = time.time()
            self._run_waiting(now)
            while self._due and self._due[0][0] <= now:
                due, key, generation = heapq.heappop(self._due)
                timing = self._timings.get(key)
                if timing is None or timing.generation != generation:
                    continue  # unscheduled, or scheduled again with another interval
                slot = round((due - timing.phase) / timing.interval)
                self._run_due(key, timing, slot, due, now)
                following = slot + 1
                if timing.due(following) + timing.grace < now:  # far behind: skip to the next due
                    following = timing.next_slot(now)
                    self._skip(key, due, SkipReason.BEHIND, following - slot - 1)
                heapq.heappush(self._due, (timing.due(following), key, generation))
            delay = min(max(self._due[0][0] - time.time(), 0.0), 0.1) if self._due else 0.1
            began = time.monotonic()
            await asyncio.sleep(delay)
            overslept = time.monotonic() - began - delay
            if overslept > STALL:
                self._stalls.append((time.monotonic(), overslept))

    def _run_due(self, key: PortKey, timing: Timing, slot: int, due: float, now: float) -> None:
        late = now - due
        self.health.record_lag(late)
        if late > timing.grace:
            self._skip(key, due, SkipReason.BEHIND)
        elif key in self._probing:
            self._skip(key, due, SkipReason.STILL_RUNNING)
        elif len(self.buffer) > WRITE_BACKLOG and self.buffer.last_error is None:
            self._skip(key, due, SkipReason.WRITES_BEHIND)  # probing faster than it can write
        elif self._in_flight >= self.settings.daemon.max_in_flight or self._waiting:
            self._waiting.append((key, slot, due))  # stretched: it starts when a probe finishes
        else:
            self._start(key, slot, due)

    def _run_waiting(self, now: float) -> None:
        """Start the runs waiting for a free slot, oldest first; skip those past their grace."""
        limit = self.settings.daemon.max_in_flight
        while self._waiting and self._in_flight < limit:
            key, slot, due = self._waiting.popleft()
            timing = self._timings.get(key)
            if timing is None:
                continue
            if now - due > timing.grace:
                self._skip(key, due, SkipReason.BUSY)
            elif key in self._probing:
                self._skip(key, due, SkipReason.STILL_RUNNING)
            else:
                self._start(key, slot, due)
        while self._waiting:  # the oldest may wait too long while every slot stays taken
            key, slot, due = self._waiting[0]
            timing = self._timings.get(key)
            if timing is not None and now - due <= timing.grace:
                break
            self._waiting.popleft()
            if timing is not None:
                self._skip(key, due, SkipReason.BUSY)

    def _start(self, key: PortKey, slot: int, due: float) -> None:
        self._probing.add(key)
        self._in_flight += 1
        task = asyncio.get_running_loop().create_task(self._probe(key, slot, due, counted=True))
        self._running.add(task)

    def _skip(self, key: PortKey, due: float, reason: SkipReason, runs: int = 1) -> None:
        if runs <= 0:
            return
        self.health.record_skip(reason, runs)
        self.health.last_skipped_at = self.clock()
        self.buffer.skip(key[0], key[1], minute_bucket(datetime.fromtimestamp(due, UTC)), runs)

    def _stalled(self, since: float) -> float:
        """Seconds the event loop stood still (in stalls over STALL) since `since` (monotonic)."""
        return sum(seconds for at, seconds in self._stalls if at >= since)

    async def _probe(self, key: PortKey, slot: int | None, due: float | None = None,
                     counted: bool = False) -> None:
        """One run of a port: measure, buffer, tell the observers. Started by `_run_due` (which
        `counted` it in flight), or directly (a test, with slot None)."""
        probe = self.probes.get(key)
        try:
            if probe is None:
                return
            began = time.monotonic()
            result = await probe.measure(slot)
            if (result.error_class is ErrorClass.TIMEOUT and due is not None and self._stalled(began)
                    >= STALLED_SHARE * probe.port.timeout.total_seconds()):
                self._skip(key, due, SkipReason.OVERLOADED)  # our stall, not the port's silence
                return
            self.buffer.add(result)
            self.health.probes_run += 1
            self._note(key, result)
            for observer in self.on_result:
                observer(result)
        finally:
            if counted:
                self._probing.discard(key)
                self._in_flight -= 1
            if probe is not None and probe in self._retired:
                self._retired.discard(probe)
                asyncio.get_running_loop().create_task(_close(probe))
            task = asyncio.current_task()
            if task is not None:
                self._running.discard(task)

    def _slots(self) -> asyncio.Semaphore:
        """At most max_in_flight probes at once for `measure_all`."""
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.settings.daemon.max_in_flight)
        return self._semaphore

    def _note(self, key: PortKey, result: ProbeResult) -> None:
        """Log a port's change of state, not every probe."""
        if result.ok and key in self._failing:
            del self._failing[key]
            log.info("port %s/%s recovered", *key)
        elif not result.ok:
            problem = f"{result.error_class}: {result.error}"
            if self._failing.get(key) != problem:
                log.warning("port %s/%s failing: %s", *key, problem)
            self._failing[key] = problem

    async def measure_all(self) -> list[ProbeResult]:
        """Probe every port once now (for `meshwatch check`), bounded by max_in_flight."""
        slots = self._slots()

        async def one(probe: Probe) -> ProbeResult:
            async with slots:
                return await probe.measure()

        results = await asyncio.gather(*(one(p) for p in self.probes.values()))
        for result in results:
            self.buffer.add(result)
        return list(results)

    # ---- writes, evaluation, reload -----------------------------------------------------------
    async def _run_periodic(self, action: Periodic) -> None:
        try:
            await asyncio.to_thread(action, self.clock())
        except Exception as error:  # noqa: BLE001 - logged; the next tick retries
            log.error("%s: %s", getattr(action, "__name__", "periodic job"), error)

    async def _flush(self) -> None:
        await asyncio.to_thread(self.buffer.flush, True)  # states: see StateThrottle

    async def evaluate_round(self) -> list[ObjectiveEvaluation]:
        """Write what is buffered, evaluate every objective, hand the results to alerting."""
        began = datetime.now(UTC)
        at = self.clock()
        try:
            reports = await asyncio.to_thread(self._evaluate, at)
        except Exception as error:  # noqa: BLE001 - a bad round is logged; the next one retries
            log.error("evaluation at %s failed: %s", at.isoformat(), error)
            return []
        self.health.rounds += 1
        self.health.last_round_at = at
        self.health.last_round_seconds = (datetime.now(UTC) - began).total_seconds()
        return reports

    def evaluate_products(self, products: list[DataProduct], at: datetime) -> list[ObjectiveEvaluation]:
        """The objectives of `products` at `at`, from the store, as a round evaluates them (with
        the whole mesh's lineage): a round its own products, the status API any other."""
        with self.engine.connect() as connection:
            return evaluate_mesh(connection, products, at, self.policy, self.health.started_at,
                                 timezone=self.settings.timezone,
                                 lineage=Lineage.of(self.products.values()))

    def _evaluate(self, at: datetime) -> list[ObjectiveEvaluation]:
        self.buffer.flush()
        reports = self.evaluate_products(self.owned(), at)
        for report in reports:
            key = (report.product.id, report.objective.name)
            status = report.evaluation.status.value
            if self._statuses.get(key, "ok") != status and status in ("breached", "at_risk"):
                log.warning("objective %s/%s is %s", *key, status)
            self._statuses[key] = status
        self.latest = LatestEvaluation(tuple(reports), at)
        for hook in self.after_evaluation:
            if self._stopping:
                break  # no alert round once the stop began
            try:
                hook(reports, at)
            except Exception as error:  # noqa: BLE001 - alerting trouble must not stop probing
                log.error("after evaluation: %s", error)
        return reports

    def _config_fingerprint(self) -> tuple:
        directory = self.config.directory
        stats = []
        for file in [*contract_files([directory]), directory / SETTINGS_FILE]:
            try:
                stat = file.stat()
            except OSError:
                continue  # gone between the listing and now: the next look sees it
            # the inode too: a ConfigMap update swaps `..data` to new files, links unchanged
            stats.append((str(file), stat.st_ino, stat.st_mtime_ns, stat.st_size))
        return tuple(sorted(stats))

    async def _watch_config(self) -> None:
        fingerprint = await asyncio.to_thread(self._config_fingerprint)
        if fingerprint != self._fingerprint:
            await self.reload()

    async def reload(self) -> bool:
        """Load the configuration directory again and run it, settings and contracts together.

        Problems in `meshwatch.yaml` refuse the whole change: the last good settings and contracts
        keep running and `config_refused` says why (False is returned). Otherwise the new
        configuration is swapped in, and contract files with problems keep their last good
        product."""
        async with self._reloading:
            self._fingerprint = await asyncio.to_thread(self._config_fingerprint)
            try:
                config = await asyncio.to_thread(self.load, self.config.directory)
            except Exception as error:  # noqa: BLE001 - a failed load is a refused change
                self._refuse([f"{self.config.directory}: cannot load the configuration: {error}"])
                return False
            if config.settings_problems:
                self._refuse([str(p) for p in config.settings_problems])
                return False
            settings_file = config.directory / SETTINGS_FILE
            if self._had_settings_file and not settings_file.is_file():
                # mid-save, or deleted: defaults would drop every channel; a restart takes them
                self._refuse([f"{settings_file}:1: (file): no such file (the running settings "
                              "came from it; write an empty file for the defaults)"])
                return False
            self._swap(config)
            return True

    def _refuse(self, problems: list[str]) -> None:
        problems = [redact(problem) for problem in problems]  # URL passwords, if a message had one
        self.config_refused = Refusal(self.clock(), tuple(problems))
        log.error("configuration refused, still running the one loaded at %s: %s",
                  self.config_loaded_at.isoformat(), "; ".join(problems))

    def _swap(self, config: Config) -> None:
        """Run `config` from now on: what only a restart can change keeps its running value."""
        before = self.settings
        settings, restart_only = keep_restart_only(before, config.settings)
        if restart_only:
            log.warning("%s changed in meshwatch.yaml: takes effect at restart; the running "
                        "daemon keeps the value it started with", ", ".join(restart_only))
        config = Config(config.directory, settings, config.registry, config.problems)
        for hook in self.on_config:  # alerting first: the new products may use the new channels
            try:
                hook(config)
            except Exception as error:  # noqa: BLE001 - one consumer's trouble must not stop the swap
                log.error("applying the reloaded configuration: %s", error)
        self._apply(config)
        self._retime(before.daemon, settings.daemon)
        self.config_loaded_at = self.clock()
        self._had_settings_file = (config.directory / SETTINGS_FILE).is_file()
        if self.config_refused is not None:
            log.info("configuration accepted again; the refused change of %s is cleared",
                     self.config_refused.at.isoformat())
        self.config_refused = None
        log.info("configuration reloaded: %d product(s), %d port(s), %d problem(s)",
                 len(self.products), len(self.probes), len(config.problems))
        self._warn_without_contracts()

    def _retime(self, before: DaemonSettings, after: DaemonSettings) -> None:
        """Follow changed intervals and probe concurrency of `daemon:` without a restart."""
        if after.max_in_flight != before.max_in_flight and self._semaphore is not None:
            self._semaphore = asyncio.Semaphore(after.max_in_flight)  # probes running keep theirs
        if not self.scheduler.running:
            return
        for job, field_name in (("flush", "flush_interval"), ("evaluate", "evaluation_interval"),
                                ("reload", "reload_interval")):
            interval = getattr(after, field_name)
            if interval != getattr(before, field_name) and self.scheduler.get_job(job):
                self.scheduler.reschedule_job(job, trigger=IntervalTrigger(
                    seconds=interval.total_seconds()))

    async def _renew_leases(self) -> None:
        """Renew the shard leases (and follow what changed); while this worker wants shards
        another one still holds, again every UNSETTLED until the next regular renewal."""
        assert self.leases is not None
        deadline = time.monotonic() + RENEW.total_seconds() - UNSETTLED.total_seconds()
        while True:
            change = await asyncio.to_thread(self.leases.renew_now, self._load())
            if change and not self._stopping:
                self._reconcile()
            if self.leases.settled or self._stopping or time.monotonic() >= deadline:
                return
            await asyncio.sleep(UNSETTLED.total_seconds())

    def _load(self) -> dict:
        """What this worker carries, for its row in `worker` (and so for every worker's /healthz)."""
        return {"products": len(self.owned()), "ports": len(self.probes),
                "probes_run": self.health.probes_run, "skipped_runs": self.health.missed_runs,
                "in_flight": self._in_flight, "scheduling_lag_p99_seconds": self._lag_p99()}

    def _lag_p99(self) -> float | None:
        lags = sorted(self.health.lag_seconds)
        return round(lags[min(len(lags) - 1, int(len(lags) * 0.99))], 4) if lags else None

    async def _prune(self) -> None:
        """Every hour: partitions for the days ahead, then each tier pruned to its retention."""
        await asyncio.to_thread(self._prune_sync, self.clock())

    def _partitions_ahead(self, now: datetime) -> None:
        """PostgreSQL: the partitions of the days ahead (a write outside them waits in the
        default partition, never lost). A store that is away is tried again at the next prune."""
        try:
            with self.engine.begin() as connection:
                created = ensure_ahead(connection, now)
        except SQLAlchemyError as error:
            log.warning("store: partitions not created: %s", store_error_text(error))
            return
        if created:
            log.info("store: created partitions %s", ", ".join(created))

    def _prune_sync(self, now: datetime) -> None:
        self._partitions_ahead(now)
        for pruned in prune(self.engine, self.settings.retention(), now):
            if pruned.rows or pruned.partitions:
                log.info("store: pruned %s%s row(s) of %s before %s%s", "about " if pruned.estimated
                         else "", f"{pruned.rows:,}", pruned.tier, pruned.before.isoformat(),
                         f" ({len(pruned.partitions)} partition(s) dropped)" if pruned.partitions else "")

    def no_contract_warning(self) -> str | None:
        """Why nothing is monitored when no contract of the configuration is valid, or None: a
        daemon with nothing to watch must say so, not look healthy."""
        if self.products:
            return None
        problems = len(self.config.problems)
        return (f"no valid contract in {self.config.directory}: nothing is monitored ("
                + (f"{problems} problem(s) refuse its files, see config_problems)" if problems
                   else "add contract files, *.yaml, to it)"))

    def _warn_without_contracts(self) -> None:
        warning = self.no_contract_warning()
        if warning is not None:
            log.warning("%s", warning)

    def health_document(self) -> dict:
        p99 = self._lag_p99()
        return {
            "status": "ok" if self.scheduler.running and not self.buffer.last_error else "degraded",
            "scheduler": "running" if self.scheduler.running else "stopped",
            "started_at": self.health.started_at.isoformat(),
            "last_round_at": self.health.last_round_at.isoformat()
            if self.health.last_round_at else None,
            "rounds": self.health.rounds,
            "products": len(self.owned()), "ports": len(self.probes),
            "probes_run": self.health.probes_run, "missed_runs": self.health.missed_runs,
            "skipped_runs": {reason.value: self.health.skipped[reason] for reason in SkipReason},
            "last_skipped_at": self.health.last_skipped_at.isoformat()
            if self.health.last_skipped_at else None,
            "worker": self.leases.document() if self.leases is not None else None,
            "in_flight": self._in_flight,
            "buffered_measurements": len(self.buffer),
            "dropped_measurements": self.buffer.dropped,
            "quarantined_measurements": len(self.buffer.quarantine),
            "rejected_measurements": self.buffer.rejected,
            "last_rejection": self.buffer.last_rejection,
            "store_error": self.buffer.last_error,
            "scheduling_lag_p99_seconds": p99,
            "config_problems": [str(p) for p in self.config.problems],
            "config_loaded_at": self.config_loaded_at.isoformat(),
            "config_refused": self.config_refused.as_json() if self.config_refused else None,
            "contracts": len(self.products),
            "warning": self.no_contract_warning(),
        }


async def _close(probe: Probe) -> None:
    try:
        await probe.close()
    except Exception as error:  # noqa: BLE001 - closing is best effort
        log.debug("closing %s/%s: %s", probe.product, probe.port.name, error)
