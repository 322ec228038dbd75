"""Probe kinds, found by the port's `type`.

A kind is one module here, named after it, that owns its probe class (`kind`, `Options` — the
port's own settings and their validation — and `check`); adding one is that module plus its name
in `MODULES` below. Modules load on first use, so a kind's client library loads only when used.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module

from pydantic import BaseModel

from monitor.probes.base import Observation, Probe, ProbeFailure
from monitor.values.extras import explained

MODULES = ("http", "sql", "azure_blob", "azure_monitor_logs", "azure_monitor_metrics", "heartbeat")


@cache
def probe_class(kind: str) -> type[Probe]:
    if kind not in MODULES:
        raise KeyError(f"unknown port type {kind!r}")
    try:
        module = import_module(f"{__name__}.{kind}")
    except ImportError as error:  # its client library comes with an extra (monitor.values.extras)
        raise explained(error, f"port type {kind!r}") from error
    [probe] = [value for value in vars(module).values()
               if isinstance(value, type) and issubclass(value, Probe)
               and value.__module__ == module.__name__]
    assert probe.kind == kind, f"{module.__name__} declares kind {probe.kind!r}"
    return probe


def _options_of(kind: str):
    def options() -> type[BaseModel]:
        return probe_class(kind).Options
    return options


PORT_KINDS = {kind: _options_of(kind) for kind in MODULES}  # for `contracts.kinds.Kinds.ports`


__all__ = ["MODULES", "PORT_KINDS", "Observation", "Probe", "ProbeFailure", "probe_class"]
