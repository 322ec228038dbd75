"""The kinds a contract may name that the layers above define: port types (one probe module
each) and destination kinds (one notifier module each). The configuration layer passes them in,
so contracts are checked against every kind in one pass without importing probes or alerting."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pydantic import BaseModel


@dataclass(frozen=True)
class Kinds:
    ports: Mapping[str, Callable[[], type[BaseModel]]]  # port type → its options model, loaded on use
    destinations: tuple[str, ...]  # the keys of a `notify:` entry, e.g. ("channel", "email", …)
    # the settings' named channels, so `{channel: NAME}` is checked in the same pass as the
    # rest of a file (a file with other problems too); None: the caller checks channels itself
    channels: tuple[str, ...] | None = None

    def port_options(self, kind: str) -> type[BaseModel] | None:
        options = self.ports.get(kind)
        return None if options is None else options()
