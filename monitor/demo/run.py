"""`meshwatch demo`: backfill weeks of history, start the stand-ins, the collector with alerting,
the alert sinks and the dashboard; stop everything cleanly on Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TimeElapsedColumn

from monitor.alerting.settings import SmtpSettings
from monitor.config.loading import Config, load_config
from monitor.daemon.runner import serve
from monitor.demo.azurite import Azurite, find_azurite
from monitor.demo.credentials import loopback_probe_context
from monitor.demo.history import backfill
from monitor.demo.sinks import AlertSinks, Delivered
from monitor.demo.standins import StandInPorts, StandIns
from monitor.store import open_store


@dataclass
class DemoPorts:
    """Where the demo's parts listen; the example config's `${…:-default}` URLs follow them."""

    standins: StandInPorts = field(default_factory=StandInPorts)
    azurite: int = 10000  # where `UseDevelopmentStorage=true` looks
    webhook: int = 8090
    smtp: int = 8025
    daemon: int = 8470
    dashboard: int = 8501


@dataclass
class DemoOptions:
    config_dir: Path = Path("config")
    data_dir: Path = Path("demo-data")
    history: timedelta = timedelta(days=21)
    ports: DemoPorts = field(default_factory=DemoPorts)
    dashboard: bool = True
    run_for: timedelta | None = None  # None: until Ctrl-C
    evaluation_interval: timedelta = timedelta(seconds=15)
    script_offset: timedelta = timedelta(0)  # start the scripted incidents this much earlier


@dataclass
class DemoOutcome:
    delivered: list[Delivered] = field(default_factory=list)
    database_url: str = ""


def demo_environment(options: DemoOptions, blob_connection_string: str | None) -> dict[str, str]:
    """The variables that point the example config's ports and the settings at the stand-ins
    (set in this process, so the dashboard it starts reads the same store)."""
    ports, data = options.ports, options.data_dir.resolve()
    environment = {
        "MESHWATCH_DATABASE_URL": f"sqlite:///{data / 'meshwatch-demo.db'}",
        "MESHWATCH_DAEMON__LISTEN": f"127.0.0.1:{ports.daemon}",
        "CHECKOUT_API_URL": f"http://127.0.0.1:{ports.standins.checkout_api}/orders/latest",
        "CHECKOUT_SQL_URL": f"sqlite:///{data / 'checkout.db'}",
        "MARKETING_API_URL": f"http://127.0.0.1:{ports.standins.marketing_api}/features/health",
        "MARKETING_LOGS_ENDPOINT": f"http://127.0.0.1:{ports.standins.logs}/v1",
        "CART_METRICS_ENDPOINT": f"http://127.0.0.1:{ports.standins.logs}",  # the same stand-in
        "MARKETING_WEBHOOK_URL": f"http://127.0.0.1:{ports.webhook}/hooks/marketing",
    }
    if blob_connection_string:
        environment["CHECKOUT_STORAGE"] = environment["CART_STORAGE"] = blob_connection_string
    return environment


def prepare_config(options: DemoOptions, blob_connection_string: str | None) -> Config:
    database = (options.data_dir / "meshwatch-demo.db").resolve()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    os.environ.update(demo_environment(options, blob_connection_string))
    return load_demo_config(options, options.config_dir)


def load_demo_config(options: DemoOptions, directory: Path) -> Config:
    """The demo's configuration: the example mesh with the demo's ports and cadence. Used at
    start and on every reload, so a reload keeps the demo's settings."""
    config = load_config(directory)
    settings = config.settings
    config.settings = settings.model_copy(update={
        "daemon": settings.daemon.model_copy(update={
            "evaluation_interval": options.evaluation_interval}),
        "alerting": settings.alerting.model_copy(update={
            "dashboard_url": f"http://localhost:{options.ports.dashboard}"}),
        # the demo's mail goes to its own sink, whatever the example's smtp says (or leaves out)
        "smtp": (settings.smtp or SmtpSettings()).model_copy(update={"host": "127.0.0.1",
                                                                     "port": options.ports.smtp}),
    })
    return config


async def run_demo(options: DemoOptions, console: Console | None = None) -> DemoOutcome:
    console = console or Console(stderr=True)
    options.data_dir.mkdir(parents=True, exist_ok=True)
    launcher = find_azurite()
    azurite = Azurite(options.ports.azurite, launcher) if launcher else None
    if azurite is not None:
        azurite.start()
    config = prepare_config(options, azurite.connection_string if azurite else None)
    if config.problems:
        for problem in config.problems:
            console.print(f"[yellow]{escape(str(problem))}[/]")
        if azurite is not None:
            azurite.stop()
        raise RuntimeError("the demo needs a valid config directory")
    outcome = DemoOutcome(database_url=config.settings.database_url)
    engine = open_store(config.settings.database_url)
    now = datetime.now(UTC)
    products = list(config.registry.products.values())
    live_start = now - options.script_offset
    standins = StandIns(live_start=live_start, data_dir=options.data_dir, ports=options.ports.standins,
                        heartbeat_url=f"http://{config.settings.daemon.listen}"
                                      f"/heartbeat/cart/events/pipeline",
                        blob_connection_string=azurite.connection_string if azurite else None)
    if azurite is None:
        console.print("[yellow]Azurite (npm) is not installed: the blob ports are served as HTTP "
                      "listings instead (http probes), so the demo runs without Node.js.[/]")
        products = standins.without_azurite(products)
        config.registry.products = {p.id: p for p in products}

    with Progress("[progress.description]{task.description}", BarColumn(),
                  "[progress.percentage]{task.percentage:>3.0f}%", TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task(f"backfilling {options.history.days} days of history", total=1.0)
        written = await asyncio.to_thread(
            backfill, engine, products, now - options.history, now, live_start,
            lambda fraction: progress.update(task, completed=fraction), config.settings.timezone)
    console.print(f"history: {written:,} probe results of {len(products)} products")

    def show(message: Delivered) -> None:
        outcome.delivered.append(message)
        console.print(f"[bold magenta]alert {message.channel} → {message.to}[/]: {message.summary}")

    sinks = AlertSinks(options.ports.webhook, options.ports.smtp, on_message=show)
    dashboard = None
    stop = asyncio.Event()
    try:
        await sinks.start()
        await standins.start()
        if options.dashboard:
            dashboard = _start_dashboard(options)
        shown = (f"dashboard http://localhost:{options.ports.dashboard} — " if options.dashboard
                 else "")
        console.print(f"[bold green]meshwatch demo is running[/]: {shown}"
                      f"health http://{config.settings.daemon.listen}/healthz — Ctrl-C stops it")
        console.print("scripted: Checkout's orders API goes down in 1 minute (alerts follow), "
                      "Cart's pipeline stalls at 3 minutes, Marketing's error burst at 6 minutes.")
        if options.run_for is not None:
            asyncio.get_running_loop().call_later(options.run_for.total_seconds(), stop.set)
        await serve(config, engine, stop_event=stop,
                    probe_context=loopback_probe_context(),
                    load=partial(load_demo_config, options))
    finally:
        await standins.stop()
        await sinks.stop()
        if dashboard is not None:
            dashboard.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                dashboard.wait(timeout=10)
        if azurite is not None:
            azurite.stop()
        engine.dispose()
    return outcome


def _start_dashboard(options: DemoOptions) -> subprocess.Popen:
    from monitor.config.settings import CONFIG_ENV
    from monitor.dashboard.launch import dashboard_command

    env = {**os.environ, CONFIG_ENV: str(options.config_dir.resolve())}
    log = open(options.data_dir / "dashboard.log", "w")  # noqa: SIM115 - lives with the process
    return subprocess.Popen(dashboard_command(options.ports.dashboard, "127.0.0.1"), env=env,
                            stdout=log, stderr=subprocess.STDOUT)



