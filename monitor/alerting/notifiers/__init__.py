"""Notifier kinds, found by a channel's `type`. Adding a kind: one module and one line below."""

from __future__ import annotations

from importlib import import_module

from monitor.alerting.notifiers.base import Notifier, TransportError

# kind → "module:Class"; imported on first use so a kind's client library loads only when used
KINDS: dict[str, str] = {
    "email": "monitor.alerting.notifiers.email:EmailNotifier",
    "webhook": "monitor.alerting.notifiers.webhook:WebhookNotifier",
    "apprise": "monitor.alerting.notifiers.apprise:AppriseNotifier",
    "alertmanager": "monitor.alerting.notifiers.alertmanager:AlertmanagerNotifier",
}


def notifier_class(kind: str) -> type[Notifier]:
    module, _, name = KINDS[kind].partition(":")
    return getattr(import_module(module), name)


__all__ = ["KINDS", "Notifier", "TransportError", "notifier_class"]
