"""Metric readers for the exporters chosen in settings, one small builder per kind.

Every push exporter is wrapped so that an endpoint that cannot be reached becomes one log line
(and one when it recovers), never a traceback and never an error in the daemon."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricExportResult,
    MetricReader,
    MetricsData,
    PeriodicExportingMetricReader,
)

from monitor.telemetry.settings import (
    AzureMonitorExporter,
    OtlpExporter,
    PrometheusExporter,
    TelemetrySettings,
)
from monitor.values.secrets import resolve

log = logging.getLogger("meshwatch.telemetry")

# The Azure Monitor exporter reports on itself to Microsoft and fetches remote settings unless told
# not to; meshwatch sends only what the user configured.
AZURE_PHONE_HOME_OFF = {
    "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
    "APPLICATIONINSIGHTS_SDKSTATS_DISABLED": "true",
    "APPLICATIONINSIGHTS_CONTROLPLANE_DISABLED": "true",
}
# Where the exporter libraries log their failures (a filter sees only its own logger's records).
AZURE_LOGGERS = ("azure.monitor.opentelemetry.exporter.export._base",
                 "azure.monitor.opentelemetry.exporter.export.metrics._exporter")
OTLP_LOGGERS = ("opentelemetry.exporter.otlp.proto.http.metric_exporter",)


@dataclass
class ExportTarget:
    """One configured exporter, ready: its reader, what to stop with it, how to name it in logs."""

    name: str
    reader: MetricReader
    close: Callable[[], None] = lambda: None


class LibraryMessages(logging.Filter):
    """Keeps the warnings an exporter library logs (each attempt, with tracebacks at times) out of
    the log, holding the latest for GuardedExporter's one line."""

    def __init__(self, loggers: tuple[str, ...]):
        super().__init__()
        self.loggers = loggers
        self.last: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        self.last = record.getMessage().splitlines()[0] if record.getMessage() else None
        return False

    def attach(self) -> None:
        for name in self.loggers:
            logging.getLogger(name).addFilter(self)

    def detach(self) -> None:
        for name in self.loggers:
            logging.getLogger(name).removeFilter(self)


class GuardedExporter(MetricExporter):
    """Passes metrics to `inner`; its failures are logged as one line per change of state, with
    the library's own reason, and never reach the SDK (which would log a traceback)."""

    def __init__(self, inner: MetricExporter, name: str, loggers: tuple[str, ...] = ()):
        super().__init__(preferred_temporality=inner._preferred_temporality,
                         preferred_aggregation=inner._preferred_aggregation)
        self.inner = inner
        self.name = name
        self.problem: str | None = None
        self.messages = LibraryMessages(loggers)
        self.messages.attach()

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000,
               **kwargs) -> MetricExportResult:
        self.messages.last = None
        try:
            result = self.inner.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
            problem = None if result is MetricExportResult.SUCCESS else \
                self.messages.last or "the endpoint did not take them"
        except Exception as error:  # noqa: BLE001 - export trouble must never reach the daemon
            result, problem = MetricExportResult.FAILURE, f"{type(error).__name__}: {error}"
        self._note(problem)
        return result

    def _note(self, problem: str | None) -> None:
        if problem and self.problem is None:
            log.warning("telemetry: metrics not exported to %s: %s (retrying every interval)",
                        self.name, problem)
        elif not problem and self.problem:
            log.info("telemetry: exporting to %s again", self.name)
        self.problem = problem

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        try:
            return self.inner.force_flush(timeout_millis)
        except Exception:  # noqa: BLE001
            return False

    def shutdown(self, timeout_millis: float = 30_000, **kwargs) -> None:
        try:
            self.inner.shutdown(timeout_millis=timeout_millis, **kwargs)
        except Exception as error:  # noqa: BLE001 - stopping is best effort
            log.debug("telemetry: stopping %s: %s", self.name, error)
        finally:
            self.messages.detach()


def _periodic(exporter: MetricExporter, name: str, interval: timedelta,
              loggers: tuple[str, ...]) -> MetricReader:
    return PeriodicExportingMetricReader(GuardedExporter(exporter, name, loggers),
                                         export_interval_millis=interval.total_seconds() * 1000)


def azure_monitor_target(spec: AzureMonitorExporter, interval: timedelta) -> ExportTarget:
    for variable, value in AZURE_PHONE_HOME_OFF.items():
        os.environ.setdefault(variable, value)
    from azure.monitor.opentelemetry.exporter import AzureMonitorMetricExporter

    connection_string = resolve(spec.connection_string.get_secret_value())
    exporter = AzureMonitorMetricExporter(connection_string=connection_string,
                                          disable_offline_storage=True)
    name = f"azure_monitor ({_host(exporter._endpoint)})"
    return ExportTarget(name, _periodic(exporter, name, interval, AZURE_LOGGERS))


def otlp_endpoint(endpoint: str) -> str:
    """A base URL (`http://collector:4318`) gets the metrics path; a full one is kept."""
    return endpoint.rstrip("/") + "/v1/metrics" if urlsplit(endpoint).path in ("", "/") else endpoint


def otlp_target(spec: OtlpExporter, interval: timedelta) -> ExportTarget:
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    endpoint = otlp_endpoint(resolve(spec.endpoint))
    headers = {key: resolve(value.get_secret_value()) for key, value in spec.headers.items()}
    exporter = OTLPMetricExporter(endpoint=endpoint, headers=headers,
                                  timeout=spec.timeout.total_seconds())
    name = f"otlp ({_host(endpoint)})"
    return ExportTarget(name, _periodic(exporter, name, interval, OTLP_LOGGERS))


def prometheus_target(spec: PrometheusExporter, interval: timedelta) -> ExportTarget:
    """A /metrics endpoint of its own (its own registry: nothing global); scraped, not pushed."""
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from prometheus_client import CollectorRegistry, start_http_server

    registry = CollectorRegistry(auto_describe=True)
    reader = PrometheusMetricReader(registry=registry)
    host, port = spec.host_port
    server, thread = start_http_server(port, addr=host, registry=registry)

    def close() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return ExportTarget(f"prometheus (http://{spec.listen}/metrics)", reader, close)


BUILDERS: dict[str, Callable[..., ExportTarget]] = {
    "azure_monitor": azure_monitor_target,
    "otlp": otlp_target,
    "prometheus": prometheus_target,
}


def export_targets(settings: TelemetrySettings) -> list[ExportTarget]:
    """The configured exporters that could be set up; the others are logged and left out."""
    targets = []
    for spec in settings.exporters:
        try:
            targets.append(BUILDERS[spec.type](spec, settings.export_interval))
        except Exception as error:  # noqa: BLE001 - a bad exporter must not stop the daemon
            log.error("telemetry: %s exporter not started: %s", spec.type, _reason(error))
    return targets


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" if parts.netloc else url


def _reason(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
