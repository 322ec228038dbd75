"""The daemon's MeterProvider: the instruments of monitor.telemetry.instruments read by the
configured exporters. Needs the `telemetry` extra (the OpenTelemetry SDK); the daemon imports
it only when `telemetry.exporters` names one."""


from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.metrics.view import View
from opentelemetry.sdk.resources import Resource
from sqlalchemy.exc import SQLAlchemyError

from monitor.contracts.results import ProbeResult
from monitor.evaluation.mesh import LatestEvaluation, ObjectiveEvaluation
from monitor.slo import AlertPolicy
from monitor.store.events import Event
from monitor.store.outbox import count_failed_notifications
from monitor.telemetry.exporters import export_targets
from monitor.telemetry.instruments import HealthSource, MeshInstruments
from monitor.telemetry.settings import TelemetryConfig

__all__ = ["LatestEvaluation", "Telemetry", "start_telemetry"]
log = logging.getLogger("meshwatch.telemetry")
MAX_POINTS = 200_000  # per metric: ~11 per objective (statuses, conditions), one per port outcome


class Telemetry:
    """The daemon's metrics on a MeterProvider of its own, read by `readers` (exporters, or an
    in-memory reader in tests)."""

    def __init__(self, readers: Sequence[MetricReader], *, service_name: str = "meshwatch",
                 policy: AlertPolicy = AlertPolicy(), closers: Sequence[Callable[[], None]] = ()):
        resource = Resource.create({"service.name": service_name,
                                    "service.version": _meshwatch_version()})
        # the SDK's default of 2000 points per metric is too few: 5 statuses per objective
        views = [View(instrument_name="meshwatch.*", aggregation_cardinality_limit=MAX_POINTS)]
        self.provider = MeterProvider(metric_readers=list(readers), resource=resource, views=views)
        self.latest = LatestEvaluation()
        self.daemon: HealthSource | None = None
        self._closers = list(closers)
        self._failed_query_logged = False
        meter = self.provider.get_meter("meshwatch", _meshwatch_version())
        self.instruments = MeshInstruments(meter, lambda: self.latest, lambda: self.daemon, policy)

    def watch(self, daemon: HealthSource) -> None:
        """Read the daemon's health (and its products' ports) from now on."""
        self.daemon = daemon

    # ---- the daemon's hooks -----------------------------------------------------------------
    def after_evaluation(self, reports: Sequence[ObjectiveEvaluation], at: datetime) -> None:
        self.latest = LatestEvaluation(tuple(reports), at, self._failed_notifications())
        self.instruments.start_event_series(reports)
        self.instruments.sample_health()

    def on_result(self, result: ProbeResult) -> None:
        self.instruments.record_probe(result)
        self.instruments.sample_health()

    def on_events(self, events: Iterable[Event]) -> None:
        """The events of one write the store committed (MeasurementBuffer.on_stored)."""
        self.instruments.record_events(events)

    def _failed_notifications(self) -> int | None:
        engine = getattr(self.daemon, "engine", None)
        if engine is None:
            return None
        try:
            with engine.connect() as connection:
                return count_failed_notifications(connection)
        except SQLAlchemyError as error:
            if not self._failed_query_logged:
                log.warning("telemetry: cannot count failed notifications: %s",
                            str(error).splitlines()[0])
            self._failed_query_logged = True
            return self.latest.failed_notifications

    # ---- life cycle -------------------------------------------------------------------------
    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        """Collect and export now (push exporters); tests and a clean stop use it."""
        return self.provider.force_flush(timeout_millis)

    def shutdown(self, timeout_millis: float = 10_000) -> None:
        """Export what is left once, then stop every reader and scrape endpoint."""
        try:
            self.provider.shutdown(timeout_millis=timeout_millis)
        except Exception as error:  # noqa: BLE001 - stopping is best effort
            log.warning("telemetry: stopping: %s", error)
        for close in self._closers:
            try:
                close()
            except Exception as error:  # noqa: BLE001
                log.debug("telemetry: closing: %s", error)


def start_telemetry(settings: TelemetryConfig) -> Telemetry | None:
    """Telemetry with the exporters of `settings.telemetry`; None when none is configured (or
    none could be started): then nothing is measured and nothing leaves the machine."""
    targets = export_targets(settings.telemetry)
    if not targets:
        return None
    telemetry = Telemetry([t.reader for t in targets], service_name=settings.telemetry.service_name,
                          policy=settings.slo.policy(), closers=[t.close for t in targets])
    log.info("telemetry: exporting metrics to %s", ", ".join(t.name for t in targets))
    return telemetry


def _meshwatch_version() -> str:
    try:
        return version("meshwatch")
    except PackageNotFoundError:
        return "unknown"
