"""`meshwatch run` as a real process: it serves /healthz, and SIGTERM while a probe is in flight
lets that probe finish and writes its measurement before the process exits."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

from aiohttp import web
from sqlalchemy import select

from monitor.store import open_store
from monitor.store.tables import ProbeRecord
from tests.support.daemon import write_config
from tests.support.ports import free_port

SLOW_PRODUCT = """\
    apiVersion: meshwatch/v1
    kind: DataProduct
    metadata: {domain: checkout, name: orders}
    owner: {team: checkout}
    ports:
      - {name: api, type: http, url: "http://127.0.0.1:%d/slow", interval: 3s, timeout: 2500ms}
    objectives:
      - {name: availability, port: api, indicator: availability, target: 99%%}
"""


class SlowServer:
    """Answers after 1.5 s and tells the test when a request has arrived."""

    def __init__(self):
        self.port = free_port()
        self.arrived = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def _slow(self, _request):
        self.arrived.set()
        await asyncio.sleep(1.5)
        return web.json_response({"ok": True})

    def start(self):
        self.thread.start()
        app = web.Application()
        app.router.add_get("/slow", self._slow)
        self.runner = web.AppRunner(app)
        asyncio.run_coroutine_threadsafe(self.runner.setup(), self.loop).result()
        site = web.TCPSite(self.runner, "127.0.0.1", self.port)
        asyncio.run_coroutine_threadsafe(site.start(), self.loop).result()

    def stop(self):
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)


def test_sigterm_lets_the_probe_in_flight_finish_and_writes_it(tmp_path):
    server = SlowServer()
    server.start()
    listen = free_port()
    directory = write_config(tmp_path / "config", {"orders.yaml": SLOW_PRODUCT % server.port})
    database = f"sqlite:///{tmp_path / 'meshwatch.db'}"
    env = {**os.environ, "MESHWATCH_DATABASE_URL": database,
           "MESHWATCH_DAEMON__LISTEN": f"127.0.0.1:{listen}"}
    daemon = subprocess.Popen([sys.executable, "-m", "monitor", "run", "--config", str(directory),
                               "--log-format", "json"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        health = _wait_for_health(listen)
        assert health["scheduler"] == "running" and health["ports"] == 1
        assert server.arrived.wait(timeout=10), "the daemon probed the port"
        sent_at = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        _, logs = daemon.communicate(timeout=20)
    finally:
        if daemon.poll() is None:
            daemon.kill()
        server.stop()
    assert daemon.returncode == 0, logs
    assert time.monotonic() - sent_at >= 1.0, "it waited for the probe in flight"
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert any("stopping" in line["message"] for line in lines)
    engine = open_store(database)
    with engine.connect() as connection:
        results = connection.execute(select(ProbeRecord.ok, ProbeRecord.latency_ms)).all()
    engine.dispose()
    assert results and results[-1].ok and results[-1].latency_ms >= 1400


def _wait_for_health(port: int, within: float = 20) -> dict:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
                return json.loads(answer.read())
        except OSError:
            time.sleep(0.1)  # waiting for the daemon this test started
    raise AssertionError(f"no /healthz on port {port} within {within:g}s")
