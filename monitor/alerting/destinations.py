"""From an outbox destination (`channel:NAME`, `email:ADDR`, …) to a ready notifier.

`${ENV}` placeholders in channel settings and SMTP are resolved here, at send time, and the
resolved values are scrubbed from every error message before it is stored or shown.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from monitor.alerting.notifiers import Notifier, TransportError, notifier_class
from monitor.alerting.routing import show_destination, split_destination
from monitor.config.settings import (
    AlertmanagerChannel,
    AppriseChannel,
    EmailChannel,
    Settings,
    WebhookChannel,
)
from monitor.values.secrets import MissingSecret, resolve


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    first_delay: timedelta = timedelta(seconds=30)


class Notifiers:
    """Builds the notifier of each destination from the settings (the channels and SMTP)."""

    def __init__(self, settings: Settings, environ: Mapping[str, str] = os.environ):
        self.settings = settings
        self.environ = environ
        self.retry = RetryPolicy(settings.alerting.max_attempts, settings.alerting.retry_backoff)

    def notifier_for(self, destination: str) -> tuple[Notifier, list[str]]:
        """The notifier of `destination` and the secret values to keep out of its errors."""
        try:
            kind, value = split_destination(destination)
        except ValueError as error:
            raise TransportError(str(error), permanent=True) from None
        if kind == "channel":
            channel = self.settings.channels.get(value)
            if channel is None:
                raise TransportError(f"no channel named {value!r} in meshwatch.yaml",
                                     permanent=True)
        else:
            channel = {"email": lambda: EmailChannel(type="email", to=[value]),
                       "webhook": lambda: WebhookChannel(type="webhook", url=value),
                       "apprise": lambda: AppriseChannel(type="apprise", url=value)}[kind]()
        try:
            return self._build(channel)
        except MissingSecret as error:
            raise TransportError(f"{show_destination(destination)}: {error}",
                                 permanent=True) from None

    def _build(self, channel) -> tuple[Notifier, list[str]]:
        secrets: list[str] = []

        def value(text: str | None, sensitive: bool = False) -> str | None:
            if text is None:
                return None
            resolved = resolve(text, self.environ)
            if sensitive or resolved != text:
                secrets.append(resolved)
            return resolved

        cls = notifier_class(channel.type)
        if isinstance(channel, WebhookChannel):
            secret = channel.secret.get_secret_value() if channel.secret else None
            return cls(url=value(channel.url), secret=value(secret, sensitive=True),
                       headers={k: value(v) for k, v in channel.headers.items()},
                       timeout=channel.timeout), secrets
        if isinstance(channel, AlertmanagerChannel):
            return cls(url=value(channel.url),
                       headers={k: value(v) for k, v in channel.headers.items()},
                       timeout=channel.timeout), secrets
        if isinstance(channel, AppriseChannel):
            return cls(url=value(channel.url, sensitive=True)), secrets
        smtp = self.settings.smtp
        if smtp is None:
            raise TransportError("email needs an smtp: section in meshwatch.yaml", permanent=True)
        password = smtp.password.get_secret_value() if smtp.password else None
        return cls(to=[value(a) for a in channel.to], host=smtp.host, port=smtp.port,
                   from_address=smtp.from_address, username=value(smtp.username),
                   password=value(password, sensitive=True), starttls=smtp.starttls,
                   ca_file=smtp.ca_file, timeout=smtp.timeout), secrets


def scrub(text: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 3:
            text = text.replace(secret, "***")
    return text
