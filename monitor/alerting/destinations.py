"""From an outbox destination (`channel:NAME`, `email:ADDR`, …) to a ready notifier.

`${ENV}` placeholders in channel settings and SMTP are resolved here, at send time; the resolved
values are remembered by `monitor.values.secrets`, which removes them from every error text.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from monitor.alerting.notifiers import KINDS, Notifier, TransportError
from monitor.alerting.notifiers.base import ChannelSettings, Secrets
from monitor.alerting.routing import show_destination, split_destination
from monitor.alerting.settings import AlertingConfig
from monitor.values.secrets import MissingSecret


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    first_delay: timedelta = timedelta(seconds=30)


class Notifiers:
    """Builds the notifier of each destination from the settings (the channels and SMTP)."""

    def __init__(self, settings: AlertingConfig, environ: Mapping[str, str] = os.environ):
        self.settings = settings
        self.environ = environ
        self.retry = RetryPolicy(settings.alerting.max_attempts, settings.alerting.retry_backoff)

    def notifier_for(self, destination: str) -> Notifier:
        """The notifier of `destination`, its secrets resolved (and remembered for redaction)."""
        channel = self._channel(destination)
        secrets = Secrets(self.environ)
        try:
            notifier = KINDS[channel.type].from_settings(channel, secrets, self.settings.smtp)
        except MissingSecret as error:
            raise TransportError(f"{show_destination(destination)}: {error}",
                                 permanent=True) from None
        return notifier

    def _channel(self, destination: str) -> ChannelSettings:
        try:
            kind, value = split_destination(destination)
        except ValueError as error:
            raise TransportError(str(error), permanent=True) from None
        if kind != "channel":
            return KINDS[kind].Settings.from_inline(kind, value)
        channel = self.settings.channels.get(value)
        if channel is None:
            raise TransportError(f"no channel named {value!r} in meshwatch.yaml", permanent=True)
        return channel
