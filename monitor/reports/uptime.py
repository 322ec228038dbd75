"""Governance reports: per calendar month, each product's availability, uptime, downtime minutes,
incidents and objectives met or missed. Pure computation over query results, then renderers.

Definitions (docs/dashboard.md explains them to users):
- month: a calendar month in the configured time zone (settings.timezone, UTC by default).
- period: the month, cut to the contract's validity [start, end) (UTC dates) and to the time of
  the report. Maintenance windows are cut out of it when the product keeps them out of its SLO
  (`maintenance_counts_in_slo: false`); otherwise they count like any other minute.
- availability: good / total availability events of the product in the period, all its
  availability objectives together.
- downtime minute: a minute of the period (minute bucket (m-1, m]) in which at least one
  availability event of the product was bad. A minute bad on two ports counts once; a port probed
  every 5 minutes adds at most one minute per failed probe.
- uptime: 1 - downtime minutes / minutes in the period; none without availability events.
- incidents: alerts of the product that started firing in the month (unknown without alerts).
- an objective is met when good >= target x total over the period; budget spent is
  (bad / total) / (1 - target), over 100 % when missed.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from monitor.config.loading import Config
from monitor.contracts.maintenance import maintenance_spans as maintenance_times
from monitor.contracts.model import DataProduct, Indicator, MaintenanceWindow
from monitor.slo.budget import Counts, burn_rate, compliance
from monitor.store.engine import StoreUnavailable, describe
from monitor.store.events import SeriesKey
from monitor.store.reads import (
    Span,
    StoreNotCreated,
    downtime_minutes,
    has_measurements,
    incident_counts,
    known_series,
    open_reader,
    span_counts,
)
from monitor.store.rollups import floor_minute, minute_time
from monitor.values.targets import format_target

FORMATS = ("md", "csv", "html", "json")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        match = re.fullmatch(r"(\d{4})-(\d{1,2})", text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ValueError(f"{text!r} is not a month (write YYYY-MM, e.g. 2026-10)")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, at: datetime, zone: ZoneInfo) -> Month:
        local = at.astimezone(zone)
        return cls(local.year, local.month)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) of the month in `zone`, as aware UTC times."""
        following = self.next()
        return (datetime(self.year, self.month, 1, tzinfo=zone).astimezone(UTC),
                datetime(following.year, following.month, 1, tzinfo=zone).astimezone(UTC))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def recent_months(at: datetime, zone: ZoneInfo, count: int = 12) -> list[Month]:
    """The month of `at` and the `count - 1` before it, newest first."""
    months = [Month.containing(at, zone)]
    while len(months) < count:
        months.append(months[-1].previous())
    return months


# --- what a month covers for one product ---------------------------------------------------


@dataclass(frozen=True)
class Period:
    """The minutes of a month that count for one product, as spans (start, end] in epoch minutes."""

    spans: tuple[Span, ...]
    maintenance_minutes: int  # maintenance inside the month's in-force minutes
    maintenance_counted: bool
    in_force: bool = True  # the contract is valid for some of the month

    @property
    def minutes(self) -> int:
        return sum(end - start for start, end in self.spans)


def report_period(product: DataProduct, start: datetime, end: datetime, now: datetime) -> Period:
    """The part of [start, end) that counts for `product`: in force, not in the future, and without
    maintenance when the product keeps maintenance out of its SLO."""
    low, month_end = floor_minute(start), floor_minute(end)
    if product.start is not None:
        low = max(low, floor_minute(_midnight(product.start)))
    if product.end is not None:
        month_end = min(month_end, floor_minute(_midnight(product.end)))
    high = min(month_end, floor_minute(now))
    if high <= low:
        return Period((), 0, product.maintenance_counts_in_slo, in_force=month_end > low)
    maintenance = maintenance_spans(product.maintenance, low, high)
    spent = sum(e - s for s, e in maintenance)
    spans = ((low, high),) if product.maintenance_counts_in_slo else _without(low, high, maintenance)
    return Period(spans, spent, product.maintenance_counts_in_slo)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def maintenance_spans(windows: Iterable[MaintenanceWindow], low: int, high: int) -> list[Span]:
    """The maintenance minutes inside (low, high], merged and sorted: contracts.maintenance's
    spans, in epoch minutes."""
    spans = maintenance_times(windows, minute_time(low), minute_time(high))
    minutes = ((floor_minute(start), floor_minute(end)) for start, end in spans)
    return [(start, end) for start, end in minutes if end > start]


def _without(low: int, high: int, holes: Sequence[Span]) -> tuple[Span, ...]:
    spans, cursor = [], low
    for start, end in holes:
        if start > cursor:
            spans.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < high:
        spans.append((cursor, high))
    return tuple(spans)


# --- the report --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectiveMonth:
    objective: str
    indicator: str
    target: Decimal
    counts: Counts
    in_force: bool = True

    @property
    def compliance(self) -> float | None:
        return compliance(self.counts)

    @property
    def met(self) -> bool | None:
        """None: no events in the period."""
        if not self.counts.total:
            return None
        return Decimal(self.counts.good) >= self.target * self.counts.total

    @property
    def result(self) -> str:
        """met, missed, no data, or not in force (the contract is not valid in the month)."""
        if not self.in_force:
            return "not in force"
        return {True: "met", False: "missed", None: "no data"}[self.met]

    @property
    def budget_spent(self) -> float | None:
        return burn_rate(self.counts, self.target)


@dataclass(frozen=True)
class ProductMonth:
    product: str
    domain: str
    owner: str
    minutes: int
    maintenance_minutes: int
    maintenance_counted: bool
    availability_counts: Counts | None  # None: the product has no availability objective
    downtime_minutes: int | None
    incidents: int | None  # None: not known (no alert history in the store)
    objectives: tuple[ObjectiveMonth, ...]
    in_force: bool = True

    @property
    def availability(self) -> float | None:
        return compliance(self.availability_counts) if self.availability_counts else None

    @property
    def uptime(self) -> float | None:
        if not self.minutes or not self.availability_counts or not self.availability_counts.total:
            return None
        return 1 - (self.downtime_minutes or 0) / self.minutes

    def count(self, result: str) -> int:
        """How many objectives are `met`, `missed`, `no data` or `not in force`."""
        return sum(1 for objective in self.objectives if objective.result == result)


@dataclass(frozen=True)
class UptimeReport:
    month: Month
    timezone: str
    start: datetime
    end: datetime
    generated_at: datetime
    products: tuple[ProductMonth, ...]

    @property
    def complete(self) -> bool:
        return self.generated_at >= self.end

    @property
    def incidents_known(self) -> bool:
        return any(p.incidents is not None for p in self.products)


@dataclass(frozen=True)
class MonthFacts:
    """What the store says about a month: counts per objective, downtime and incidents per product."""

    counts: Mapping[SeriesKey, Counts]
    downtime: Mapping[str, int]
    incidents: Mapping[str, int] | None


def month_facts(connection: Connection, products: Sequence[DataProduct],
                periods: Mapping[str, Period], start: datetime, end: datetime) -> MonthFacts:
    ids = known_series(connection, [(p.id, o.name) for p in products for o in p.objectives])
    spans = {span for period in periods.values() for span in period.spans}
    sums = span_counts(connection, list(ids.values()), spans)
    counts: dict[SeriesKey, Counts] = {}
    for key, series in ids.items():
        period = periods.get(key[0])
        if period is not None:
            counts[key] = sum((sums[span].get(series, Counts()) for span in period.spans), Counts())
    availability = {p.id: [ids[(p.id, o.name)] for o in p.objectives
                           if o.indicator is Indicator.AVAILABILITY and (p.id, o.name) in ids]
                    for p in products}
    downtime = downtime_minutes(connection, availability,
                                {p.id: periods[p.id].spans for p in products})
    return MonthFacts(counts, downtime, incident_counts(connection, start, end))


def product_month(product: DataProduct, period: Period, facts: MonthFacts) -> ProductMonth:
    objectives = tuple(
        ObjectiveMonth(o.name, o.indicator.value, o.target,
                       facts.counts.get((product.id, o.name), Counts()), period.in_force)
        for o in product.objectives)
    availability = [o.counts for o in objectives if o.indicator == Indicator.AVAILABILITY]
    has_availability = bool(availability)
    return ProductMonth(
        product=product.id, domain=product.domain, owner=product.owner.team,
        minutes=period.minutes, maintenance_minutes=period.maintenance_minutes,
        maintenance_counted=period.maintenance_counted,
        availability_counts=sum(availability, Counts()) if has_availability else None,
        downtime_minutes=facts.downtime.get(product.id, 0) if has_availability else None,
        incidents=None if facts.incidents is None else facts.incidents.get(product.id, 0),
        objectives=objectives, in_force=period.in_force)


def uptime_report(connection: Connection, products: Iterable[DataProduct], month: Month,
                  timezone: str, now: datetime) -> UptimeReport:
    """The month's report for `products`, as known at `now`."""
    products = sorted(products, key=lambda p: p.id)
    start, end = month.bounds(ZoneInfo(timezone))
    periods = {p.id: report_period(p, start, end, now) for p in products}
    facts = month_facts(connection, products, periods, start, end)
    return UptimeReport(month, timezone, start, end, now,
                        tuple(product_month(p, periods[p.id], facts) for p in products))


# --- renderers ---------------------------------------------------------------------------------


def _percent(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def _minutes(value: int | None) -> str:
    return "—" if value is None else str(value)


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
        "start": _iso(report.start), "end": _iso(report.end),
        "generated_at": _iso(report.generated_at), "complete": report.complete,
        "products": [{
            "product": p.product, "domain": p.domain, "owner": p.owner,
            "in_force": p.in_force,
            "period_minutes": p.minutes, "availability": number(p.availability),
            "uptime": number(p.uptime), "downtime_minutes": p.downtime_minutes,
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


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def render_json(report: UptimeReport) -> str:
    return json.dumps(report_document(report), indent=2) + "\n"


CSV_COLUMNS = ("month", "timezone", "product", "domain", "owner", "availability_percent",
               "uptime_percent", "downtime_minutes", "period_minutes", "incidents", "maintenance",
               "maintenance_minutes", "objectives_met", "objectives_missed",
               "objectives_without_data", "objectives_not_in_force", "objectives")


def render_csv(report: UptimeReport) -> str:
    """One row per product; percentages as numbers with four decimals, empty when unknown."""
    def number(value: float | None) -> str:
        return "" if value is None else f"{value * 100:.4f}"

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in report.products:
        detail = "; ".join(f"{o.objective}={o.result} ({_percent(o.compliance)} of "
                           f"{format_target(o.target)})" for o in p.objectives)
        writer.writerow([
            report.month, report.timezone, p.product, p.domain, p.owner, number(p.availability),
            number(p.uptime), "" if p.downtime_minutes is None else p.downtime_minutes, p.minutes,
            "" if p.incidents is None else p.incidents,
            "counted" if p.maintenance_counted else "excluded", p.maintenance_minutes,
            p.count("met"), p.count("missed"), p.count("no data"), p.count("not in force"),
            detail])
    return buffer.getvalue()


def _product_rows(report: UptimeReport) -> tuple[list[str], list[list[str]]]:
    head = ["product", "owner", "availability", "uptime", "downtime (min)", "incidents",
            "maintenance", "objectives met"]
    rows = [[p.product, p.owner, _percent(p.availability), _percent(p.uptime),
             _minutes(p.downtime_minutes), "—" if p.incidents is None else str(p.incidents),
             _maintenance(p), f"{p.count('met')}/{len(p.objectives)}"] for p in report.products]
    return head, rows


def _objective_rows(report: UptimeReport) -> tuple[list[str], list[list[str]]]:
    head = ["product", "objective", "indicator", "target", "compliance", "result", "budget spent",
            "events (good/total)"]
    rows = [[p.product, o.objective, o.indicator, format_target(o.target), _percent(o.compliance),
             o.result, _percent(o.budget_spent, 1), f"{o.counts.good}/{o.counts.total}"]
            for p in report.products for o in p.objectives]
    return head, rows


def _notes(report: UptimeReport) -> list[str]:
    notes = [f"Period: {report.start.astimezone(ZoneInfo(report.timezone)):%Y-%m-%d %H:%M} to "
             f"{report.end.astimezone(ZoneInfo(report.timezone)):%Y-%m-%d %H:%M} "
             f"{report.timezone}, cut to each contract's validity.",
             "Downtime minutes: minutes with at least one bad availability event; "
             "uptime = 1 - downtime minutes / minutes in the period."]
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


def read_uptime_report(config: Config, month: Month, now: datetime) -> UptimeReport:
    """The month's report from the configured store, read-only; StoreUnavailable when there is
    nothing to read yet."""
    url = config.settings.database_url
    engine = open_reader(url)
    try:
        with engine.connect() as connection:
            if not has_measurements(connection):
                raise StoreNotCreated(f"the store {describe(url)} has no measurements yet")
            return uptime_report(connection, config.registry.products.values(), month,
                                 config.settings.timezone, now)
    except SQLAlchemyError as error:
        raise StoreUnavailable(f"cannot read the store {describe(url)}: "
                               f"{getattr(error, 'orig', None) or error}") from None
    finally:
        engine.dispose()
