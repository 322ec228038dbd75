"""Prometheus Alertmanager (API v2): POST /api/v2/alerts, one per meshwatch alert (an objective
at a severity). `condition` is the one that opened the episode and stays for its whole length,
so the labels stay the same while conditions join and leave (annotation `conditions`).

Labels alertname/product/objective/condition/severity identify an alert to Alertmanager, which
groups, deduplicates and routes it further. A firing alert carries `endsAt` = the message's
`valid_until` (two repeat intervals ahead) and is re-sent with every reminder, so Alertmanager
keeps it active while meshwatch sees it firing; a resolution sends `endsAt` = the time it
resolved.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import Field

from monitor.alerting.messages import (
    AlertItem,
    Message,
    MessageStatus,
    describe_conditions,
    describe_measure,
    describe_promise,
    describe_upstream,
)
from monitor.alerting.notifiers.base import ChannelSettings, Notifier, Secrets, post_json
from monitor.contracts.spec import Duration
from monitor.slo.conditions import alert_name


def alertmanager_alerts(message: Message) -> list[dict[str, Any]]:
    ends = message.at if message.status == MessageStatus.RESOLVED else message.valid_until
    return [_alert(message, item, ends) for item in message.alerts]


def _alert(message: Message, item: AlertItem, ends: str | None) -> dict[str, Any]:
    alert = {
        "labels": {"alertname": alert_name(item.condition), "product": message.product,
                   "objective": item.objective, "condition": item.condition,
                   "severity": item.severity, "owner": str(message.owner.get("team") or "")},
        "annotations": {
            "summary": f"{message.product} {item.objective}: {item.condition} ({item.severity})",
            "description": f"promised: {describe_promise(item)}; "
                           f"measured: {describe_measure(item)}",
            "conditions": describe_conditions(item),
            "dashboard_url": message.dashboard_url,
            "owner_contact": str(message.owner.get("contact") or "")},
        "startsAt": item.since,
        "generatorURL": message.dashboard_url,
    }
    cause = describe_upstream(item)
    if cause:  # an annotation, not a label: the alert stays one alert as its cause changes
        alert["annotations"]["upstream"] = cause  # type: ignore[index]
    if ends:
        alert["endsAt"] = ends
    return alert


class AlertmanagerSettings(ChannelSettings):
    type: Literal["alertmanager"]
    url: str = Field(description="Alertmanager's base URL, e.g. http://127.0.0.1:9093")
    headers: dict[str, str] = {}
    timeout: Duration = timedelta(seconds=10)


class AlertmanagerNotifier(Notifier):
    kind = "alertmanager"
    Settings = AlertmanagerSettings
    no_reports = "Alertmanager takes alerts, not documents"

    @classmethod
    def from_settings(cls, settings: AlertmanagerSettings, secrets: Secrets,
                      smtp=None) -> AlertmanagerNotifier:
        return cls(url=secrets.required(settings.url),
                   headers={k: secrets.required(v) for k, v in settings.headers.items()},
                   timeout=settings.timeout)

    def __init__(self, url: str, headers: dict[str, str] | None = None,
                 timeout: timedelta = timedelta(seconds=10)):
        self.url, self.headers, self.timeout = url.rstrip("/"), headers or {}, timeout

    def send(self, message: Message) -> None:
        post_json(f"{self.url}/api/v2/alerts", alertmanager_alerts(message), self.headers,
                  self.timeout)
