"""Each notifier against a real server on loopback: aiosmtpd, aiohttp, apprise json://, Alertmanager."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from monitor.alerting import Notifiers, deliver_due, process_evaluations
from monitor.alerting.messages import AlertItem, Message
from monitor.alerting.notifiers import TransportError
from monitor.alerting.notifiers.email import EmailNotifier
from monitor.config.settings import Settings
from monitor.demo.webhooks import WebhookReceiver
from monitor.store import open_store
from monitor.values.secrets import redacted
from tests.support.alerting import AVAILABILITY, FAST_BURN, healthy, product, report
from tests.support.clock import FakeClock
from tests.support.ports import free_port

ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


class Mailbox:
    def __init__(self, refuse: set[str] = frozenset()):
        self.messages: list = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted"


@pytest.fixture
def mailbox():
    box = Mailbox(refuse={"gone@contoso.example"})
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


@pytest.fixture
def engine(tmp_path):
    engine = open_store(f"sqlite:///{tmp_path / 'alerts.db'}")
    yield engine
    engine.dispose()


def message(status: str = "firing") -> Message:
    item = AlertItem(objective="api-availability", indicator="availability", condition="fast_burn",
                     severity="page", since="2026-11-02T12:00:00Z",
                     measured={"compliance": 0.95, "error_budget_remaining": -49.0, "good": 950,
                               "total": 1000, "burn_rate": 50.0, "burn_rate_short": 48.0,
                               "freshness_age_seconds": None},
                     promised={"indicator": "availability", "target": 0.999,
                               "target_text": "99.9%", "window": "30d", "threshold": None,
                               "burn_rate_threshold": 14.4, "long_window": "1h",
                               "short_window": "5m"})
    return Message(status=status, product="checkout/orders", at="2026-11-02T12:00:00Z",
                   owner={"team": "checkout", "contact": "checkout-data@contoso.example"},
                   dashboard_url="http://localhost:8501/product?product=checkout/orders",
                   alerts=(item,), valid_until="2026-11-02T20:00:00Z")


def test_email_goes_through_smtp_as_plain_text_and_html(engine, mailbox, clock):
    box, port = mailbox
    config = Settings(smtp={"host": "127.0.0.1", "port": port,
                            "from_address": "meshwatch@contoso.example"})
    mesh = product(owner_notify=[{"email": "checkout-data@contoso.example"}])
    process_evaluations(engine, [report(mesh, AVAILABILITY, FAST_BURN)], clock(), config)
    assert deliver_due(engine, clock(), Notifiers(config), "w").sent == 1

    [(envelope, mail)] = box.messages
    assert envelope.rcpt_tos == ["checkout-data@contoso.example"]
    assert mail["Subject"] == "[FIRING] checkout/orders: api-availability fast_burn (page)"
    assert mail["From"] == "meshwatch@contoso.example"
    plain = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "promised: availability for 99.9% over 30d" in plain
    assert "compliance 95.000%" in plain and "burn rate 50.00" in plain
    assert "http://localhost:8501/product?product=checkout/orders" in plain
    assert "Owner: checkout <checkout-data@contoso.example>" in plain
    assert "<table" in html and "api-availability" in html


def test_email_logs_in_over_starttls_with_the_password_from_the_environment(tmp_path):
    cert, key = _self_signed_certificate(tmp_path)
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins = []

    def authenticate(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"hunter22", handled=False)

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port(), tls_context=context,
                            require_starttls=True, authenticator=authenticate)
    controller.start()
    try:
        config = Settings(smtp={"host": "127.0.0.1", "port": controller.port, "starttls": True,
                                "ca_file": str(cert), "username": "meshwatch",
                                "password": "${SMTP_PASSWORD}"})
        notifier = Notifiers(config, {"SMTP_PASSWORD": "hunter22"}).notifier_for(
            "email:ops@contoso.example")
        notifier.send(message())
        # a secret is redacted from every later text: one no other test's answer holds
        wrong = Notifiers(config, {"SMTP_PASSWORD": "wrong-smtp-password"}).notifier_for(
            "email:ops@contoso.example")
        with pytest.raises(TransportError) as refused:
            wrong.send(message())
    finally:
        controller.stop()
    assert logins[0] == (b"meshwatch", b"hunter22")
    assert len(box.messages) == 1
    assert refused.value.permanent and "hunter22" not in refused.value.message
    assert redacted("535 login hunter22 refused") == "535 login *** refused"  # remembered when resolved


def test_an_invalid_or_refused_address_fails_permanently(mailbox):
    _, port = mailbox
    for address, reason in (("not-an-address", "invalid email address"),
                            ("gone@contoso.example", "550")):
        notifier = EmailNotifier([address], "127.0.0.1", port)
        with pytest.raises(TransportError) as error:
            notifier.send(message())
        assert error.value.permanent and reason in error.value.message


def test_an_unreachable_mail_server_is_a_temporary_failure():
    with pytest.raises(TransportError) as error:
        EmailNotifier(["ops@contoso.example"], "127.0.0.1", free_port(),
                      timeout=timedelta(seconds=2)).send(message())
    assert not error.value.permanent


def test_apprise_delivers_to_a_json_endpoint():
    with WebhookReceiver() as receiver:
        notifier = Notifiers(Settings()).notifier_for(
            f"apprise:json://127.0.0.1:{receiver.port}/apprise")
        notifier.send(message())
        receiver.statuses.append(500)
        with pytest.raises(TransportError) as error:
            notifier.send(message("resolved"))
    [first, _] = receiver.at("/apprise")
    assert first.json["title"] == "[FIRING] checkout/orders: api-availability fast_burn (page)"
    assert "compliance 95.000%" in first.json["message"]
    assert first.json["type"] == "failure"
    assert not error.value.permanent


def test_apprise_rejects_a_url_it_cannot_read():
    notifier = Notifiers(Settings()).notifier_for("apprise:nosuchscheme://x")
    with pytest.raises(TransportError) as error:
        notifier.send(message())
    assert error.value.permanent


@pytest.fixture
def alertmanager(tmp_path):
    if ALERTMANAGER is None:
        pytest.skip("prometheus-alertmanager is not installed (apt-get install "
                    "prometheus-alertmanager)")
    config = tmp_path / "alertmanager.yml"
    config.write_text("route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n")
    port = free_port()
    process = subprocess.Popen(
        [ALERTMANAGER, f"--config.file={config}", f"--storage.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"Alertmanager did not start: {process.stderr.read().decode()[-500:]}")
        time.sleep(0.1)  # waiting for a server this test started
    yield url
    process.terminate()
    process.wait(10)


def am_alerts(url: str) -> list[dict]:
    with urllib.request.urlopen(f"{url}/api/v2/alerts", timeout=5) as response:
        return json.load(response)


def test_alertmanager_receives_the_alert_and_its_end(engine, alertmanager):
    # Alertmanager compares endsAt with its own clock: keep the evaluations in the real past
    clock = FakeClock(datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=10))
    # resolve in the next round (keep_firing_for 0s): Alertmanager's own clock must not pass it
    config = Settings(channels={"am": {"type": "alertmanager", "url": alertmanager}},
                      alerting={"keep_firing_for": "0s"})
    mesh = product(owner_notify=[{"channel": "am"}])
    process_evaluations(engine, [report(mesh, AVAILABILITY, FAST_BURN)], clock(), config)
    assert deliver_due(engine, clock(), Notifiers(config), "w").sent == 1

    [alert] = am_alerts(alertmanager)
    assert alert["labels"] == {"alertname": "MeshwatchFastBurn", "product": "checkout/orders",
                               "objective": "api-availability", "condition": "fast_burn",
                               "severity": "page", "owner": "checkout"}
    assert alert["status"]["state"] == "active"
    assert alert["annotations"]["summary"] == "checkout/orders api-availability: fast_burn (page)"
    assert "burn rate 50.00" in alert["annotations"]["description"]
    assert alert["endsAt"].startswith(
        (clock() + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M"))  # two repeat intervals

    process_evaluations(engine, [healthy(mesh, AVAILABILITY)], clock.advance(), config)
    assert deliver_due(engine, clock(), Notifiers(config), "w").sent == 1
    assert am_alerts(alertmanager) == []  # resolved: no longer among the active alerts
    with urllib.request.urlopen(f"{alertmanager}/api/v2/alerts/groups", timeout=5) as response:
        assert json.load(response) == []


def test_alertmanager_rejecting_the_payload_is_permanent(alertmanager):
    notifier = Notifiers(Settings(channels={"am": {"type": "alertmanager",
                                                      "url": alertmanager}})
                            ).notifier_for("channel:am")
    broken = Message(**{**message().__dict__, "alerts": (), "delivery_id": None})
    from monitor.alerting.notifiers.base import post_json

    with pytest.raises(TransportError) as error:
        post_json(f"{alertmanager}/api/v2/alerts", [{"labels": {}}])
    assert error.value.permanent and "HTTP 400" in error.value.message
    notifier.send(broken)  # an empty list is accepted: nothing to say


def _self_signed_certificate(tmp_path):
    crypto = pytest.importorskip("cryptography")
    del crypto
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(minutes=5))
                   .not_valid_after(now + timedelta(hours=1))
                   .add_extension(x509.SubjectAlternativeName(
                       [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    cert, key_file = tmp_path / "smtp.crt", tmp_path / "smtp.key"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert, key_file
