"""The metrics meshwatch exports: SLO gauges from the latest evaluation, the SLO event counter,
probe histograms and counters, and the daemon's own health.

SLO values are observable gauges read from the latest round (`LatestEvaluation`), so an exporter
sees the state as of its own collection and nothing is pushed per round. `meshwatch.slo.events`
counts the events the store recorded, as it recorded them (`record_events`, told by the write
buffer after each committed write), so another engine can compute the same SLOs from it
(`meshwatch export prometheus-rules`)."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from monitor.contracts.model import DataProduct, Indicator, Objective, Port
from monitor.contracts.results import ErrorClass, ProbeResult
from monitor.evaluation.mesh import LatestEvaluation, ObjectiveEvaluation
from monitor.slo import AlertPolicy, ConditionName, Status, scaled_rules
from monitor.store.events import Event, SeriesKey
from monitor.values.durations import format_duration
from monitor.values.secrets import has_placeholder

log = logging.getLogger("meshwatch.telemetry")

# Seconds; the boundaries OpenTelemetry's semantic conventions advise for request durations.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5,
                    10.0, 30.0, 60.0)
# Conditions beyond the burn-rate rules that an evaluation may report (monitor.slo.status).
EXTRA_CONDITIONS = (ConditionName.BUDGET_EXHAUSTED, ConditionName.NO_DATA)
FRESHNESS_CONDITIONS = (ConditionName.FRESHNESS_BREACH,)
URL_OPTIONS = ("url", "account_url", "endpoint")  # port options that name the server probed


class RoundsAndLags(Protocol):
    """The daemon's counters telemetry reads (monitor.daemon.scheduler.Health fits)."""

    @property
    def rounds(self) -> int: ...
    @property
    def last_round_seconds(self) -> float | None: ...
    @property
    def missed_runs(self) -> int: ...
    @property
    def lag_seconds(self) -> Sequence[float]: ...  # the recent lags, oldest first
    @property
    def lags_recorded(self) -> int: ...


class WriteBacklog(Protocol):
    """The measurements waiting to be written (monitor.daemon.buffer.MeasurementBuffer fits)."""

    @property
    def failed_writes(self) -> int: ...
    @property
    def dropped(self) -> int: ...
    @property
    def rejected(self) -> int: ...
    @property
    def quarantine(self) -> Sized: ...
    def __len__(self) -> int: ...


class HealthSource(Protocol):
    """What telemetry reads of the daemon (monitor.daemon.scheduler.Daemon fits)."""

    @property
    def health(self) -> RoundsAndLags: ...
    @property
    def buffer(self) -> WriteBacklog: ...
    @property
    def products(self) -> Mapping[str, DataProduct]: ...

    def health_document(self) -> dict: ...


@dataclass
class _Seen:
    """How far the daemon's counters have been turned into histogram records."""

    rounds: int = 0
    lags: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class MeshInstruments:
    """Creates every instrument on `meter`; `record_probe` and `sample_health` feed the
    synchronous ones, callbacks read `latest()` and `daemon()` for the observable ones."""

    def __init__(self, meter: Meter, latest: Callable[[], LatestEvaluation],
                 daemon: Callable[[], HealthSource | None], policy: AlertPolicy = AlertPolicy()):
        self._latest = latest
        self._daemon = daemon
        self._policy = policy
        self._seen = _Seen()
        self._failing_callbacks: set[str] = set()
        self._slo_gauges(meter)
        self._event_counter(meter)
        self._probe_instruments(meter)
        self._health_instruments(meter)

    # ---- SLOs -------------------------------------------------------------------------------
    def _slo_gauges(self, meter: Meter) -> None:
        gauges = {
            "meshwatch.slo.compliance": ("Good events / all events over the objective's window",
                                         self._compliance),
            "meshwatch.slo.target": ("The objective's target, as a fraction", self._target),
            "meshwatch.slo.error_budget.remaining": (
                "Error budget left over the objective's window (1: untouched, <0: overspent)",
                self._budget),
            "meshwatch.slo.burn_rate": ("Burn rate over an alert window (1: spends the budget "
                                        "exactly over the objective's window)", self._burn_rates),
            "meshwatch.slo.status": ("1 for the objective's current status, 0 for the others",
                                     self._statuses),
            "meshwatch.slo.condition": ("1 while an alert condition holds, 0 otherwise",
                                        self._conditions),
        }
        for name, (description, observe) in gauges.items():
            meter.create_observable_gauge(name, [self._guarded(name, observe)], unit="1",
                                          description=description)

    def _reports(self) -> Iterator[tuple[ObjectiveEvaluation, dict[str, str]]]:
        for report in self._latest().reports:
            yield report, objective_attributes(report.product, report.objective)

    def _compliance(self) -> Iterator[Observation]:
        for report, attributes in self._reports():
            if report.evaluation.compliance is not None:
                yield Observation(report.evaluation.compliance, attributes)

    def _target(self) -> Iterator[Observation]:
        for report, attributes in self._reports():
            yield Observation(float(report.objective.target), attributes)

    def _budget(self) -> Iterator[Observation]:
        for report, attributes in self._reports():
            if report.evaluation.error_budget_remaining is not None:
                yield Observation(report.evaluation.error_budget_remaining, attributes)

    def _burn_rates(self) -> Iterator[Observation]:
        for report, attributes in self._reports():
            for window, rate in report.evaluation.burn_rates.items():
                if rate is not None:
                    yield Observation(rate, {**attributes, "slo.window": format_duration(window)})

    def _statuses(self) -> Iterator[Observation]:
        for report, attributes in self._reports():
            current = report.evaluation.status
            for status in Status:
                yield Observation(int(status is current), {**attributes, "slo.status": status.value})

    def _conditions(self) -> Iterator[Observation]:
        for report, attributes in self._reports():
            holding = {condition.name for condition in report.evaluation.conditions}
            for name in sorted(self.condition_names(report.objective) | holding):
                yield Observation(int(name in holding), {**attributes, "slo.condition": name})

    def condition_names(self, objective: Objective) -> set[str]:
        """Every condition that may hold on `objective`, so those that do not are reported as 0."""
        names: set[str] = {rule.name for rule in scaled_rules(objective.window, self._policy.rules)}
        names.update(EXTRA_CONDITIONS)
        if objective.indicator is Indicator.FRESHNESS:
            names.update(FRESHNESS_CONDITIONS)
        return names

    # ---- the events SLOs count --------------------------------------------------------------
    def _event_counter(self, meter: Meter) -> None:
        self._slo_events = meter.create_counter(
            "meshwatch.slo.events", unit="{event}",
            description="Indicator events the store recorded per objective, by outcome (good, bad)")
        # the attributes of each objective whose two outcome series exist
        self._started: dict[SeriesKey, dict[str, str]] = {}
        self._started_lock = threading.Lock()

    def record_events(self, events: Iterable[Event]) -> None:
        """Count events the store recorded (each once: the buffer tells only committed writes
        of runs no other worker stored)."""
        good: Counter[SeriesKey] = Counter()
        bad: Counter[SeriesKey] = Counter()
        for event in events:
            good[(event.product, event.objective)] += event.good
            bad[(event.product, event.objective)] += event.total - event.good
        for key in good.keys() | bad.keys():
            with self._started_lock:
                attributes = self._started.get(key) or self._event_attributes(*key)
                self._started[key] = attributes
            self._slo_events.add(good[key], {**attributes, "outcome": "good"})
            self._slo_events.add(bad[key], {**attributes, "outcome": "bad"})

    def start_event_series(self, reports: Iterable[ObjectiveEvaluation]) -> None:
        """Both outcome series of each evaluated objective, at 0 before its first event: a rate
        over a counter (Prometheus' increase) counts from a series' first sample, so a series
        that first appears holding events would lose them."""
        with self._started_lock:
            new = {(r.product.id, r.objective.name): objective_attributes(r.product, r.objective)
                   for r in reports if (r.product.id, r.objective.name) not in self._started}
            self._started.update(new)
        for attributes in new.values():
            for outcome in ("good", "bad"):
                self._slo_events.add(0, {**attributes, "outcome": outcome})

    def _event_attributes(self, product_id: str, objective_name: str) -> dict[str, str]:
        daemon = self._daemon()
        product = daemon.products.get(product_id) if daemon is not None else None
        objective = next((o for o in product.objectives if o.name == objective_name), None) \
            if product is not None else None
        if product is None or objective is None:  # a reload dropped it since: no indicator known
            return {"product": product_id, "objective": objective_name}
        return objective_attributes(product, objective)

    # ---- probes -----------------------------------------------------------------------------
    def _probe_instruments(self, meter: Meter) -> None:
        self._probe_duration = meter.create_histogram(
            "meshwatch.probe.duration", unit="s", description="How long a probe took",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS)
        self._probe_results = meter.create_counter(
            "meshwatch.probe.results", unit="{result}",
            description="Probe results by outcome; failures carry error.type")

    def record_probe(self, result: ProbeResult) -> None:
        attributes = {"product": result.product, "port": result.port, "kind": result.kind}
        port = self._port(result.product, result.port)
        server = server_address(port.options) if port is not None else None
        if server:
            attributes["server.address"] = server
        if not result.ok:
            attributes["error.type"] = str(result.error_class or "internal")
        duration = result.latency
        if duration is None and result.error_class is ErrorClass.TIMEOUT and port is not None:
            duration = port.timeout  # a probe that timed out took its whole timeout
        if duration is not None:
            self._probe_duration.record(duration.total_seconds(), attributes)
        self._probe_results.add(1, {**attributes, "outcome": "ok" if result.ok else "failure"})

    def _port(self, product_id: str, port_name: str) -> Port | None:
        daemon = self._daemon()
        product = daemon.products.get(product_id) if daemon is not None else None
        return product.port(port_name) if product is not None else None

    # ---- the daemon's health ----------------------------------------------------------------
    def _health_instruments(self, meter: Meter) -> None:
        self._evaluation_duration = meter.create_histogram(
            "meshwatch.evaluation.duration", unit="s",
            description="How long an evaluation round took (flush, evaluate, hooks)",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS)
        self._scheduling_lag = meter.create_histogram(
            "meshwatch.scheduler.lag", unit="s",
            description="How late a probe started after its due time",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS)
        counters = {
            "meshwatch.evaluation.rounds": ("{round}", "Evaluation rounds completed",
                                            lambda d: d.health.rounds),
            "meshwatch.scheduler.missed_runs": (
                "{run}", "Scheduled probe runs skipped for any reason (the daemon's own overload, "
                "never an event of the product; by reason: meshwatch.scheduler.skipped_runs)",
                lambda d: d.health.missed_runs),
            "meshwatch.store.write_failures": ("{failure}", "Writes of measurements the store "
                                               "refused (kept and retried)",
                                               lambda d: d.buffer.failed_writes),
            "meshwatch.store.dropped": ("{measurement}", "Measurements dropped: the buffer was "
                                        "full while the store was unavailable",
                                        lambda d: d.buffer.dropped),
            "meshwatch.store.rejected": ("{measurement}", "Measurements dropped after the store "
                                         "refused them alone, again and again (see the log)",
                                         lambda d: d.buffer.rejected),
        }
        for name, (unit, description, read) in counters.items():
            meter.create_observable_counter(name, [self._guarded(name, self._from_daemon(read))],
                                            unit=unit, description=description)
        gauges = {
            "meshwatch.probe.in_flight": ("{probe}", "Probes running now",
                                          lambda d: d.health_document()["in_flight"]),
            "meshwatch.store.buffered": ("{measurement}", "Measurements waiting to be written",
                                         len_of_buffer),
            "meshwatch.store.quarantined": ("{measurement}", "Measurements the store refused, "
                                            "held apart and tried again",
                                            lambda d: len(d.buffer.quarantine)),
        }
        for name, (unit, description, read) in gauges.items():
            meter.create_observable_gauge(name, [self._guarded(name, self._from_daemon(read))],
                                          unit=unit, description=description)
        meter.create_observable_counter(
            "meshwatch.scheduler.skipped_runs", [self._guarded("skipped runs", self._skipped)],
            unit="{run}", description="Scheduled probe runs skipped, by reason: behind, "
            "still_running, busy, writes_behind, overloaded (see /healthz skipped_runs)")
        meter.create_observable_gauge(
            "meshwatch.worker.shards", [self._guarded("shards", self._shards)], unit="{shard}",
            description="Shards of the mesh this worker holds (of 64), by worker")
        meter.create_observable_gauge(
            "meshwatch.notification.failed", [self._guarded("notifications", self._failed)],
            unit="{notification}",
            description="Notifications in the outbox marked failed (delivery gave up)")

    def _from_daemon(self, read: Callable[[HealthSource], float]) -> Callable[[], Iterable]:
        def observe() -> Iterator[Observation]:
            daemon = self._daemon()
            if daemon is not None:
                yield Observation(read(daemon))
        return observe

    def _skipped(self) -> Iterator[Observation]:
        daemon = self._daemon()
        if daemon is not None:
            for reason, runs in daemon.health_document()["skipped_runs"].items():
                yield Observation(runs, {"reason": reason})

    def _shards(self) -> Iterator[Observation]:
        daemon = self._daemon()
        worker = daemon.health_document().get("worker") if daemon is not None else None
        if worker:
            yield Observation(len(worker["shards"]), {"worker": worker["id"]})

    def _failed(self) -> Iterator[Observation]:
        failed = self._latest().failed_notifications
        if failed is not None:
            yield Observation(failed)

    def sample_health(self) -> None:
        """Turn the daemon's new lags and finished rounds into histogram records (each once)."""
        daemon = self._daemon()
        if daemon is None:
            return
        health = daemon.health
        with self._seen.lock:
            lags, recorded = list(health.lag_seconds), health.lags_recorded
            for lag in lags[len(lags) - min(recorded - self._seen.lags, len(lags)):]:
                self._scheduling_lag.record(lag)
            self._seen.lags = recorded
            if health.rounds != self._seen.rounds and health.last_round_seconds is not None:
                self._evaluation_duration.record(health.last_round_seconds)
                self._seen.rounds = health.rounds

    def _guarded(self, name: str, observe: Callable[[], Iterable[Observation]]):
        """A callback that logs one line instead of letting the SDK print a traceback."""
        def callback(options: CallbackOptions) -> list[Observation]:
            try:
                observations = list(observe())
            except Exception as error:  # noqa: BLE001 - a metric is skipped, never the export
                if name not in self._failing_callbacks:
                    log.error("telemetry: cannot observe %s: %s: %s", name,
                              type(error).__name__, error)
                self._failing_callbacks.add(name)
                return []
            self._failing_callbacks.discard(name)
            return observations
        return callback


def objective_attributes(product: DataProduct, objective: Objective) -> dict[str, str]:
    return {"product": product.id, "objective": objective.name,
            "indicator": objective.indicator.value}


def server_address(options: dict) -> str | None:
    """The host a port's probe talks to, when its options name one without a placeholder."""
    for key in URL_OPTIONS:
        value = options.get(key)
        if isinstance(value, str) and not has_placeholder(value):
            try:
                host = urlsplit(value).hostname
            except ValueError:
                continue
            if host:
                return host
    return None


def len_of_buffer(daemon: HealthSource) -> int:
    return len(daemon.buffer)
