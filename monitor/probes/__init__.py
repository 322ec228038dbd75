"""Probe kinds, found by the port's `type`. Adding a kind: one module and one line below."""

from __future__ import annotations

from importlib import import_module

from monitor.probes.base import Observation, Probe, ProbeFailure

# kind → "module:Class"; imported on first use so a kind's client library loads only when used
KINDS: dict[str, str] = {
    "http": "monitor.probes.http:HttpProbe",
    "sql": "monitor.probes.sql:SqlProbe",
    "azure_blob": "monitor.probes.azure_blob:AzureBlobProbe",
    "azure_monitor_logs": "monitor.probes.azure_monitor_logs:AzureMonitorLogsProbe",
    "heartbeat": "monitor.probes.heartbeat:HeartbeatProbe",
}


def probe_class(kind: str) -> type[Probe]:
    module, _, name = KINDS[kind].partition(":")
    return getattr(import_module(module), name)


__all__ = ["KINDS", "Observation", "Probe", "ProbeFailure", "probe_class"]
