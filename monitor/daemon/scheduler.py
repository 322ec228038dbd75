"""The collector daemon: one scheduled job per port, batched writes, evaluation after each round,
configuration reloads, and a clean stop. Wires registry → probes → store → evaluator → alerting.

The daemon runs exactly one configuration (`self.config`: settings and contracts, validated
together) and every part reads its settings from it when it needs them. A reload swaps the
whole configuration, or — when `meshwatch.yaml` has problems — none of it (`config_refused`).
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from monitor.config.loading import Config, load_config
from monitor.config.settings import DaemonSettings, Settings
from monitor.contracts import Registry
from monitor.contracts.loader import SETTINGS_FILE, contract_files
from monitor.contracts.model import DataProduct
from monitor.contracts.results import ProbeResult
from monitor.daemon.buffer import MeasurementBuffer, PortKey
from monitor.daemon.health import Health, Refusal
from monitor.daemon.reloading import keep_restart_only
from monitor.evaluation.mesh import ObjectiveEvaluation, evaluate_mesh
from monitor.probes.base import Probe
from monitor.probes.factory import build_probe
from monitor.slo import AlertPolicy
from monitor.store.measurements import prune_probe_results
from monitor.values.clock import Clock, utc_now
from monitor.values.secrets import redact

log = logging.getLogger("meshwatch.daemon")
AfterEvaluation = Callable[[Sequence[ObjectiveEvaluation], datetime], object]  # what it returns is unused
Periodic = Callable[[datetime], object]
OnConfig = Callable[[Config], None]


class Daemon:
    def __init__(self, config: Config, engine: Engine, clock: Clock = utc_now,
                 after_evaluation: list[AfterEvaluation] | None = None,
                 probe_context: dict[str, dict] | None = None,
                 periodic: list[tuple[timedelta, Periodic]] | None = None,
                 on_result: list[Callable[[ProbeResult], None]] | None = None,
                 on_config: list[OnConfig] | None = None,
                 load: Callable[[Path], Config] = load_config):
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
        self.products: dict[str, DataProduct] = {}
        self.probes: dict[PortKey, Probe] = {}
        self.buffer = MeasurementBuffer(engine)
        self.health = Health(started_at=clock())
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self._in_flight = 0
        self._running: set[asyncio.Task] = set()
        self._probing: set[PortKey] = set()
        self._semaphore: asyncio.Semaphore | None = None
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

    # ---- life cycle -------------------------------------------------------------------------
    async def start(self) -> None:
        self._semaphore = asyncio.Semaphore(self.settings.daemon.max_in_flight)
        self._apply(self.config)
        daemon = self.settings.daemon
        self.scheduler.add_job(self._flush, IntervalTrigger(seconds=daemon.flush_interval.total_seconds()),
                               id="flush", max_instances=1, coalesce=True)
        self.scheduler.add_job(self.evaluate_round,
                               IntervalTrigger(seconds=daemon.evaluation_interval.total_seconds()),
                               id="evaluate", max_instances=1, coalesce=True)
        self.scheduler.add_job(self._watch_config,
                               IntervalTrigger(seconds=daemon.reload_interval.total_seconds()),
                               id="reload", max_instances=1, coalesce=True)
        self.scheduler.add_job(self._prune, IntervalTrigger(hours=1), id="prune",
                               max_instances=1, coalesce=True)
        for number, (every, action) in enumerate(self.periodic):
            self.scheduler.add_job(self._run_periodic, IntervalTrigger(seconds=every.total_seconds()),
                                   args=[action], id=f"periodic:{number}", max_instances=1,
                                   coalesce=True)
        self.scheduler.add_listener(self._missed, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
        self.scheduler.start()
        log.info("monitoring %d product(s), %d port(s)", len(self.products), len(self.probes))

    def _missed(self, event) -> None:
        if event.job_id.startswith("probe:"):
            self.health.missed_runs += 1

    async def stop(self) -> None:
        """Stop scheduling, let probes in flight finish (they have timeouts), flush, close."""
        self._stopping = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._running:
            longest = max((p.port.timeout for p in self.probes.values()), default=timedelta(0))
            await asyncio.wait(set(self._running), timeout=longest.total_seconds() + 1)
        report = await asyncio.to_thread(self.buffer.flush)
        if report.pending:
            log.error("stopping with %d measurement(s) not written: %s", report.pending,
                      report.error)
        for probe in self.probes.values():
            await _close(probe)
        log.info("stopped; %d measurement(s) written at stop", report.written)

    # ---- probes -----------------------------------------------------------------------------
    def _apply(self, config: Config) -> None:
        """Make the scheduled jobs match `config`'s products (the last good ones for refused files)."""
        refused = config.registry.refused_files
        products = dict(config.registry.products)
        for product in self.products.values():
            if product.source in refused and product.id not in products:
                products[product.id] = product  # keep monitoring the last good version
        for problem in config.problems:
            if str(problem) not in self._reported_problems:
                log.error("contract refused: %s", problem)
        self._reported_problems = {str(p) for p in config.problems}
        wanted = {(p.id, port.name): (p, port) for p in products.values() for port in p.ports}
        for key in set(self.probes) - set(wanted):
            self._unschedule(key)
        for key, (product, port) in wanted.items():
            current = self.probes.get(key)
            if current is None or current.port != port:
                if current is not None:
                    self._unschedule(key)
                self._schedule(key, build_probe(product, port, engine=self.engine, clock=self.clock,
                                                context=self.probe_context))
        self.products = products
        self.buffer.products = products
        self.config = Config(config.directory, config.settings,
                             Registry(products, config.registry.problems), config.problems)

    def _schedule(self, key: PortKey, probe: Probe) -> None:
        self.probes[key] = probe
        interval = probe.port.interval.total_seconds()
        # spread the ports over their interval so a thousand of them do not fire in one second
        offset = (zlib.crc32("/".join(key).encode()) % 10_000) / 10_000 * interval
        start = datetime.now(UTC) + timedelta(seconds=offset)
        self.scheduler.add_job(self._launch, IntervalTrigger(seconds=interval, start_date=start),
                               args=[key, start, interval], id=_job_id(key), max_instances=1,
                               coalesce=True, misfire_grace_time=max(1, int(interval)),
                               replace_existing=True)

    def _unschedule(self, key: PortKey) -> None:
        probe = self.probes.pop(key, None)
        if self.scheduler.get_job(_job_id(key)):
            self.scheduler.remove_job(_job_id(key))
        if probe is not None:
            asyncio.get_running_loop().create_task(_close(probe))

    async def _launch(self, key: PortKey, start: datetime, interval: float) -> None:
        """The scheduled job: start the probe as the daemon's own task, so that stopping the
        scheduler (which cancels the jobs it runs) lets probes in flight finish."""
        if self._stopping or key not in self.probes:
            return
        if key in self._probing:
            self.health.missed_runs += 1  # the previous run of this port is still going
            return
        self._probing.add(key)
        task = asyncio.get_running_loop().create_task(self._probe(key, start, interval))
        self._running.add(task)

        def finished(done: asyncio.Task) -> None:
            self._running.discard(done)
            self._probing.discard(key)

        task.add_done_callback(finished)

    async def _probe(self, key: PortKey, start: datetime, interval: float) -> None:
        probe = self.probes.get(key)
        if probe is None:
            return
        now = datetime.now(UTC)
        due = start + timedelta(seconds=interval * round((now - start).total_seconds() / interval))
        self.health.record_lag(max(0.0, (now - due).total_seconds()))
        async with self._slots():
            self._in_flight += 1
            try:
                result = await probe.measure()
            finally:
                self._in_flight -= 1
        self.buffer.add(result)
        self.health.probes_run += 1
        self._note(key, result)
        for observer in self.on_result:
            observer(result)

    def _slots(self) -> asyncio.Semaphore:
        """At most max_in_flight probes at once (made by `start`, or by `measure_all` without one)."""
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
        await asyncio.to_thread(self.buffer.flush)

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

    def _evaluate(self, at: datetime) -> list[ObjectiveEvaluation]:
        self.buffer.flush()
        with self.engine.connect() as connection:
            reports = evaluate_mesh(connection, self.products.values(), at, self.policy,
                                    self.health.started_at)
        for report in reports:
            key = (report.product.id, report.objective.name)
            status = report.evaluation.status.value
            if self._statuses.get(key, "ok") != status and status in ("breached", "at_risk"):
                log.warning("objective %s/%s is %s", *key, status)
            self._statuses[key] = status
        for hook in self.after_evaluation:
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
            stats.append((str(file), stat.st_mtime_ns, stat.st_size))
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

    async def _prune(self) -> None:
        before = self.clock() - self.settings.daemon.probe_history
        await asyncio.to_thread(self._prune_sync, before)

    def _prune_sync(self, before: datetime) -> None:
        with self.engine.begin() as connection:
            prune_probe_results(connection, before)

    def health_document(self) -> dict:
        lags = sorted(self.health.lag_seconds)
        p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))] if lags else None
        return {
            "status": "ok" if self.scheduler.running and not self.buffer.last_error else "degraded",
            "scheduler": "running" if self.scheduler.running else "stopped",
            "started_at": self.health.started_at.isoformat(),
            "last_round_at": self.health.last_round_at.isoformat()
            if self.health.last_round_at else None,
            "rounds": self.health.rounds,
            "products": len(self.products), "ports": len(self.probes),
            "probes_run": self.health.probes_run, "missed_runs": self.health.missed_runs,
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
        }


def _job_id(key: PortKey) -> str:
    return f"probe:{key[0]}:{key[1]}"


async def _close(probe: Probe) -> None:
    try:
        await probe.close()
    except Exception as error:  # noqa: BLE001 - closing is best effort
        log.debug("closing %s/%s: %s", probe.product, probe.port.name, error)
