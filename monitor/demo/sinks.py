"""Where the demo's alerts land: a local webhook receiver and a local SMTP server, each message
shown as it arrives (and kept, so a test can count them)."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web
from aiosmtpd.controller import Controller

from monitor.demo.webhooks import Received, WebhookReceiver

HOOK = re.compile(r"/hooks/([^/]+)")  # the name says whose hook it is


@dataclass(frozen=True)
class Delivered:
    channel: str  # "webhook" or "email"
    to: str
    summary: str
    at: datetime


@dataclass
class AlertSinks:
    webhook_port: int = 8090
    smtp_port: int = 8025
    on_message: Callable[[Delivered], None] = lambda message: None
    received: list[Delivered] = field(default_factory=list)
    _webhooks: WebhookReceiver | None = None
    _smtp: Controller | None = None

    async def start(self) -> None:
        self._webhooks = WebhookReceiver(self.webhook_port, answer=self._webhook)
        try:
            await self._webhooks.start()
        except OSError as error:
            raise RuntimeError(f"port {self.webhook_port} is taken ({error.strerror}); the demo's "
                               f"webhook receiver needs it") from None
        self._smtp = Controller(_SmtpHandler(self), hostname="127.0.0.1", port=self.smtp_port)
        try:
            self._smtp.start()
        except (OSError, RuntimeError) as error:
            raise RuntimeError(f"port {self.smtp_port} is taken ({error}); the demo's mail server "
                               f"needs it") from None

    async def stop(self) -> None:
        if self._smtp is not None:
            self._smtp.stop()
        if self._webhooks is not None:
            await self._webhooks.stop()

    def _keep(self, message: Delivered) -> None:
        self.received.append(message)
        self.on_message(message)

    def _webhook(self, received: Received) -> web.Response:
        hook = HOOK.fullmatch(received.path)
        if hook is None:
            raise web.HTTPNotFound()
        body = received.json
        if not isinstance(body, dict):
            return web.json_response({"error": "not JSON"}, status=400)
        summary = (f"{body.get('status', '?')}: {body.get('product', '?')} "
                   f"{body.get('objective', '?')} {body.get('condition', '')}").strip()
        self._keep(Delivered("webhook", hook[1], summary, datetime.now(UTC)))
        return web.json_response({"received": True})


class _SmtpHandler:
    def __init__(self, sinks: AlertSinks):
        self.sinks = sinks

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        for recipient in envelope.rcpt_tos:
            self.sinks._keep(Delivered("email", recipient, str(message["Subject"]),
                                       datetime.now(UTC)))
        return "250 OK"
