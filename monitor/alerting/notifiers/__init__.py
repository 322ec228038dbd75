"""Notifier kinds, found by a channel's `type` (or a contract's `{KIND: VALUE}` destination).

A kind is one module here that owns its name, its settings model and how it sends (see
`base.Notifier`); adding one is that module plus its name in `MODULES` below.
"""

from __future__ import annotations

from importlib import import_module

from monitor.alerting.notifiers.base import ChannelSettings, Notifier, TransportError

MODULES = ("email", "webhook", "apprise", "alertmanager")


def _notifier_of(module_name: str) -> type[Notifier]:
    module = import_module(f"{__name__}.{module_name}")
    [kind] = [value for value in vars(module).values()
              if isinstance(value, type) and issubclass(value, Notifier)
              and value.__module__ == module.__name__]
    return kind


KINDS: dict[str, type[Notifier]] = {kind.kind: kind for kind in map(_notifier_of, MODULES)}
INLINE_KINDS = tuple(kind for kind, notifier in KINDS.items() if notifier.Settings.inline)


def notifier_class(kind: str) -> type[Notifier]:
    return KINDS[kind]


__all__ = ["INLINE_KINDS", "KINDS", "ChannelSettings", "Notifier", "TransportError", "notifier_class"]
