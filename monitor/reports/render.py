"""The uptime report as documents: JSON, CSV, Markdown and HTML, and which one a file asks for."""

from __future__ import annotations

import csv
import html
import io
import json
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.reports.uptime import ProductMonth, UptimeReport
from monitor.store.rollups import floor_minute, minute_time
from monitor.values.targets import format_target
from monitor.values.text import MISSING, iso_time, percent

FORMATS = ("md", "csv", "html", "json")


def _count(value: int | None) -> str:
    return MISSING if value is None else str(value)


def _blank(value: int | None) -> int | str:
    return "" if value is None else value


def _maintenance(product: ProductMonth) -> str:
    return ("counted" if product.maintenance_counted else "excluded") + (
        f" ({product.maintenance_minutes} min)" if product.maintenance_minutes else "")


def _title(report: UptimeReport) -> str:
    until = minute_time(floor_minute(report.generated_at))
    state = "" if report.complete else f" (month in progress, up to {until:%Y-%m-%d %H:%M} UTC)"
    return f"Uptime report {report.month} ({report.timezone}){state}"


def report_document(report: UptimeReport) -> dict:
    """The report in its JSON shape."""
    def number(value: float | None):
        return None if value is None else round(value, 8)

    return {
        "month": str(report.month), "timezone": report.timezone,
        "start": iso_time(report.start), "end": iso_time(report.end),
        "generated_at": iso_time(report.generated_at), "complete": report.complete,
        "products": [{
            "product": p.product, "domain": p.domain, "owner": p.owner,
            "in_force": p.in_force,
            "period_minutes": p.minutes, "availability": number(p.availability),
            "uptime": number(p.uptime), "downtime_minutes": p.downtime_minutes,
            "measured_minutes": p.measured_minutes, "unmeasured_minutes": p.unmeasured_minutes,
            "incidents": p.incidents,
            "maintenance": "counted" if p.maintenance_counted else "excluded",
            "maintenance_minutes": p.maintenance_minutes,
            "objectives": [{
                "objective": o.objective, "indicator": o.indicator, "target": float(o.target),
                "good": o.counts.good, "total": o.counts.total,
                "compliance": number(o.compliance), "met": o.met, "result": o.result,
                "budget_spent": number(o.budget_spent)} for o in p.objectives],
        } for p in report.products],
    }


def render_json(report: UptimeReport) -> str:
    return json.dumps(report_document(report), indent=2) + "\n"


CSV_COLUMNS = ("month", "timezone", "product", "domain", "owner", "availability_percent",
               "uptime_percent", "downtime_minutes", "period_minutes", "incidents", "maintenance",
               "maintenance_minutes", "objectives_met", "objectives_missed",
               "objectives_without_data", "objectives_not_in_force", "objectives",
               "measured_minutes", "not_measured_minutes")  # added last: older readers keep their columns


def render_csv(report: UptimeReport) -> str:
    """One row per product; percentages as numbers with four decimals, empty when unknown."""
    def number(value: float | None) -> str:
        return "" if value is None else f"{value * 100:.4f}"

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in report.products:
        detail = "; ".join(f"{o.objective}={o.result} ({percent(o.compliance)} of "
                           f"{format_target(o.target)})" for o in p.objectives)
        writer.writerow([
            report.month, report.timezone, p.product, p.domain, p.owner, number(p.availability),
            number(p.uptime), _blank(p.downtime_minutes), p.minutes, _blank(p.incidents),
            "counted" if p.maintenance_counted else "excluded", p.maintenance_minutes,
            p.count("met"), p.count("missed"), p.count("no data"), p.count("not in force"),
            detail, _blank(p.measured_minutes), _blank(p.unmeasured_minutes)])
    return buffer.getvalue()


def _product_rows(report: UptimeReport) -> tuple[list[str], list[list[str]]]:
    head = ["product", "owner", "availability", "uptime", "downtime (min)", "not measured (min)",
            "incidents", "maintenance", "objectives met"]
    rows = [[p.product, p.owner, percent(p.availability), percent(p.uptime),
             _count(p.downtime_minutes), _count(p.unmeasured_minutes), _count(p.incidents),
             _maintenance(p), f"{p.count('met')}/{len(p.objectives)}"] for p in report.products]
    return head, rows


def _objective_rows(report: UptimeReport) -> tuple[list[str], list[list[str]]]:
    head = ["product", "objective", "indicator", "target", "compliance", "result", "budget spent",
            "events (good/total)"]
    rows = [[p.product, o.objective, o.indicator, format_target(o.target), percent(o.compliance),
             o.result, percent(o.budget_spent, 1), f"{o.counts.good}/{o.counts.total}"]
            for p in report.products for o in p.objectives]
    return head, rows


def _notes(report: UptimeReport) -> list[str]:
    notes = [f"Period: {report.start.astimezone(ZoneInfo(report.timezone)):%Y-%m-%d %H:%M} to "
             f"{report.end.astimezone(ZoneInfo(report.timezone)):%Y-%m-%d %H:%M} "
             f"{report.timezone}, cut to each contract's validity.",
             "A minute is measured when an availability probe covers it (a probe covers its "
             "port's interval), down when a failed probe covers it; a minute no probe covers is "
             "not measured, neither up nor down.",
             "Uptime = 1 - downtime minutes / measured minutes: not measured minutes are never "
             "counted as up."]
    if not report.incidents_known:
        notes.append("Incidents: not known, this store has no alert history yet.")
    return notes


def render_markdown(report: UptimeReport) -> str:
    def table(head: list[str], rows: list[list[str]]) -> list[str]:
        def line(cells):
            return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
        return [line(head), "| " + " | ".join("---" for _ in head) + " |", *map(line, rows)]

    lines = [f"# {_title(report)}", "", *(f"- {note}" for note in _notes(report)), "",
             "## Products", "", *table(*_product_rows(report)), "",
             "## Objectives", "", *table(*_objective_rows(report))]
    if not report.products:
        lines.append("\nNo products are configured.")
    return "\n".join(lines) + "\n"


def render_html(report: UptimeReport) -> str:
    def table(head: list[str], rows: list[list[str]]) -> str:
        cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                       for row in rows)
        return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"

    notes = "".join(f"<li>{html.escape(note)}</li>" for note in _notes(report))
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(_title(report))}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;"
        "margin-bottom:2rem}th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}"
        "th{background:#f4f4f4}</style></head><body>"
        f"<h1>{html.escape(_title(report))}</h1><ul>{notes}</ul>"
        f"<h2>Products</h2>{table(*_product_rows(report))}"
        f"<h2>Objectives</h2>{table(*_objective_rows(report))}</body></html>\n")


RENDERERS = {"md": render_markdown, "csv": render_csv, "html": render_html, "json": render_json}


def render(report: UptimeReport, format: str) -> str:
    return RENDERERS[format](report)


SUFFIX_FORMATS = {".md": "md", ".markdown": "md", ".csv": "csv", ".html": "html", ".htm": "html",
                  ".json": "json"}


def output_format(requested: str | None, output: Path | None) -> str:
    """The format asked for, else the one the output file's suffix names, else Markdown."""
    if requested is not None:
        if requested not in FORMATS:
            raise ValueError(f"unknown format {requested!r} (use {', '.join(FORMATS)})")
        return requested
    return SUFFIX_FORMATS.get(output.suffix.lower(), "md") if output else "md"
