"""Slack, Teams, PagerDuty and ~100 other services through one apprise URL."""

from __future__ import annotations

import apprise

from monitor.alerting.messages import Message, MessageStatus, subject, text
from monitor.alerting.notifiers.base import Notifier, TransportError


class AppriseNotifier(Notifier):
    kind = "apprise"

    def __init__(self, url: str):
        self.url = url

    def send(self, message: Message) -> None:
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
