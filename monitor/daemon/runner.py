"""Run the daemon until SIGTERM/SIGINT (clean stop) with SIGHUP reloading the configuration."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from monitor.alerting.service import AlertingService
from monitor.config.loading import Config, load_config
from monitor.daemon.endpoints import make_app
from monitor.daemon.leases import Leases
from monitor.daemon.reports import CHECK_EVERY, MonthlyReports
from monitor.daemon.scheduler import AfterEvaluation, Daemon
from monitor.values.clock import Clock, utc_now
from monitor.values.extras import Extra, require

if TYPE_CHECKING:
    from monitor.telemetry.provider import Telemetry

log = logging.getLogger("meshwatch.daemon")
DELIVERY_INTERVAL = timedelta(seconds=10)


def _telemetry(config: Config) -> Telemetry | None:
    """Telemetry with the configured exporters; None without any. MissingExtra when exporters
    are configured and the `telemetry` extra is not installed."""
    if not config.settings.telemetry.exporters:
        return None
    require(Extra.TELEMETRY, "telemetry.exporters in meshwatch.yaml")
    from monitor.telemetry.provider import start_telemetry

    return start_telemetry(config.settings)


@dataclass
class Parts:
    daemon: Daemon
    alerting: AlertingService | None
    telemetry: Telemetry | None
    reports: MonthlyReports | None = None  # with alerting: reports go out through its outbox


def assemble(config: Config, engine, *, alerting: bool = True, probe_context: dict | None = None,
             clock: Clock = utc_now, load: Callable[[Path], Config] = load_config) -> Parts:
    """The daemon wired to alerting, telemetry and shard leases (so any number of daemons share
    one store's mesh). Alerting follows each accepted reload (its settings, channels and SMTP);
    telemetry keeps the exporters it started with."""
    service = AlertingService(engine, config.settings) if alerting else None
    telemetry = _telemetry(config)
    after_evaluation: list[AfterEvaluation] = [service.after_evaluation] if service else []
    if telemetry:
        after_evaluation.append(telemetry.after_evaluation)
    daemon = Daemon(config, engine, clock=clock, probe_context=probe_context,
                    after_evaluation=after_evaluation,
                    periodic=[(DELIVERY_INTERVAL, service.deliver)] if service else [],
                    on_result=[telemetry.on_result] if telemetry else [],
                    on_config=[lambda reloaded: service.reconfigure(reloaded.settings)]
                    if service else [],
                    load=load, leases=Leases(engine, clock))
    if telemetry:
        daemon.buffer.on_stored.append(telemetry.on_events)  # the events the store recorded
        telemetry.watch(daemon)
    reports = MonthlyReports(engine) if service else None
    if reports is not None:
        daemon.periodic.append((CHECK_EVERY, lambda at: reports.check(daemon.config, at)))
    return Parts(daemon, service, telemetry, reports)


async def serve(config: Config, engine, *, alerting: bool = True,
                stop_event: asyncio.Event | None = None, probe_context: dict | None = None,
                on_started: Callable[[Daemon], None] | None = None,
                load: Callable[[Path], Config] = load_config, parent: int | None = None,
                clock: Clock = utc_now) -> None:
    """Run until SIGTERM/SIGINT or `stop_event`. A worker started by `meshwatch run --workers N`
    (`parent`: the supervisor's pid) shares the listening port with its siblings and stops when
    its parent is gone."""
    parts = assemble(config, engine, alerting=alerting, probe_context=probe_context, load=load,
                     clock=clock)
    daemon, telemetry = parts.daemon, parts.telemetry
    stop = stop_event or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    reloads: set[asyncio.Task] = set()

    async def reload_now() -> None:
        try:
            await daemon.reload()
        except Exception:  # noqa: BLE001 - a failed reload leaves the running configuration
            log.exception("reload on SIGHUP failed")

    def reload() -> None:
        task = loop.create_task(reload_now())
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, reload)
    runner = web.AppRunner(make_app(daemon), access_log=None)
    await runner.setup()
    host, port = config.settings.daemon.host_port
    try:
        await web.TCPSite(runner, host, port, reuse_port=parent is not None).start()
    except OSError as error:
        await runner.cleanup()
        if telemetry:
            await asyncio.to_thread(telemetry.shutdown)
        raise SystemExit(f"cannot listen on {host}:{port}: {error.strerror}") from None
    log.info("health and heartbeat endpoints on http://%s:%d", host, port)
    await daemon.start()
    if parts.reports is not None:  # a daemon that was down on the 1st sends the report now
        await asyncio.to_thread(parts.reports.check, daemon.config, daemon.clock())
    await daemon.evaluate_round()  # (its alerting round delivers what is due)
    if on_started is not None:
        on_started(daemon)
    orphaned = loop.create_task(_watch_parent(parent, stop)) if parent is not None else None
    try:
        await stop.wait()
    finally:
        if orphaned is not None:
            orphaned.cancel()
        log.info("stopping: letting probes in flight finish, writing buffered measurements")
        await daemon.stop()
        await runner.cleanup()
        if telemetry:
            await asyncio.to_thread(telemetry.shutdown)  # a last export, then the exporters stop
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(signum)


async def _watch_parent(parent: int, stop: asyncio.Event) -> None:
    """Stop when the supervisor is gone (killed with -9): a worker never outlives its parent."""
    while os.getppid() == parent:
        await asyncio.sleep(1)
    log.warning("the supervisor (pid %d) is gone: stopping", parent)
    stop.set()
