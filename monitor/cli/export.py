"""`meshwatch export …`: the mesh's objectives for other engines (monitor.exports), read from the
contracts and settings as `meshwatch evaluate` reads them; no store is opened."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from monitor.config.loading import Config
from monitor.config.settings import CONFIG_ENV
from monitor.contracts.model import DataProduct
from monitor.exports import (
    ExportPolicy,
    openslo_documents,
    prometheus_rules,
    sloth_alert_windows,
    sloth_specs,
)

export_app = typer.Typer(help="The objectives as rules and specs for other SLO engines "
                              "(Prometheus, Sloth, OpenSLO).", no_args_is_help=True)
err = Console(stderr=True, soft_wrap=True)

ConfigDir = Annotated[Path, typer.Option(
    "--config", "-c", envvar=CONFIG_ENV, help="Directory with meshwatch.yaml and the contracts.")]
Output = Annotated[Path | None, typer.Option("--output", "-o",
                                             help="Write to FILE instead of stdout.")]


def export_policy(config: Config) -> ExportPolicy:
    """What the exports read of the settings: the SLO policy, the alerts' timing, the time zone."""
    settings = config.settings
    return ExportPolicy(settings.slo.policy(), settings.alerting.for_,
                        settings.alerting.keep_firing_for, settings.timezone)


def _export(config_dir: Path, output: Path | None, what: str,
            render: Callable[[list[DataProduct], ExportPolicy], str]) -> None:
    from monitor.cli.app import _usable_config  # app registers this module's commands

    config = _usable_config(config_dir)
    products = sorted(config.registry.products.values(), key=lambda p: p.id)
    text = render(products, export_policy(config))
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    objectives = sum(len(p.objectives) for p in products)
    err.print(f"[green]wrote[/] {output} ({what}: {objectives} objective(s) of {len(products)} "
              "product(s))", highlight=False)


@export_app.command("prometheus-rules")
def export_prometheus_rules(config_dir: ConfigDir = Path("config"), output: Output = None) -> None:
    """Prometheus recording and alerting rules over meshwatch_slo_events_total (the daemon's
    telemetry), with meshwatch's scaled windows, thresholds, min_events and severities."""
    _export(config_dir, output, "Prometheus rules", prometheus_rules)


@export_app.command("sloth")
def export_sloth(config_dir: ConfigDir = Path("config"), output: Output = None,
                 alert_windows: Annotated[bool, typer.Option(
                     "--alert-windows", help="Print Sloth AlertWindows (one per objective window) "
                                             "for --slo-period-windows-path instead.")] = False
                 ) -> None:
    """Sloth prometheus/v1 specs, one per product and objective window."""
    if alert_windows:
        _export(config_dir, output, "Sloth alert windows", sloth_alert_windows)
    else:
        _export(config_dir, output, "Sloth specs", sloth_specs)


@export_app.command("openslo")
def export_openslo(config_dir: ConfigDir = Path("config"), output: Output = None) -> None:
    """OpenSLO v1 documents: a Service per product, an SLO per objective, an AlertPolicy and
    AlertCondition per alert rule."""
    _export(config_dir, output, "OpenSLO documents", openslo_documents)
