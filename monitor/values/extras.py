"""meshwatch's optional extras: which feature needs which, and the message that names it.

A lean install (`pip install meshwatch`) validates contracts, evaluates, alerts and probes
`http`, `sql` (SQLite, or any database whose driver is installed) and `heartbeat` ports on a
SQLite store. The rest comes with an extra — `pip install 'meshwatch[azure]'` — and a feature
that needs one it lacks says which, instead of failing on an import:

| extra | gives |
| --- | --- |
| `azure` | the `azure_blob`, `azure_monitor_logs` and `azure_monitor_metrics` port kinds |
| `postgres` | a PostgreSQL store, and `sql` ports on PostgreSQL (psycopg 3) |
| `dashboard` | `meshwatch dashboard` (Streamlit, Altair) |
| `telemetry` | `telemetry.exporters` (OpenTelemetry SDK; Prometheus, OTLP, Azure Monitor) |
| `demo` | `meshwatch demo` (Azurite's SDK, the dashboard, a local mail server) |
| `all` | every one of them: what the README's quick start installs |
"""

from __future__ import annotations

from enum import StrEnum
from importlib.util import find_spec


class Extra(StrEnum):
    AZURE = "azure"
    POSTGRES = "postgres"
    DASHBOARD = "dashboard"
    TELEMETRY = "telemetry"
    DEMO = "demo"


# the top-level modules each extra installs; a missing one names its extra
MODULES: dict[Extra, tuple[str, ...]] = {
    Extra.AZURE: ("azure.storage.blob", "azure.identity", "azure.monitor.query",
                  "azure.monitor.querymetrics"),
    Extra.POSTGRES: ("psycopg",),
    Extra.DASHBOARD: ("streamlit", "altair"),
    Extra.TELEMETRY: ("opentelemetry.sdk", "opentelemetry.exporter.prometheus",
                      "opentelemetry.exporter.otlp", "prometheus_client",
                      "azure.monitor.opentelemetry.exporter"),
    Extra.DEMO: ("aiosmtpd", "azure.storage.blob", "streamlit"),
}


class MissingExtra(ImportError):
    """A feature needs an extra that is not installed; the message says how to install it."""

    def __init__(self, feature: str, extra: Extra, module: str):
        super().__init__(f"{feature} needs meshwatch's {extra.value} extra ({module} is not "
                         f"installed): pip install 'meshwatch[{extra.value}]'")
        self.feature, self.extra, self.module = feature, extra, module


def missing_module(extra: Extra) -> str | None:
    """The first module of `extra` that cannot be imported here, or None when it is installed."""
    for module in MODULES[extra]:
        try:
            if find_spec(module) is None:
                return module
        except (ImportError, ValueError):  # a parent package is missing, or half installed
            return module
    return None


def require(extra: Extra, feature: str) -> None:
    """MissingExtra, naming `extra`, when it is not installed."""
    module = missing_module(extra)
    if module is not None:
        raise MissingExtra(feature, extra, module)


def extra_of(error: ImportError) -> Extra | None:
    """The extra whose module an import error says is missing, if it is one of them."""
    name = getattr(error, "name", None) or ""
    for extra in (Extra.AZURE, Extra.POSTGRES, Extra.DASHBOARD, Extra.TELEMETRY):
        if any(name == module or module.startswith(name + ".") or name.startswith(module + ".")
               for module in MODULES[extra]):
            return extra
    return None


def explained(error: ImportError, feature: str) -> ImportError:
    """`error` as a MissingExtra naming its extra when it is one; else `error` itself."""
    extra = extra_of(error)
    if extra is None or isinstance(error, MissingExtra):
        return error
    return MissingExtra(feature, extra, getattr(error, "name", None) or str(error))
