"""Run the daemon until SIGTERM/SIGINT (clean stop) with SIGHUP reloading the contracts."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from datetime import timedelta

from aiohttp import web

from monitor.alerting.service import AlertingService
from monitor.config import Config
from monitor.daemon import Daemon
from monitor.telemetry import start_telemetry
from monitor.web import make_app

log = logging.getLogger("meshwatch.daemon")


async def serve(config: Config, engine, *, alerting: bool = True,
                stop_event: asyncio.Event | None = None, probe_context: dict | None = None,
                on_started: Callable[[Daemon], None] | None = None) -> None:
    service = AlertingService(engine, config.settings) if alerting else None
    telemetry = start_telemetry(config.settings)  # None unless exporters are configured
    after_evaluation = [service.after_evaluation] if service else []
    if telemetry:
        after_evaluation.append(telemetry.after_evaluation)
    daemon = Daemon(config, engine, probe_context=probe_context, after_evaluation=after_evaluation,
                    periodic=[(timedelta(seconds=10), service.deliver)] if service else [],
                    on_result=[telemetry.on_result] if telemetry else [])
    if telemetry:
        telemetry.watch(daemon)
    stop = stop_event or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(daemon.reload()))
    runner = web.AppRunner(make_app(daemon), access_log=None)
    await runner.setup()
    host, port = config.settings.daemon.host_port
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as error:
        await runner.cleanup()
        if telemetry:
            await asyncio.to_thread(telemetry.shutdown)
        raise SystemExit(f"cannot listen on {host}:{port}: {error.strerror}") from None
    log.info("health and heartbeat endpoints on http://%s:%d", host, port)
    await daemon.start()
    await daemon.evaluate_round()
    if on_started is not None:
        on_started(daemon)
    try:
        await stop.wait()
    finally:
        log.info("stopping: letting probes in flight finish, writing buffered measurements")
        await daemon.stop()
        await runner.cleanup()
        if telemetry:
            await asyncio.to_thread(telemetry.shutdown)  # a last export, then the exporters stop
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(signum)
