"""Slack, Teams, PagerDuty and ~100 other services through one apprise URL."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from monitor.alerting.messages import Message, MessageStatus, subject, text
from monitor.alerting.notifiers.base import ChannelSettings, Notifier, Secrets, TransportError


class AppriseSettings(ChannelSettings):
    type: Literal["apprise"]
    url: str = Field(description="an apprise URL, e.g. slack://…, msteams://…, pagerduty://…")
    inline: ClassVar[str | None] = "url"

    @classmethod
    def show(cls, value: str) -> str:
        scheme, _, _ = value.partition("://")  # an apprise URL holds its tokens anywhere
        return f"{scheme}://…"


class AppriseNotifier(Notifier):
    kind = "apprise"
    Settings = AppriseSettings
    no_reports = "its services take a short message, not a document"

    @classmethod
    def from_settings(cls, settings: AppriseSettings, secrets: Secrets, smtp=None) -> AppriseNotifier:
        return cls(url=secrets.required(settings.url, sensitive=True))  # tokens live in the URL

    def __init__(self, url: str):
        self.url = url

    def send(self, message: Message) -> None:
        import apprise  # here: the library takes a while to load, and only this kind needs it

        client = apprise.Apprise()
        if not client.add(self.url):
            raise TransportError("apprise does not recognise this URL (check its scheme and "
                                 "fields)", permanent=True)
        kind = apprise.NotifyType.SUCCESS if message.status == MessageStatus.RESOLVED \
            else apprise.NotifyType.FAILURE
        with apprise.LogCapture(level=apprise.logging.WARNING) as log:
            delivered = client.notify(title=subject(message), body=text(message),
                                      notify_type=kind, body_format=apprise.NotifyFormat.TEXT)
            problems = [line for line in log.getvalue().splitlines() if line.strip()]
        if not delivered:
            raise TransportError("apprise could not deliver"
                                 + (f": {problems[-1].strip()}" if problems else ""))
