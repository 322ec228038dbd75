"""Tables the pages show, built from query results. Pure: no Streamlit, no store."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta

import pandas as pd

from monitor.contracts import Problem
from monitor.contracts.model import DataProduct, Indicator, Objective, Port, describe_bound, describe_window
from monitor.contracts.results import data_age
from monitor.dashboard.teams import Agreement
from monitor.evaluation.mesh import ObjectiveEvaluation
from monitor.reports.uptime import UptimeReport
from monitor.slo import STATUS_ORDER, Counts, Status, compliance, error_budget_remaining, worst_status
from monitor.store.reads import PortResult
from monitor.values.durations import format_duration
from monitor.values.links import product_url
from monitor.values.secrets import redact
from monitor.values.targets import format_target
from monitor.values.text import percent

STATUS_LABEL = {Status.BREACHED: "breached", Status.AT_RISK: "at risk",
                Status.NO_DATA: "no data", Status.OK: "ok", Status.NOT_IN_FORCE: "not in force"}
STATUS_COLOR = {Status.BREACHED: "red", Status.AT_RISK: "orange", Status.NO_DATA: "violet",
                Status.OK: "green", Status.NOT_IN_FORCE: "gray"}
CELL_STYLE = {"breached": "background-color: #fdd; color: #900; font-weight: 600",
              "at risk": "background-color: #fec; color: #850",
              "no data": "background-color: #eef; color: #559",
              "ok": "color: #262", "not in force": "color: #888"}
OVERVIEW_COLUMNS = ["status", "product", "domain", "owner", "objectives", "budget left",
                    "conditions", "alerts firing", "description"]
CONSUMER_COLUMNS = ["team", "contact", "purpose", "from", "until", "objectives", "notify"]
PROBE_COLUMNS = ["port", "kind", "last probe", "result", "latency ms", "newest data", "data age",
                 "error", "failing since"]

Local = Callable[[datetime | None], str]  # a time as people read it, in the configured zone


def status_badge(status: Status) -> str:
    """A status in Streamlit markdown, coloured."""
    return f":{STATUS_COLOR[status]}-badge[{STATUS_LABEL[status]}]"


def styled_status(frame: pd.DataFrame, column: str = "status"):
    """The frame with its status column coloured (a pandas Styler st.dataframe shows)."""
    return frame.style.map(lambda value: CELL_STYLE.get(value, ""), subset=[column])


worst = worst_status  # the worst of some statuses (none at all: no data), defined in slo


def overview_frame(products: Iterable[DataProduct], reports: Iterable[ObjectiveEvaluation],
                   firing: Mapping[str, int] | None, at: str | None = None) -> pd.DataFrame:
    """One row per product, worst first: status, objectives' compliance and budget, alerts."""
    by_product: dict[str, list[ObjectiveEvaluation]] = defaultdict(list)
    for report in reports:
        by_product[report.product.id].append(report)
    ranked = []
    for product in products:
        mine = by_product.get(product.id, [])
        status = worst(r.evaluation.status for r in mine)
        budgets = [r.evaluation.error_budget_remaining for r in mine
                   if r.evaluation.error_budget_remaining is not None]
        rank = (STATUS_ORDER.index(status), min(budgets) if budgets else math.inf, product.id)
        ranked.append((rank, {
            "status": STATUS_LABEL[status], "product": product_url(".", product.id, at),
            "domain": product.domain, "owner": product.owner.team,
            "objectives": [f"{r.objective.name}: {percent(r.evaluation.compliance)} · budget "
                           f"{percent(r.evaluation.error_budget_remaining, 1)}" for r in mine],
            "budget left": min(budgets) * 100 if budgets else None,
            "conditions": sorted({c.name for r in mine for c in r.evaluation.conditions}),
            "alerts firing": None if firing is None else firing.get(product.id, 0),
            "description": product.description or "",
            "_status": status.value, "_id": product.id}))
    ranked.sort(key=lambda entry: entry[0])
    return pd.DataFrame([row for _, row in ranked], columns=[*OVERVIEW_COLUMNS, "_status", "_id"])


def filter_overview(frame: pd.DataFrame, search: str = "", domains: Sequence[str] = (),
                    statuses: Sequence[str] = (), owners: Sequence[str] = ()) -> pd.DataFrame:
    """Rows matching every filter given; the search looks at ids, owners, objectives, text."""
    keep = pd.Series(True, index=frame.index)
    if domains:
        keep &= frame["domain"].isin(domains)
    if statuses:
        keep &= frame["_status"].isin(statuses)
    if owners:
        keep &= frame["owner"].isin(owners)
    if search.strip():
        needle = search.strip().lower()
        text = (frame["_id"] + " " + frame["owner"] + " " + frame["description"] + " "
                + frame["objectives"].map(" ".join) + " " + frame["conditions"].map(" ".join))
        keep &= text.str.lower().str.contains(needle, regex=False)
    return frame[keep].reset_index(drop=True)


def problems_frame(problems: Iterable[Problem]) -> pd.DataFrame:
    return pd.DataFrame([{"file": p.file, "line": p.line, "field": p.field, "message": p.message}
                         for p in problems], columns=["file", "line", "field", "message"])


# --- product page ------------------------------------------------------------------------------


def objective_rows(product: DataProduct) -> pd.DataFrame:
    return pd.DataFrame([{
        "objective": o.name, "indicator": o.indicator.value,
        "threshold": describe_bound(o).strip() or "—",
        "target": format_target(o.target), "window": describe_window(o),
        "port": o.port or "(all)", "description": o.description or ""}
        for o in product.objectives])


def consumer_rows(product: DataProduct) -> pd.DataFrame:
    """The contract's consumers: what each agreed on and where it is told (secrets hidden)."""
    return pd.DataFrame([{
        "team": c.team, "contact": c.contact or "", "purpose": c.purpose or "",
        "from": str(c.start or "…"), "until": str(c.end or "…"),
        "objectives": ", ".join(c.objectives) if c.objectives is not None else "all",
        "notify": ", ".join(f"{k}:{v}" for n in c.notify for k, v in redact(n).items())}
        for c in product.consumers], columns=CONSUMER_COLUMNS)


def port_rows(product: DataProduct) -> pd.DataFrame:
    return pd.DataFrame([{"port": p.name, "type": p.type, "interval": format_duration(p.interval),
                          "timeout": format_duration(p.timeout)} for p in product.ports],
                        columns=["port", "type", "interval", "timeout"])


def term_rows(product: DataProduct) -> pd.DataFrame:
    return pd.DataFrame([{"term": k, "value": str(v)} for k, v in redact(product.terms).items()])


def burn_rate_rows(report: ObjectiveEvaluation) -> pd.DataFrame:
    """Each alert rule of the objective: its windows, the burn rates now, whether it holds."""
    evaluation = report.evaluation
    holding = {c.name for c in evaluation.conditions}

    def rate(window: timedelta) -> str:
        value = evaluation.burn_rates.get(window)
        return "—" if value is None else f"{value:.2f}"

    return pd.DataFrame([{
        "rule": rule.name, "severity": rule.severity,
        "long window": format_duration(rule.long_window),
        "burn rate (long)": rate(rule.long_window),
        "short window": format_duration(rule.short_window),
        "burn rate (short)": rate(rule.short_window),
        "threshold": f"{rule.burn_rate}", "holds": "yes" if rule.name in holding else "no"}
        for rule in evaluation.rules])


def compliance_series(buckets: pd.DataFrame) -> pd.DataFrame:
    """Per bucket: the share of good events in %, with the counts."""
    frame = buckets[buckets["total"] > 0].copy()
    frame["compliance"] = pd.Series(
        [_compliance_percent(Counts(int(good), int(total)))
         for good, total in zip(frame["good"], frame["total"], strict=True)],
        index=frame.index, dtype=float)
    return frame


def _compliance_percent(counts: Counts) -> float:
    share = compliance(counts)
    return math.nan if share is None else share * 100


def burndown_series(buckets: pd.DataFrame, objective: Objective, start: datetime
                    ) -> pd.DataFrame:
    """Error budget left (%) after each bucket of the SLO window that starts at `start`: the
    budget is (1 - target) of all the window's events, each bad event spends one — the window's
    error_budget_remaining with only the bad events so far counted bad."""
    frame = buckets.sort_values("at").copy()
    total = int(frame["total"].sum())
    spent = (frame["total"] - frame["good"]).cumsum()
    frame["budget left"] = pd.Series(
        [_budget_left(Counts(total - int(bad), total), objective) for bad in spent],
        index=frame.index, dtype=float)
    head = pd.DataFrame([{"at": start, "good": 0, "total": 0,
                          "budget left": _budget_left(Counts(total, total), objective)}])
    return pd.concat([head, frame[["at", "good", "total", "budget left"]]], ignore_index=True)


def _budget_left(counts: Counts, objective: Objective) -> float:
    remaining = error_budget_remaining(counts, objective.target)
    return math.nan if remaining is None else remaining * 100


def probe_data_age(result: PortResult) -> timedelta | None:
    """How old the newest data was when the probe ran; None when it saw no data."""
    return data_age(result.newest_data_at, result.started_at)


def measurement_rows(objective: Objective, results: Iterable[PortResult]) -> pd.DataFrame:
    """Per probe: the latency (ms) of a latency objective, the volume counted for a volume
    objective, else the data age (min) it saw."""
    if objective.indicator is Indicator.LATENCY:
        rows = [(r.started_at, r.latency_ms) for r in results if r.ok and r.latency_ms is not None]
    elif objective.indicator is Indicator.VOLUME:
        rows = [(r.started_at, float(r.volume)) for r in results if r.ok and r.volume is not None]
    else:
        rows = [(r.started_at, age.total_seconds() / 60) for r in results
                if (age := probe_data_age(r)) is not None]
    return pd.DataFrame(rows, columns=["at", "value"])


def latest_probe_rows(product: DataProduct, latest: Mapping[str, PortResult], local: Local
                      ) -> pd.DataFrame:
    """One row per port of the contract: its newest probe result, or that it was never probed."""
    return pd.DataFrame([_latest_probe_row(port, latest.get(port.name), local)
                         for port in product.ports], columns=PROBE_COLUMNS)


def _latest_probe_row(port: Port, result: PortResult | None, local: Local) -> dict[str, str]:
    if result is None:
        return {"port": port.name, "kind": port.type, "last probe": "—", "latency ms": "—",
                "result": "never probed", "newest data": "—", "data age": "—", "error": "",
                "failing since": ""}
    age = probe_data_age(result)
    return {
        "port": port.name, "kind": result.kind, "last probe": local(result.started_at),
        "result": "ok" if result.ok else "failed",
        "latency ms": "—" if result.latency_ms is None else f"{result.latency_ms:.1f}",
        "newest data": local(result.newest_data_at),
        "data age": format_duration(timedelta(seconds=round(age.total_seconds()))) if age else "—",
        "error": f"{result.error_class}: {result.error}" if result.error else "",
        "failing since": local(result.failing_since) if result.failing_since else ""}


def schema_mismatch_rows(product: DataProduct, latest: Mapping[str, PortResult]) -> pd.DataFrame:
    """One row per difference the latest look at a port found between its declared schema and
    its data (`invoices.amount: declared decimal, found text`), ports in the contract's order."""
    rows = [{"port": port.name, "column": finding.partition(": ")[0],
             "difference": finding.partition(": ")[2]}
            for port in product.ports if port.options.get("schema") and port.name in latest
            for finding in latest[port.name].schema_mismatch or []]
    return pd.DataFrame(rows, columns=["port", "column", "difference"])


def failed_probe_rows(failed: Iterable[PortResult], local: Local) -> pd.DataFrame:
    return pd.DataFrame([{"at": local(r.started_at), "port": r.port, "error class": r.error_class,
                          "error": r.error} for r in failed])


# --- a team's view ------------------------------------------------------------------------------

AGREEMENT_COLUMNS = ["product", "owner", "purpose", "from", "until", "agreement", "objectives agreed",
                     "status", "notify"]


def agreement_rows(agreements: Iterable[Agreement], reports: Iterable[ObjectiveEvaluation],
                   at: datetime, at_parameter: str | None = None) -> pd.DataFrame:
    """One row per agreement: the product, the consumer's purpose and dates, the objectives agreed
    with their targets and compliance now, and the worst status among them."""
    evaluated = {(r.product.id, r.objective.name): r.evaluation for r in reports}
    rows = []
    for agreement in agreements:
        product, consumer = agreement.product, agreement.consumer
        mine = [(o, evaluated.get((product.id, o.name))) for o in agreement.objectives]
        rows.append({
            "product": product_url(".", product.id, at_parameter), "owner": product.owner.team,
            "purpose": consumer.purpose or "", "from": str(consumer.start or "…"),
            "until": str(consumer.end or "…"), "agreement": agreement.state(at),
            "objectives agreed": [f"{o.name}: {format_target(o.target)} {o.indicator.value}, now "
                                  f"{percent(e.compliance if e else None)}" for o, e in mine],
            "status": STATUS_LABEL[worst(e.status for _, e in mine if e is not None)],
            "notify": ", ".join(f"{k}:{v}" for n in consumer.notify for k, v in redact(n).items())})
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)


# --- alerts (as `meshwatch alerts --json` shows them) -----------------------------------------


def alert_rows(alerts: Iterable[Mapping], local: Local) -> pd.DataFrame:
    def when(value: str | None) -> str:
        return local(pd.Timestamp(value)) if value else "—"

    return pd.DataFrame([{
        "state": a["state"], "product": a["product"], "objective": a["objective"],
        "severity": a["severity"], "conditions": ", ".join(a["conditions"]),
        "since": when(a["since"]), "fired": when(a["fired_at"]), "resolved": when(a["resolved_at"]),
        "deliveries": len(a["deliveries"])} for a in alerts])


def delivery_rows(alerts: Iterable[Mapping], local: Local) -> pd.DataFrame:
    """Every delivery of the alerts: where, whether it went out, and to whom."""
    return pd.DataFrame([{
        "product": a["product"], "objective": a["objective"], "severity": a["severity"],
        "message": d["message"], "destination": d["destination"], "status": d["status"],
        "attempts": d["attempts"], "created": local(pd.Timestamp(d["created_at"])),
        "sent": local(pd.Timestamp(d["sent_at"])) if d["sent_at"] else "—",
        "error": d["last_error"] or "", "muted by": d["muted_by"] or "",
        "recipients": ", ".join(d["recipients"] or [])}
        for a in alerts for d in a["deliveries"]])


# --- reports -----------------------------------------------------------------------------------


def report_frame(report: UptimeReport) -> pd.DataFrame:
    """The uptime report, one row per product, numbers as numbers (percent) for sorting."""
    def pct(value: float | None) -> float | None:
        return None if value is None else value * 100

    return pd.DataFrame([{
        "product": p.product, "domain": p.domain, "owner": p.owner,
        "availability %": pct(p.availability), "uptime %": pct(p.uptime),
        "downtime (min)": p.downtime_minutes, "not measured (min)": p.unmeasured_minutes,
        "period (min)": p.minutes,
        "incidents": p.incidents,
        "maintenance": ("counted" if p.maintenance_counted else "excluded")
        + (f" ({p.maintenance_minutes} min)" if p.maintenance_minutes else ""),
        "met": p.count("met"), "missed": p.count("missed"), "no data": p.count("no data"),
        "objectives": [f"{o.objective}: {o.result} ({percent(o.compliance)})"
                       for o in p.objectives]}
        for p in report.products])


def history_frame(reports: Iterable[UptimeReport]) -> pd.DataFrame:
    """Long form: one row per month, product and objective."""
    return pd.DataFrame([{
        "month": str(report.month), "product": p.product, "objective": o.objective,
        "target": format_target(o.target),
        "compliance %": None if o.compliance is None else o.compliance * 100,
        "result": o.result,
        "budget spent %": None if o.budget_spent is None else o.budget_spent * 100,
        "good": o.counts.good, "total": o.counts.total}
        for report in reports for p in report.products for o in p.objectives],
        columns=["month", "product", "objective", "target", "compliance %", "result",
                 "budget spent %", "good", "total"])
