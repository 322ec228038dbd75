"""Overload is the monitor's problem, not the product's: runs the daemon cannot make on time, or
whose timeout its own stalled loop caused, are skipped and counted — never stored as bad events."""

from __future__ import annotations

import asyncio
import socket
import time

from sqlalchemy import func, select

from monitor.config.loading import load_config
from monitor.contracts.results import ProbeResult
from monitor.daemon.health import SkipReason
from monitor.daemon.scheduler import WRITE_BACKLOG, Daemon, Timing
from monitor.store.tables import ProbeRecord, SkippedRun
from tests.support.daemon import write_config

KEY = ("checkout/orders", "api")


def silent_port() -> socket.socket:
    """A TCP server that accepts and never answers: every probe of it times out."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    return server


def orders(port: int) -> str:
    return f"""\
    apiVersion: meshwatch/v1
    kind: DataProduct
    metadata: {{domain: checkout, name: orders}}
    owner: {{team: checkout}}
    ports:
      - {{name: api, type: http, url: "http://127.0.0.1:{port}/", interval: 1h, timeout: 1s}}
    objectives:
      - {{name: availability, port: api, indicator: availability, target: 99%}}
"""


def _rows(store, model) -> int:
    with store.connect() as connection:
        return connection.execute(select(func.count()).select_from(model)).scalar()


async def test_a_timeout_while_the_daemons_own_loop_stood_still_is_a_skipped_run(tmp_path, store):
    server = silent_port()
    try:
        daemon = Daemon(load_config(write_config(tmp_path, {"orders.yaml": orders(
            server.getsockname()[1])})), store)
        await daemon.start()
        try:
            probe = asyncio.get_running_loop().create_task(daemon._probe(KEY, 7, time.time()))
            await asyncio.sleep(0.05)  # the probe has sent its request
            time.sleep(0.4)  # the event loop stands still (a stall of the daemon, not the port)
            await probe
            assert len(daemon.buffer) == 0, "the timeout is not the port's: no result, no event"
            assert daemon.health.skipped[SkipReason.OVERLOADED] == 1

            await daemon._probe(KEY, 8, time.time())  # the same silence, with the loop running
            assert len(daemon.buffer) == 1, "a timeout with the loop free is the port's"
        finally:
            await daemon.stop()
    finally:
        server.close()
    assert _rows(store, ProbeRecord) == 1
    with store.connect() as connection:
        assert connection.execute(select(func.sum(SkippedRun.runs))).scalar() == 1
    assert daemon.health_document()["skipped_runs"]["overloaded"] == 1


async def test_runs_due_while_writes_are_behind_or_too_late_are_skipped_not_measured(
        tmp_path, store, clock):
    server = silent_port()
    try:
        daemon = Daemon(load_config(write_config(tmp_path, {"orders.yaml": orders(
            server.getsockname()[1])})), store, clock=clock)
        daemon._apply(daemon.config)
        timing = Timing.of(KEY, 5.0, 1)
        now = time.time()
        daemon._run_due(KEY, timing, 1, now - 3.0, now)  # 3 s late: over the 2.5 s grace
        for _ in range(WRITE_BACKLOG + 1):
            daemon.buffer.add(ProbeResult(*KEY, "http", clock(), ok=True))
        daemon._run_due(KEY, timing, 2, now, now)  # on time, but the store is far behind
        assert not daemon._probing, "no probe was started"
        assert (daemon.health.skipped[SkipReason.BEHIND],
                daemon.health.skipped[SkipReason.WRITES_BEHIND]) == (1, 1)
        assert daemon.health.missed_runs == 2
    finally:
        server.close()


async def test_a_port_handed_over_while_its_run_is_in_flight_keeps_that_runs_real_result(
        tmp_path, store):
    from aiohttp import web

    async def slow(_request):
        await asyncio.sleep(0.3)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        daemon = Daemon(load_config(write_config(tmp_path, {"orders.yaml": orders(port)})), store)
        daemon._apply(daemon.config)
        daemon._probing.add(KEY)
        daemon._in_flight += 1
        run = asyncio.get_running_loop().create_task(daemon._probe(KEY, 3, time.time(), counted=True))
        await asyncio.sleep(0.1)  # the request is out
        daemon._unschedule(KEY)  # its shard went to another worker (or its interval changed)
        await run
        [result] = list(daemon.buffer._pending)
        assert (result.ok, result.error) == (True, None), "the run ends as the port answered"
        assert daemon._retired == set() and daemon._in_flight == 0
        await daemon.stop()
    finally:
        await runner.cleanup()
