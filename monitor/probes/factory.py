"""The probe of one port: its kind found in the registry, its settings validated, its `${ENV}`
secrets resolved; a port whose settings cannot be used gets a probe that reports why."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import Engine

from monitor.contracts.model import DataProduct, Port
from monitor.contracts.results import ErrorClass
from monitor.probes import probe_class
from monitor.probes.base import Observation, Probe, ProbeFailure, ProbeOptions
from monitor.values.clock import Clock, utc_now
from monitor.values.extras import MissingExtra
from monitor.values.secrets import MissingSecret, resolve


class UnusablePort(Probe):
    """Stands in for a port whose settings cannot be used, so the problem is measured and shown."""

    Options = ProbeOptions

    def __init__(self, product: str, port: Port, reason: str, clock: Clock):
        super().__init__(product, port, ProbeOptions(), clock)
        self.kind = port.type
        self.reason = reason

    async def check(self) -> Observation:
        raise ProbeFailure(ErrorClass.CONFIG, self.reason)


def build_probe(product: DataProduct, port: Port, *, engine: Engine, clock: Clock = utc_now,
                context: dict[str, dict] | None = None) -> Probe:
    """The probe for one port, its `${ENV}` secrets resolved now and held only by the probe.

    `context` gives a kind extra constructor arguments (e.g. a credential for a local endpoint)."""
    try:
        kind = probe_class(port.type)
    except MissingExtra as error:  # validation reports it too; the port says so where it is shown
        return UnusablePort(product.id, port, str(error), clock)
    try:
        options = kind.Options.model_validate(resolve(port.options))
    except MissingSecret as error:
        return UnusablePort(product.id, port, str(error), clock)
    except ValidationError as error:
        fields = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        return UnusablePort(product.id, port, f"invalid settings: {fields}", clock)
    extra = dict((context or {}).get(port.type, {}))
    if getattr(kind, "needs_store", False):
        extra["engine"] = engine
    return kind(product.id, port, options, clock, **extra)
