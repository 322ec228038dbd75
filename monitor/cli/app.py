"""The `meshwatch` command: parse, call, print, exit code."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from monitor.cli.console import print_evaluations, print_probes, print_products, print_tier_stats
from monitor.cli.export import export_app
from monitor.config.loading import Config, load_config
from monitor.config.settings import CONFIG_ENV
from monitor.contracts.model import product_json
from monitor.dashboard.launch import serve_dashboard
from monitor.evaluation.mesh import evaluate_mesh, objective_json, window_end
from monitor.reports.months import Month
from monitor.reports.reading import read_uptime_report
from monitor.reports.render import output_format, render
from monitor.store import StoreUnavailable, open_store
from monitor.store.engine import StoreNotCreated, open_current_reader, store_error_text
from monitor.store.importer import import_events
from monitor.store.partitions import ensure_ahead
from monitor.store.retention import prune, retention_by_tier, tier_stats
from monitor.store.rollups import floor_minute, minute_time
from monitor.values.durations import format_duration
from monitor.values.extras import Extra, MissingExtra, require
from monitor.values.limits import YEARS
from monitor.values.text import iso_time

app = typer.Typer(help="SLO monitoring for the data products of a data mesh.",
                  no_args_is_help=True, add_completion=False)
out = Console()
out.width = out.width if out.is_terminal else 200  # pipes and CI logs get whole rows
err = Console(stderr=True, soft_wrap=True)  # messages stay whole lines in logs

ConfigDir = Annotated[Path, typer.Option(
    "--config", "-c", envvar=CONFIG_ENV, help="Directory with meshwatch.yaml and the contracts.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def _usable_config(config_dir: Path) -> Config:
    """The configuration, with its problems on stderr; exits 2 when the settings are unusable."""
    config = load_config(config_dir)
    for problem in config.problems:
        err.print(f"[yellow]{escape(str(problem))}[/]", highlight=False)
    if any(p.file.endswith("meshwatch.yaml") or p.field == "(directory)" for p in config.problems):
        raise typer.Exit(2)
    return config


@contextmanager
def _extras_named() -> Iterator[None]:
    """A feature that needs an extra not installed: its message, exit 2."""
    try:
        yield
    except MissingExtra as error:
        err.print(f"[red]{escape(str(error))}[/]", highlight=False)
        raise typer.Exit(2) from None


def _store(config: Config) -> Engine:
    """The store, migrated, for a command that writes; exits 3 when it cannot be opened."""
    try:
        return open_store(config.settings.database_url)
    except StoreUnavailable as error:
        err.print(f"[red]{escape(str(error))}[/]", highlight=False)
        raise typer.Exit(3) from None


def _reader(config: Config) -> Engine:
    """The store, read-only and never migrated, for a command that only reads; exits 3 when it
    cannot be opened. Where nothing was ever stored, the answers are those of an empty store."""
    try:
        return open_current_reader(config.settings.database_url)
    except StoreNotCreated:
        return open_store("sqlite://")  # in memory: no file is created for a question
    except StoreUnavailable as error:
        err.print(f"[red]{escape(str(error))}[/]", highlight=False)
        raise typer.Exit(3) from None


@app.command()
def validate(paths: Annotated[list[Path] | None, typer.Argument(
                 help="Contract files or directories (default: the config directory).")] = None,
             config_dir: ConfigDir = Path("config")) -> None:
    """Check contracts and settings; print every problem as file:line: field: message."""
    config = load_config(config_dir, paths or ())
    for problem in config.problems:
        out.print(str(problem), highlight=False, soft_wrap=True, markup=False)
    products = len(config.registry.products)
    if config.problems:
        err.print(f"[red]{len(config.problems)} problem(s)[/]; {products} product(s) valid")
        raise typer.Exit(1)
    err.print(f"[green]valid[/]: {products} product(s)")


@app.command()
def contracts(config_dir: ConfigDir = Path("config"), as_json: AsJson = False) -> None:
    """List the loaded products: ports, objectives, consumers, validity, what is not monitored."""
    config = _usable_config(config_dir)
    products = sorted(config.registry.products.values(), key=lambda p: p.id)
    if as_json:
        document = {"products": [product_json(p) for p in products],
                    "problems": [str(p) for p in config.problems]}
        out.print_json(json.dumps(document))
    else:
        print_products(out, products)


@app.command("import")
def import_(file: Annotated[Path, typer.Argument(help="CSV or JSON Lines with columns timestamp, "
                                                      "product, objective, good, total.")],
            config_dir: ConfigDir = Path("config")) -> None:
    """Backfill indicator events from a file; nothing is stored when any row is bad."""
    if not file.is_file():
        err.print(f"[red]{escape(str(file))}: no such file[/]")
        raise typer.Exit(1)
    config = _usable_config(config_dir)
    known = {(p.id, o.name) for p in config.registry.products.values() for o in p.objectives}
    engine = _store(config)
    size = file.stat().st_size
    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                  TimeRemainingColumn(), console=err, disable=not err.is_terminal) as progress:
        task = progress.add_task(f"importing {file.name}", total=size)
        result = import_events(engine, file, known,
                               on_progress=lambda done: progress.update(task, completed=done))
    if result.problems:
        for problem in result.problems[:50]:
            out.print(f"{file}:{problem.line}: {problem.message}", highlight=False, soft_wrap=True,
                      markup=False)
        if len(result.problems) > 50:
            out.print(f"… and {len(result.problems) - 50} more")
        err.print(f"[red]{len(result.problems)} bad row(s); nothing was imported[/]")
        raise typer.Exit(1)
    err.print(f"[green]imported {result.imported} event row(s)[/] from {escape(str(file))}")


@app.command()
def run(config_dir: ConfigDir = Path("config"),
        log_format: Annotated[str, typer.Option("--log-format", help="text or json")] = "text",
        workers: Annotated[str, typer.Option(
            "--workers", envvar="MESHWATCH_WORKERS",
            help="Worker processes on this machine: a number, or auto (one per core).")] = "1",
        worker_of: Annotated[int | None, typer.Option("--worker-of", hidden=True)] = None,
        ) -> None:
    """Start the collector daemon: probe every port on schedule, store, evaluate, alert. Any
    number of daemons (--workers on one machine, or several machines on one PostgreSQL) share
    the mesh through the store."""
    import asyncio

    from monitor.daemon.logs import setup_logging
    from monitor.daemon.runner import serve
    from monitor.daemon.supervisor import supervise, worker_count

    setup_logging(log_format)
    try:
        count = 1 if worker_of is not None else worker_count(workers)
    except ValueError as error:
        err.print(f"[red]{escape(str(error))}[/]", highlight=False)
        raise typer.Exit(2) from None
    config = _usable_config(config_dir)
    engine = _store(config)  # migrated once, before any worker starts
    if count > 1:
        engine.dispose()
        command = [sys.executable, "-m", "monitor", "run", "--config", str(config_dir),
                   "--log-format", log_format]
        raise typer.Exit(supervise(command, count))
    with _extras_named():
        asyncio.run(serve(config, engine, parent=worker_of))


@app.command()
def demo(config_dir: ConfigDir = Path("config"),
         port: Annotated[int, typer.Option("--port", help="Port of the dashboard.")] = 8501,
         history: Annotated[int, typer.Option("--history", help="Days of history to backfill.")] = 21,
         run_for: Annotated[str | None, typer.Option(
             "--for", help="Stop after this long (e.g. 5m); default: until Ctrl-C.")] = None,
         no_dashboard: Annotated[bool, typer.Option("--no-dashboard")] = False) -> None:
    """The demo mesh: simulated products with weeks of history, the collector, alerts to a local
    webhook and mail server, and the dashboard — on SQLite, in ./demo-data."""
    import asyncio

    from monitor.daemon.logs import setup_logging
    from monitor.values.durations import parse_duration

    with _extras_named():
        require(Extra.DEMO, "meshwatch demo")
    from monitor.demo.run import DemoOptions, DemoPorts, run_demo

    setup_logging("text")
    options = DemoOptions(config_dir=config_dir, history=timedelta(days=history),
                          ports=DemoPorts(dashboard=port), dashboard=not no_dashboard,
                          run_for=parse_duration(run_for) if run_for else None)
    try:
        asyncio.run(run_demo(options, err))
    except RuntimeError as error:
        err.print(f"[red]{error}[/]")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass
    err.print("demo stopped")


@app.command()
def check(config_dir: ConfigDir = Path("config"), as_json: AsJson = False) -> None:
    """Probe every port once, store, evaluate; exit 0 when all objectives are met, 1 when any is
    breached, 2 when the configuration is invalid, 3 when the store cannot be opened or did not
    take every result."""
    import asyncio

    from monitor.cli.check import ResultsNotStored, check_once, probe_json
    from monitor.daemon.logs import setup_logging

    setup_logging("text", logging.ERROR)  # the table says what the daemon would log

    config = load_config(config_dir)
    for problem in config.problems:
        err.print(f"[yellow]{problem}[/]", highlight=False)
    if config.problems:
        raise typer.Exit(2)
    engine = _store(config)
    failure: ResultsNotStored | None = None
    try:
        results, reports, at = asyncio.run(check_once(config, engine))
    except ResultsNotStored as error:  # what was measured is still shown, then the check fails
        failure, results, reports, at = error, error.results, error.reports, error.at
    if as_json:
        document = {"at": iso_time(window_end(at)),
                    "objectives": [objective_json(r) for r in reports],
                    "probes": [probe_json(r) for r in results]}
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        print_probes(out, results)
        print_evaluations(out, reports, window_end(at))
    if failure is not None:
        err.print(f"[red]{escape(str(failure))}[/]", highlight=False)
        raise typer.Exit(3)
    if any(r.evaluation.status.value == "breached" for r in reports):
        raise typer.Exit(1)


@app.command()
def evaluate(at: Annotated[datetime | None, typer.Option(
                 "--at", help="ISO-8601 time of evaluation (default: now); UTC when no zone.",
                 formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M%z",
                          "%Y-%m-%dT%H:%M", "%Y-%m-%d"])] = None,
             config_dir: ConfigDir = Path("config"), as_json: AsJson = False) -> None:
    """Evaluate every objective: compliance, error budget, burn rates, conditions, status."""
    config = _usable_config(config_dir)
    moment = (at or datetime.now(UTC))
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if not YEARS[0] <= moment.year <= YEARS[1]:
        err.print(f"[red]--at: {moment.date().isoformat()} is outside the years meshwatch "
                  f"evaluates ({YEARS[0]}-{YEARS[1]})[/]")
        raise typer.Exit(2)
    if at is not None:  # a given time counts nothing after it; now counts all measured so far
        moment = minute_time(floor_minute(moment))
    engine = _reader(config)
    with engine.connect() as connection:
        reports = evaluate_mesh(connection, config.registry.products.values(), moment,
                                config.settings.slo.policy(), timezone=config.settings.timezone)
    if as_json:
        document = {"at": iso_time(window_end(moment)),
                    "objectives": [objective_json(r) for r in reports]}
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        print_evaluations(out, reports, window_end(moment))


report_app = typer.Typer(help="Governance reports from the store.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("uptime")
def report_uptime(
        month: Annotated[str | None, typer.Option(
            "--month", help="YYYY-MM, a calendar month in the configured time zone "
                            "(default: the last complete month).")] = None,
        report_format: Annotated[str | None, typer.Option(
            "--format", "-f", help="md, csv, html or json (default: from --output's suffix, "
                                   "else md).")] = None,
        output: Annotated[Path | None, typer.Option(
            "--output", "-o", help="Write the report to FILE instead of stdout.")] = None,
        config_dir: ConfigDir = Path("config")) -> None:
    """Per product for one month: availability, uptime, downtime minutes, incidents, objectives."""
    config = _usable_config(config_dir)
    now = datetime.now(UTC)
    try:
        kind = output_format(report_format, output)
        chosen = Month.parse(month) if month else Month.containing(
            now, ZoneInfo(config.settings.timezone)).previous()
    except ValueError as error:
        err.print(f"[red]{error}[/]", highlight=False)
        raise typer.Exit(2) from None
    try:
        report = read_uptime_report(config.settings.database_url, config.registry.products.values(),
                                    chosen, config.settings.timezone, now)
    except StoreUnavailable as error:
        err.print(f"[red]{error}[/]: start `meshwatch run` to measure, or check database_url",
                  highlight=False)
        raise typer.Exit(3) from None
    text = render(report, kind)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"[green]wrote[/] {output} ({kind}, {len(report.products)} product(s))")


app.add_typer(export_app, name="export")

@report_app.command("send")
def report_send(
        month: Annotated[str | None, typer.Option(
            "--month", help="YYYY-MM (default: the last complete month).")] = None,
        to: Annotated[list[str] | None, typer.Option(
            "--to", help="KIND:VALUE, e.g. email:governance@contoso.example or channel:NAME "
                         "(repeatable; default: reports.monthly.to).")] = None,
        report_format: Annotated[str | None, typer.Option(
            "--format", "-f", help="html, csv, md or json (default: reports.monthly.format, "
                                   "else html).")] = None,
        config_dir: ConfigDir = Path("config")) -> None:
    """Send one month's uptime report now, as the monthly delivery would (not recorded)."""
    from monitor.alerting.routing import show_destination
    from monitor.config.reports import MonthlyReport
    from monitor.daemon.reports import send_now
    from monitor.values.secrets import safe_text

    config = _usable_config(config_dir)
    now = datetime.now(UTC)
    monthly = config.settings.reports.monthly
    entries = [dict([entry.split(":", 1)]) if ":" in entry else {entry: ""} for entry in to or []]
    try:
        chosen = Month.parse(month) if month else Month.containing(
            now, ZoneInfo(config.settings.timezone)).previous()
        format_ = report_format or (monthly.format if monthly else "html")
        if format_ not in ("html", "csv", "md", "json"):
            raise ValueError(f"unknown format {format_!r} (use html, csv, md or json)")
        if not entries and monthly is None:
            raise ValueError("no destination: give --to KIND:VALUE or set reports.monthly.to")
        wanted = MonthlyReport(to=entries or (monthly.to if monthly else []), format=format_)
    except ValueError as error:
        err.print(f"[red]{escape(str(error))}[/]", highlight=False)
        raise typer.Exit(2) from None
    problems = wanted.problems(config.settings.channels)
    for where, problem in problems:
        entry = wanted.to[int(where[1])]
        err.print(f"[red]{escape(', '.join(f'{k}:{v}' for k, v in entry.items()))}: "
                  f"{escape(problem)}[/]", highlight=False)
    if problems:
        raise typer.Exit(2)
    outcome = send_now(_reader(config), config, chosen, wanted.format, wanted.destinations(), now)
    for destination, failure in outcome.items():
        shown = escape(show_destination(destination))
        out.print(f"[green]sent[/] {shown}" if failure is None
                  else f"[red]not sent[/] {shown}: {escape(safe_text(failure))}", highlight=False)
    if any(failure is not None for failure in outcome.values()):
        raise typer.Exit(1)


store_app = typer.Typer(help="What the store keeps, and pruning it to its retention.",
                        no_args_is_help=True)
app.add_typer(store_app, name="store")


@store_app.command("prune")
def store_prune(dry_run: Annotated[bool, typer.Option(
                    "--dry-run", help="Count what would be removed; remove nothing.")] = False,
                config_dir: ConfigDir = Path("config"), as_json: AsJson = False) -> None:
    """Remove what is older than each tier's retention (store.retention.*), now."""
    config = _usable_config(config_dir)
    engine = _store(config)
    now = datetime.now(UTC)
    try:
        with engine.begin() as connection:
            created = ensure_ahead(connection, now)
        pruned = prune(engine, config.settings.retention(), now, dry_run=dry_run)
    except SQLAlchemyError as error:
        err.print(f"[red]cannot prune the store: {escape(store_error_text(error))}[/]", highlight=False)
        raise typer.Exit(3) from None
    if as_json:
        sys.stdout.write(json.dumps({"dry_run": dry_run, "partitions_created": created,
                                     "tiers": {p.tier: p.as_json() for p in pruned}}, indent=2) + "\n")
        return
    verb = "would remove" if dry_run else "removed"
    for item in pruned:
        rows = f"{'about ' if item.estimated else ''}{item.rows:,} row(s)"
        dropped = f", {len(item.partitions)} partition(s)" if item.partitions else ""
        out.print(f"{item.tier}: {verb} {rows}{dropped} before {iso_time(item.before)}",
                  highlight=False)
    if created:
        out.print(f"created partition(s): {', '.join(created)}", highlight=False)


def _kept(length: timedelta | None) -> str | None:
    return None if length is None else format_duration(length)


@store_app.command("stats")
def store_stats(config_dir: ConfigDir = Path("config"), as_json: AsJson = False) -> None:
    """Per tier: rows, oldest and newest time, size on disk, and how long it is kept."""
    config = _usable_config(config_dir)
    engine = _reader(config)
    try:
        with engine.connect() as connection:
            stats = tier_stats(connection)
    except SQLAlchemyError as error:
        err.print(f"[red]cannot read the store: {escape(store_error_text(error))}[/]", highlight=False)
        raise typer.Exit(3) from None
    kept = retention_by_tier(config.settings.retention())
    if as_json:
        sys.stdout.write(json.dumps({"tiers": {
            tier: {**item.as_json(), "retention": _kept(kept[tier])}
            for tier, item in stats.items()}}, indent=2) + "\n")
        return
    print_tier_stats(out, stats, kept)


@app.command()
def dashboard(port: Annotated[int, typer.Option("--port", help="HTTP port.")] = 8501,
              address: Annotated[str, typer.Option(
                  "--address", help="Address to listen on (0.0.0.0: every interface).")
              ] = "127.0.0.1",
              config_dir: ConfigDir = Path("config")) -> None:
    """Serve the Streamlit dashboard (read-only on the store) until interrupted."""
    with _extras_named():
        code = serve_dashboard(config_dir, port, address)
    raise typer.Exit(code)


@app.command()
def alerts(config_dir: ConfigDir = Path("config"), as_json: AsJson = False) -> None:
    """List active and recent alerts with their history and deliveries."""
    from monitor.alerting import alert_overview
    from monitor.alerting.display import print_alerts

    config = _usable_config(config_dir)
    engine = _reader(config)
    now = datetime.now(UTC)
    with engine.connect() as connection:
        overview = alert_overview(connection, now)
    if as_json:
        document = {"at": iso_time(now), "alerts": overview}
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        print_alerts(out, overview, now)


silence_app = typer.Typer(help="Mute the notifications of a product for a while.",
                          no_args_is_help=True)
app.add_typer(silence_app, name="silence")


@silence_app.command("add")
def silence_add(
        product: Annotated[str, typer.Option("--product", "-p", help="Product id, domain/name.")],
        duration: Annotated[str, typer.Option("--for", help="How long: 30m, 2h, 1d.")],
        comment: Annotated[str, typer.Option("--comment", "-m", help="Why; shown with it.")],
        objective: Annotated[str | None, typer.Option(
            "--objective", "-o", help="Only this objective (default: all of the product).")] = None,
        config_dir: ConfigDir = Path("config")) -> None:
    """Mute a product's (or one objective's) notifications from now on; alerts still change."""
    import getpass

    from monitor.alerting import add_silence
    from monitor.alerting.silences import target_problem
    from monitor.values.durations import format_duration, parse_duration

    config = _usable_config(config_dir)
    problem = target_problem(config.registry.products, product, [objective] if objective else [])
    try:
        length = parse_duration(duration)
    except ValueError as error:
        problem = problem or f"--for: {error}"
    if problem:
        err.print(f"[red]{problem}[/]", highlight=False)
        raise typer.Exit(1)
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = None
    engine = _store(config)
    try:
        silence = add_silence(engine, product, objective, datetime.now(UTC), length, comment, user)
    except ValueError as error:
        err.print(f"[red]{error}[/]", highlight=False)
        raise typer.Exit(1) from None
    out.print(f"silence {silence.id}: {product}{f' {objective}' if objective else ''} muted for "
              f"{format_duration(length)}, until {silence.ends_at:%Y-%m-%d %H:%M} UTC",
              highlight=False)


@silence_app.command("list")
def silence_list(config_dir: ConfigDir = Path("config"), as_json: AsJson = False) -> None:
    """Active and upcoming silences, and those that ended in the last 7 days."""
    from monitor.alerting import list_silences
    from monitor.alerting.display import print_silences

    config = _usable_config(config_dir)
    engine = _reader(config)
    now = datetime.now(UTC)
    with engine.connect() as connection:
        silences = list_silences(connection, now)
    if as_json:
        sys.stdout.write(json.dumps({"silences": [s.as_json(now) for s in silences]}, indent=2)
                         + "\n")
    else:
        print_silences(out, silences, now)


@silence_app.command("expire")
def silence_expire(silence_id: Annotated[int, typer.Argument(help="The silence's id.", min=1,
                                                             max=2**63 - 1)],
                   config_dir: ConfigDir = Path("config")) -> None:
    """End a silence now."""
    from monitor.alerting import expire_silence

    config = _usable_config(config_dir)
    engine = _store(config)
    silence = expire_silence(engine, silence_id, datetime.now(UTC))
    if silence is None:
        err.print(f"[red]no silence {silence_id}[/] (see meshwatch silence list)")
        raise typer.Exit(1)
    out.print(f"silence {silence.id} on {silence.product} ended at "
              f"{silence.ends_at:%Y-%m-%d %H:%M} UTC", highlight=False)
