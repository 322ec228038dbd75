"""Generic JSON webhook: POST one versioned document per message, optionally HMAC-signed.

Payload version "1" (see docs/alerting.md): the first (most severe) alert's fields at the top —
status, product, objective, condition, severity, measured, promised, since, conditions,
upstream — plus dashboard_url, owner, at, reminder, delivery_id, and `alerts`: every alert of
the message in the same shape. `upstream` (added in meshwatch's lineage release; fields are only
ever added to version 1): the objectives upstream that are breached or at risk, each
`{product, objective, status, since}`. With a channel `secret`, `X-Meshwatch-Signature: sha256=<hex>` is the
HMAC-SHA256 of the exact body bytes. `X-Meshwatch-Delivery` lets a receiver drop a repeat.
`type` (added) is "alert" for these and "report" for a monthly report (`report_payload`): the
report's fields and the document inline, in `content`.

Every request also carries the Standard Webhooks headers (https://www.standardwebhooks.com/):
`webhook-id` (the outbox notification's id, the same on every retry), `webhook-timestamp` (unix
seconds at send) and, with a secret, `webhook-signature: v1,<base64 HMAC-SHA256 of
"{id}.{timestamp}.{body}">`, which a receiver rejects once the timestamp is older than its
tolerance (5 minutes) — a replayed request no longer verifies. The key is the base64 after
`whsec_` when the secret is written so, else the secret's UTF-8 bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr

from monitor.alerting.messages import Message
from monitor.alerting.notifiers.base import ChannelSettings, Notifier, Secrets, TransportError, post_json
from monitor.alerting.reports import ReportMessage
from monitor.contracts.spec import Duration
from monitor.values.clock import Clock, utc_now

PAYLOAD_VERSION = "1"
SECRET_PREFIX = "whsec_"  # a Standard Webhooks secret: the key follows in base64


def webhook_payload(message: Message) -> dict[str, Any]:
    alerts = [{"objective": a.objective, "indicator": a.indicator, "condition": a.condition,
               "severity": a.severity, "since": a.since, "reminder": a.reminder,
               "measured": a.measured, "promised": a.promised,
               "conditions": list(a.conditions or (a.condition,)),
               "upstream": [dict(u) for u in a.upstream]} for a in message.alerts]
    first = alerts[0]
    return {"version": PAYLOAD_VERSION, "type": "alert", "status": message.status,
            "product": message.product,
            "objective": first["objective"], "condition": first["condition"],
            "severity": first["severity"], "measured": first["measured"],
            "promised": first["promised"], "since": first["since"],
            "dashboard_url": message.dashboard_url, "owner": message.owner, "at": message.at,
            "reminder": message.reminder, "delivery_id": message.delivery_id, "alerts": alerts,
            "conditions": first["conditions"], "upstream": first["upstream"]}


def report_payload(report: ReportMessage) -> dict[str, Any]:
    """A report's document (docs/alerting.md): `type: report`, what it covers, `content` inline."""
    return {"version": PAYLOAD_VERSION, "type": "report", "report": report.report,
            "month": report.month, "timezone": report.timezone, "format": report.format,
            "media_type": report.media_type, "filename": report.filename,
            "summary": report.summary, "at": report.at, "delivery_id": report.delivery_id,
            "content": report.content}


def signature(secret: str, body: bytes) -> str:
    """`X-Meshwatch-Signature`: the HMAC-SHA256 of the body under the secret's UTF-8 bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signing_key(secret: str) -> bytes:
    """The Standard Webhooks key of `secret`: the bytes of the base64 after `whsec_`, else the
    secret's UTF-8 bytes. ValueError when a `whsec_` secret is not base64."""
    if not secret.startswith(SECRET_PREFIX):
        return secret.encode()
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error:
        raise ValueError("the secret starts with whsec_ but the rest is not base64") from None
    if not key:
        raise ValueError("the secret is whsec_ with no key after it")
    return key


def standard_signature(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    """`webhook-signature`: `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


class WebhookSettings(ChannelSettings):
    type: Literal["webhook"]
    url: str
    secret: SecretStr | None = Field(None, description="signs each request: webhook-signature "
                                     "(Standard Webhooks) and X-Meshwatch-Signature")
    headers: dict[str, str] = {}
    timeout: Duration = timedelta(seconds=10)
    inline: ClassVar[str | None] = "url"


class WebhookNotifier(Notifier):
    kind = "webhook"
    Settings = WebhookSettings
    no_reports = None

    @classmethod
    def from_settings(cls, settings: WebhookSettings, secrets: Secrets, smtp=None) -> WebhookNotifier:
        secret = settings.secret.get_secret_value() if settings.secret else None
        return cls(url=secrets.required(settings.url), secret=secrets(secret, sensitive=True),
                   headers={k: secrets.required(v) for k, v in settings.headers.items()},
                   timeout=settings.timeout)

    def __init__(self, url: str, secret: str | None = None, headers: dict[str, str] | None = None,
                 timeout: timedelta = timedelta(seconds=10), clock: Clock = utc_now):
        self.url, self.secret, self.headers, self.timeout = url, secret, headers or {}, timeout
        self.clock = clock  # the time `webhook-timestamp` says the request was sent
        try:
            self.key = signing_key(secret) if secret else None
        except ValueError as error:
            raise TransportError(f"webhook secret: {error}", permanent=True) from None

    def send(self, message: Message) -> None:
        self._post(webhook_payload(message), message.delivery_id)

    def send_report(self, report: ReportMessage) -> None:
        self._post(report_payload(report), report.delivery_id)

    def _post(self, payload: dict[str, Any], delivery_id: str | None) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode()
        # the outbox row's id keeps one id across retries; a message sent outside the outbox
        # is named by its body
        webhook_id = delivery_id or hashlib.sha256(body).hexdigest()[:32]
        timestamp = int(self.clock().timestamp())
        headers = {**self.headers, "webhook-id": webhook_id, "webhook-timestamp": str(timestamp)}
        if delivery_id:
            headers["X-Meshwatch-Delivery"] = delivery_id
        if self.secret and self.key:
            headers["webhook-signature"] = standard_signature(self.key, webhook_id, timestamp, body)
            headers["X-Meshwatch-Signature"] = signature(self.secret, body)
        post_json(self.url, None, headers, self.timeout, data=body)
