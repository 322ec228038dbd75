"""Generic JSON webhook: POST one versioned document per message, optionally HMAC-signed.

Payload version "1" (see docs/alerting.md): the first (most severe) alert's fields at the top —
status, product, objective, condition, severity, measured, promised, since, conditions,
upstream — plus dashboard_url, owner, at, reminder, delivery_id, and `alerts`: every alert of
the message in the same shape. `upstream` (added in meshwatch's lineage release; fields are only
ever added to version 1): the objectives upstream that are breached or at risk, each
`{product, objective, status, since}`. With a channel `secret`, `X-Meshwatch-Signature: sha256=<hex>` is the
HMAC-SHA256 of the exact body bytes. `X-Meshwatch-Delivery` lets a receiver drop a repeat.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr

from monitor.alerting.messages import Message
from monitor.alerting.notifiers.base import ChannelSettings, Notifier, Secrets, post_json
from monitor.contracts.spec import Duration

PAYLOAD_VERSION = "1"


def webhook_payload(message: Message) -> dict[str, Any]:
    alerts = [{"objective": a.objective, "indicator": a.indicator, "condition": a.condition,
               "severity": a.severity, "since": a.since, "reminder": a.reminder,
               "measured": a.measured, "promised": a.promised,
               "conditions": list(a.conditions or (a.condition,)),
               "upstream": [dict(u) for u in a.upstream]} for a in message.alerts]
    first = alerts[0]
    return {"version": PAYLOAD_VERSION, "status": message.status, "product": message.product,
            "objective": first["objective"], "condition": first["condition"],
            "severity": first["severity"], "measured": first["measured"],
            "promised": first["promised"], "since": first["since"],
            "dashboard_url": message.dashboard_url, "owner": message.owner, "at": message.at,
            "reminder": message.reminder, "delivery_id": message.delivery_id, "alerts": alerts,
            "conditions": first["conditions"], "upstream": first["upstream"]}


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookSettings(ChannelSettings):
    type: Literal["webhook"]
    url: str
    secret: SecretStr | None = Field(None, description="signs the body: X-Meshwatch-Signature")
    headers: dict[str, str] = {}
    timeout: Duration = timedelta(seconds=10)
    inline: ClassVar[str | None] = "url"


class WebhookNotifier(Notifier):
    kind = "webhook"
    Settings = WebhookSettings

    @classmethod
    def from_settings(cls, settings: WebhookSettings, secrets: Secrets, smtp=None) -> WebhookNotifier:
        secret = settings.secret.get_secret_value() if settings.secret else None
        return cls(url=secrets.required(settings.url), secret=secrets(secret, sensitive=True),
                   headers={k: secrets.required(v) for k, v in settings.headers.items()},
                   timeout=settings.timeout)

    def __init__(self, url: str, secret: str | None = None, headers: dict[str, str] | None = None,
                 timeout: timedelta = timedelta(seconds=10)):
        self.url, self.secret, self.headers, self.timeout = url, secret, headers or {}, timeout

    def send(self, message: Message) -> None:
        body = json.dumps(webhook_payload(message), separators=(",", ":")).encode()
        headers = dict(self.headers)
        if message.delivery_id:
            headers["X-Meshwatch-Delivery"] = message.delivery_id
        if self.secret:
            headers["X-Meshwatch-Signature"] = signature(self.secret, body)
        post_json(self.url, None, headers, self.timeout, data=body)
