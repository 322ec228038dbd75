"""Human output of the CLI: readable tables (rich). JSON shapes live beside the data they show."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta

from rich.console import Console
from rich.table import Table

from monitor.contracts.model import DataProduct, describe_bound, describe_window
from monitor.evaluation.mesh import ObjectiveEvaluation
from monitor.slo import STATUS_ORDER
from monitor.store.retention import TierStats
from monitor.values.durations import format_duration
from monitor.values.targets import format_target
from monitor.values.text import iso_time, percent

STATUS_STYLE = {"ok": "green", "at_risk": "yellow", "breached": "bold red", "no_data": "magenta",
                "not_in_force": "dim"}


def print_evaluations(console: Console, reports: list[ObjectiveEvaluation], at) -> None:
    table = Table(title=f"Objectives at {at:%Y-%m-%d %H:%M} UTC", expand=False)
    for column in ("product", "objective", "indicator", "target", "window", "compliance",
                   "budget left", "events (good/total)", "burn rates", "conditions", "status"):
        table.add_column(column, overflow="fold")
    ordered = sorted(reports, key=lambda r: (STATUS_ORDER.index(r.evaluation.status),
                                             r.product.id, r.objective.name))
    for report in ordered:
        evaluation, objective = report.evaluation, report.objective
        rates = " ".join(f"{format_duration(w)}:{'—' if r is None else f'{r:.2f}'}"
                         for w, r in evaluation.burn_rates.items())
        conditions = "\n".join(
            f"{c.name} ({c.severity}"
            + (f", {format_duration(c.long_window)}/{format_duration(c.short_window)}"
               f" > {c.burn_rate_threshold}" if c.long_window and c.short_window else "") + ")"
            for c in evaluation.conditions) or "—"
        status = evaluation.status.value
        indicator = objective.indicator.value + describe_bound(objective)
        table.add_row(report.product.id, objective.name, indicator,
                      format_target(objective.target),
                      describe_window(objective, evaluation.period.timezone
                                      if evaluation.period else None),
                      percent(evaluation.compliance), percent(evaluation.error_budget_remaining, 1),
                      f"{evaluation.counts.good}/{evaluation.counts.total}", rates, conditions,
                      f"[{STATUS_STYLE[status]}]{status}[/]")
    console.print(table)


def print_products(console: Console, products: Iterable[DataProduct]) -> None:
    for product in products:
        validity = f"{product.start or '…'} → {product.end or '…'}"
        console.print(f"[bold]{product.id}[/] v{product.version or '?'} ({product.format})  "
                      f"owner {product.owner.team} <{product.owner.contact or '—'}>  "
                      f"in force {validity}")
        if product.description:
            console.print(f"  {product.description.strip().splitlines()[0]}")
        for port in product.ports:
            console.print(f"  port [cyan]{port.name}[/] {port.type} every "
                          f"{format_duration(port.interval)} (timeout {format_duration(port.timeout)})")
        for objective in product.objectives:
            console.print(f"  objective [cyan]{objective.name}[/] {objective.indicator.value}"
                          f"{describe_bound(objective)} {format_target(objective.target)} over "
                          f"{describe_window(objective)}"
                          f"{f' on port {objective.port}' if objective.port else ''}")
        for consumer in product.consumers:
            agreed = ", ".join(consumer.objectives) if consumer.objectives is not None else "all"
            console.print(f"  consumer [cyan]{consumer.team}[/] <{consumer.contact or '—'}> "
                          f"{consumer.start or '…'} → {consumer.end or '…'} objectives: {agreed}")
        if product.upstream:
            console.print(f"  upstream: {', '.join(product.upstream)}")
        for declared in product.unmonitored:
            console.print(f"  [dim]not monitored: {declared.name} = {declared.value} "
                          f"({declared.reason})[/]")
        console.print()


def print_probes(console: Console, results) -> None:
    table = Table(title="Probes")
    for column in ("product", "port", "ok", "latency", "newest data", "error"):
        table.add_column(column, overflow="fold")
    for result in sorted(results, key=lambda r: (r.ok, r.product, r.port)):
        latency = "—" if result.latency_ms is None else f"{result.latency_ms:.1f} ms"
        newest = f"{result.newest_data_at:%Y-%m-%d %H:%M:%S}" if result.newest_data_at else "—"
        error = f"{result.error_class}: {result.error}" if result.error_class else ""
        table.add_row(result.product, result.port, "[green]yes[/]" if result.ok else "[red]no[/]",
                      latency, newest, error)
    console.print(table)


def print_tier_stats(out: Console, stats: Mapping[str, TierStats],
                     kept: Mapping[str, timedelta | None]) -> None:
    """`meshwatch store stats`: one row per tier."""
    table = Table("tier", "rows", "oldest", "newest", "size", "kept", box=None)
    for tier, item in stats.items():
        length = kept.get(tier)
        table.add_row(tier, f"{'~' if item.rows_estimated else ''}{item.rows:,}",
                      iso_time(item.oldest) if item.oldest else "-",
                      iso_time(item.newest) if item.newest else "-",
                      _size(item.bytes), format_duration(length) if length else "for ever")
    out.print(table)


def _size(count: int | None) -> str:
    if count is None:
        return "?"
    size, unit = float(count), "B"
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            break
        size /= 1024
    return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
