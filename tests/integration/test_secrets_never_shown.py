"""No secret shown: a secret inside a port's URL, a webhook's token and a secret webhook path stay
out of what meshwatch stores, prints and logs, even when a library or a receiver echoes them."""

from __future__ import annotations

import json
import os
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from aiohttp import web
from sqlalchemy import create_engine, select

from monitor.alerting import Notifiers, alert_overview, deliver_due, process_evaluations
from monitor.demo.webhooks import WebhookReceiver
from monitor.store import open_store
from monitor.store.tables import NotificationRecord, PortState, ProbeRecord
from tests.support.alerting import AVAILABILITY, FAST_BURN, product, report, settings
from tests.support.daemon import write_config

API_KEY = "k3y-0f-the-0rders-api"
ODD_KEY = "p@ss/w0rd+with=chars"  # URL encoding changes it: both forms must go
HOOK_TOKEN = "t0ken-of-the-hook-55"
HOOK_PATH = "/services/T0AAA/B0BBB/s3cretpathpart"


class _Junk(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.recv(65536)
        self.request.sendall(b"SSH-2.0-OpenSSH_9.2\r\n\x00\x01\x02\xff garbage \x1b[31m\r\n\r\n")


@pytest.fixture
def junk_server() -> Iterator[int]:
    """Answers every connection with bytes that are not HTTP, then closes it."""
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Junk) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield server.server_address[1]
        server.shutdown()


def test_a_key_in_a_port_url_is_not_stored_printed_or_logged_when_the_answer_is_junk(
        tmp_path, junk_server):
    contract = f"""\
        apiVersion: meshwatch/v1
        kind: DataProduct
        metadata: {{domain: checkout, name: orders}}
        owner: {{team: checkout}}
        ports:
          - {{name: api, type: http, url: "http://127.0.0.1:{junk_server}/orders?key=${{API_KEY}}&n=1"}}
          - name: other
            type: http
            url: "http://127.0.0.1:{junk_server}/o?token=${{ODD_KEY}}"
            headers: {{Authorization: "Bearer literal-bearer-token-9"}}
        objectives:
          - {{name: availability, port: api, indicator: availability, target: 99%}}
    """
    directory = write_config(tmp_path, {"orders.yaml": contract})
    url = f"sqlite:///{tmp_path / 'store.db'}"
    env = {**os.environ, "API_KEY": API_KEY, "ODD_KEY": ODD_KEY, "MESHWATCH_DATABASE_URL": url}
    outputs = []
    for args in (["check", "--json"], ["check"]):
        done = subprocess.run([sys.executable, "-m", "monitor", *args, "--config", str(directory)],
                              capture_output=True, text=True, env=env, timeout=60)
        assert "Traceback" not in done.stderr, done.stderr
        outputs.append(done.stdout + done.stderr)
    results = {r["port"]: r for r in json.loads(outputs[0][:outputs[0].rindex("}") + 1])["probes"]}
    assert results["api"]["ok"] is False and results["api"]["error"]
    engine = create_engine(url)
    with engine.connect() as connection:
        stored = [dict(r._mapping) for r in connection.execute(select(ProbeRecord.__table__))]
        stored += [dict(r._mapping) for r in connection.execute(select(PortState.__table__))]
    engine.dispose()
    assert stored and all(row["error"] for row in stored)
    everything = "\n".join(outputs) + json.dumps(stored, default=str)
    for secret in (API_KEY, ODD_KEY, "p%40ss%2Fw0rd%2Bwith%3Dchars", "literal-bearer-token-9"):
        assert secret not in everything
    for row in stored:
        assert len(row["error"]) <= 500 and row["error"].isprintable()


def test_a_receiver_that_echoes_the_token_and_the_secret_path_leaves_them_out_of_the_outbox(
        tmp_path):
    def echo(received) -> web.Response:
        return web.Response(status=500, text=f"refused {received.headers.get('Authorization')} "
                                             f"at http://127.0.0.1{received.path}")

    with WebhookReceiver(answer=echo) as receiver:
        environ = {"HOOK_URL": receiver.url(HOOK_PATH), "HOOK_TOKEN": HOOK_TOKEN}
        config = settings(channels={"team-hook": {
            "type": "webhook", "url": "${HOOK_URL}",
            "headers": {"Authorization": "Bearer ${HOOK_TOKEN}"}}})
        engine = open_store(f"sqlite:///{tmp_path / 'alerts.db'}")
        mesh = product(owner_notify=[{"channel": "team-hook"}])
        at = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
        process_evaluations(engine, [report(mesh, AVAILABILITY, FAST_BURN)], at, config)
        summary = deliver_due(engine, at, Notifiers(config, environ), "w")
        [request] = receiver.requests
    assert request.path == HOOK_PATH and request.headers["Authorization"] == f"Bearer {HOOK_TOKEN}"
    assert summary.retrying == 1
    with engine.connect() as connection:
        [row] = connection.execute(select(NotificationRecord.__table__)).all()
        overview = json.dumps(alert_overview(connection, at), default=str)
    engine.dispose()
    assert row.last_error.startswith("HTTP 500") and "***" in row.last_error
    for text in (row.last_error, overview, " ".join(summary.errors)):
        assert HOOK_TOKEN not in text and "s3cretpathpart" not in text
