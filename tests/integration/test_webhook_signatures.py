"""Webhook signatures through a real receiver: the Standard Webhooks headers verify with the
`standardwebhooks` package and with the snippet of docs/alerting.md, a replayed (old) timestamp
does not, retries keep their `webhook-id`, and the older `X-Meshwatch-Signature` still verifies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from standardwebhooks import Webhook, WebhookVerificationError

from monitor.alerting import Notifiers, deliver_due, process_evaluations
from monitor.alerting.messages import Message
from monitor.alerting.notifiers import TransportError
from monitor.alerting.notifiers.webhook import WebhookNotifier
from monitor.demo.webhooks import Received, WebhookReceiver
from monitor.store import open_store
from tests.support.alerting import AVAILABILITY, FAST_BURN, outbox, product, report, settings
from tests.support.repository import ROOT

PLAIN_SECRET = "s3cr3t-value-42"
WHSEC_SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def documented_verify():
    """The `verify` function of docs/alerting.md, run as a receiver would copy it."""
    text = (ROOT / "docs" / "alerting.md").read_text()
    section = text.split("## Webhook signatures: verifying a request", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    scope: dict = {}
    exec(compile(code, "docs/alerting.md", "exec"), scope)  # noqa: S102 - our own documentation
    return scope["verify"]


class VerifyingReceiver:
    """Answers 204 when both verifiers accept a request, 401 with their reasons otherwise."""

    def __init__(self, secret: str):
        self.secret = secret
        self.verify = documented_verify()
        self.package = Webhook(secret if secret.startswith("whsec_") else secret.encode())
        self.verdicts: list[tuple[bool, str]] = []

    def __call__(self, received: Received) -> web.Response:
        headers = {name.lower(): value for name, value in received.headers.items()}
        try:
            self.package.verify(received.body, headers)
            package = "ok"
        except WebhookVerificationError as error:
            package = str(error)
        snippet = self.verify(self.secret, headers, received.body)
        self.verdicts.append((snippet, package))
        if snippet and package == "ok":
            return web.Response(status=204)
        return web.Response(status=401, text=f"snippet: {snippet}; standardwebhooks: {package}")


@pytest.fixture
def engine(tmp_path):
    engine = open_store(f"sqlite:///{tmp_path / 'alerts.db'}")
    yield engine
    engine.dispose()


@pytest.mark.parametrize("secret", [PLAIN_SECRET, WHSEC_SECRET], ids=["plain", "whsec"])
def test_a_signed_webhook_verifies_with_standardwebhooks_and_the_documented_snippet(
        engine, clock, secret):
    verifier = VerifyingReceiver(secret)
    with WebhookReceiver(answer=verifier) as receiver:
        config = settings(channels={"team-hook": {"type": "webhook", "url": receiver.url("/signed"),
                                                  "secret": "${HOOK_SECRET}"}})
        mesh = product(owner_notify=[{"channel": "team-hook"}])
        process_evaluations(engine, [report(mesh, AVAILABILITY, FAST_BURN)], clock(), config)
        summary = deliver_due(engine, clock(), Notifiers(config, {"HOOK_SECRET": secret}), "w")

    assert summary.sent == 1, summary.errors
    assert verifier.verdicts == [(True, "ok")]
    [request] = receiver.requests
    headers = {name.lower(): value for name, value in request.headers.items()}
    [row] = outbox(engine)
    assert headers["webhook-id"] == str(row.id) == headers["x-meshwatch-delivery"]
    assert abs(int(headers["webhook-timestamp"]) - datetime.now(UTC).timestamp()) < 60
    assert re.fullmatch(r"v1,[A-Za-z0-9+/]{43}=", headers["webhook-signature"])


def test_the_older_x_meshwatch_signature_header_still_verifies(engine, clock):
    verifier = VerifyingReceiver(PLAIN_SECRET)
    with WebhookReceiver(answer=verifier) as receiver:
        config = settings(channels={"team-hook": {"type": "webhook", "url": receiver.url("/signed"),
                                                  "secret": PLAIN_SECRET}})
        mesh = product(owner_notify=[{"channel": "team-hook"}])
        process_evaluations(engine, [report(mesh, AVAILABILITY, FAST_BURN)], clock(), config)
        deliver_due(engine, clock(), Notifiers(config, {}), "w")

    [request] = receiver.requests
    expected = "sha256=" + hmac.new(PLAIN_SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Meshwatch-Signature"] == expected


def test_a_retry_keeps_its_webhook_id_and_signs_its_own_timestamp(engine, clock):
    verifier = VerifyingReceiver(WHSEC_SECRET)
    answers = [500]

    def answer(received: Received) -> web.Response:
        return web.Response(status=answers.pop(0)) if answers else verifier(received)

    with WebhookReceiver(answer=answer) as receiver:
        config = settings(channels={"team-hook": {"type": "webhook", "url": receiver.url("/signed"),
                                                  "secret": WHSEC_SECRET}})
        mesh = product(owner_notify=[{"channel": "team-hook"}])
        process_evaluations(engine, [report(mesh, AVAILABILITY, FAST_BURN)], clock(), config)
        first = deliver_due(engine, clock(), Notifiers(config, {}), "w")
        second = deliver_due(engine, clock.advance(timedelta(minutes=1)), Notifiers(config, {}), "w")

    assert (first.retrying, second.sent) == (1, 1)
    ids = {r.headers["Webhook-Id"] for r in receiver.requests}
    assert ids == {str(outbox(engine)[0].id)}
    assert verifier.verdicts == [(True, "ok")]


def test_a_request_replayed_after_five_minutes_is_refused_by_both_verifiers(clock):
    """A request whose timestamp is 6 minutes old — captured, then sent again — does not verify;
    the receiver's 401 is a permanent failure for the notifier."""
    verifier = VerifyingReceiver(WHSEC_SECRET)
    message = Message.from_payload({
        "status": "firing", "product": "checkout/orders", "at": "2026-11-02T12:00:00Z",
        "owner": {"team": "checkout"}, "dashboard_url": "http://localhost:8501", "alerts": [
            {"objective": "api-availability", "indicator": "availability",
             "condition": "fast_burn", "severity": "page", "since": "2026-11-02T12:00:00Z",
             "measured": {}, "promised": {}}]}, delivery_id="17")
    with WebhookReceiver(answer=verifier) as receiver:
        fresh = WebhookNotifier(receiver.url("/signed"), WHSEC_SECRET)
        fresh.send(message)
        replayed = WebhookNotifier(receiver.url("/signed"), WHSEC_SECRET,
                                   clock=lambda: datetime.now(UTC) - timedelta(minutes=6))
        with pytest.raises(TransportError) as refused:
            replayed.send(message)

    assert verifier.verdicts == [(True, "ok"), (False, "Message timestamp too old")]
    assert refused.value.permanent and refused.value.message.startswith("HTTP 401")
    # the same signed request, checked again by the snippet six minutes after it was sent
    first = receiver.requests[0]
    headers = {name.lower(): value for name, value in first.headers.items()}
    verify = documented_verify()
    sent_at = int(headers["webhook-timestamp"])
    assert verify(WHSEC_SECRET, headers, first.body, now=sent_at + 299)
    assert not verify(WHSEC_SECRET, headers, first.body, now=sent_at + 301)
    assert not verify("whsec_" + base64.b64encode(b"another key").decode(), headers, first.body,
                      now=sent_at)


def test_a_whsec_secret_that_is_not_base64_fails_for_good_without_showing_it():
    with pytest.raises(TransportError) as refused:
        WebhookNotifier("http://127.0.0.1:9/hook", "whsec_not*base64!")
    assert refused.value.permanent
    assert "not base64" in refused.value.message and "not*base64" not in refused.value.message
