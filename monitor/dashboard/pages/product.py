"""Product page: the contract, each objective over time with its budget and burn rates, and the
latest probe results of each port. Deep link: `/product?product=domain/name`."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from monitor.contracts.maintenance import describe
from monitor.contracts.model import DataProduct, Indicator
from monitor.dashboard import charts, frames, mesh
from monitor.evaluation.mesh import ObjectiveReport
from monitor.values.durations import format_duration
from monitor.values.secrets import redact
from monitor.values.targets import format_target

WINDOWS = {"1h": timedelta(hours=1), "6h": timedelta(hours=6), "24h": timedelta(days=1),
           "7d": timedelta(days=7), "30d": timedelta(days=30)}
MAX_MINUTE_WINDOW = timedelta(days=1)  # longer windows are charted per hour

mesh.sidebar()
config = mesh.config()
products = config.registry.products
if not products:
    st.info("No data products configured: add contract files and check them with "
            "`meshwatch validate`.", icon=":material/info:")
    st.stop()

ids = sorted(products)
wanted = st.query_params.get("product")
choice = st.selectbox("Product", ids, index=ids.index(wanted) if wanted in products else None,
                      placeholder="Choose a product")
if wanted and wanted not in products:
    st.warning(f"There is no product `{wanted}` in this mesh. Its contract may have been refused: "
               "see the configuration problems on the overview.")
if choice is None:
    st.info("Choose a product above, or open one from the mesh overview.", icon=":material/info:")
    st.stop()
# Always written back: a page link to this same page changes the product without the browser's
# address following, and the address is what people copy to share a product.
st.query_params["product"] = choice
product: DataProduct = products[choice]


def product_page_link(product_id: str) -> None:
    if product_id in products:
        st.page_link("pages/product.py", label=product_id, icon=":material/arrow_forward:",
                     query_params={"product": product_id, **mesh.at_parameter()})
    else:
        st.markdown(f"`{product_id}` (not in this mesh)")


# --- the contract ------------------------------------------------------------------------------

st.title(product.id)
if product.description:
    st.caption(product.description.strip())

at = mesh.now_minute()
try:
    mesh.reader()
    readable, why = True, ""
except mesh.NothingToRead as reason:
    readable, why = False, str(reason)

reports: list[ObjectiveReport] = []
if readable:
    status = mesh.mesh_status(at, (product.id,))
    reports = status.reports
    worst = frames.worst(r.evaluation.status for r in reports)
    st.markdown(f"**Status:** {frames.status_badge(worst)} · evaluated at {mesh.local(at)} "
                f"({config.settings.timezone})")

owner_column, validity_column, version_column, lineage_column = st.columns(4)
owner_column.markdown(f"**Owner**  \n{product.owner.team}"
                      + (f"  \n{product.owner.contact}" if product.owner.contact else ""))
in_force = "in force" if product.in_force(at) else "**not in force now**"
validity_column.markdown(f"**Validity**  \n{product.start or '…'} → {product.end or '…'} "
                         f"({in_force})")
version_column.markdown(f"**Contract**  \nversion {product.version or '?'} · {product.format}")
downstream = sorted(p.id for p in products.values() if product.id in p.upstream)
with lineage_column:
    st.markdown("**Upstream** (read by this product)")
    for upstream in product.upstream:
        product_page_link(upstream)
    if not product.upstream:
        st.caption("none declared")
    st.markdown("**Downstream** (products reading this one)")
    for reader_id in downstream:
        product_page_link(reader_id)
    if not downstream:
        st.caption("none declared")

with st.expander("Contract details: objectives, consumers, ports, terms, maintenance"):
    st.caption(f"From `{product.source}`")
    st.markdown("**Objectives**")
    st.table(frames.objective_rows(product), hide_index=True)
    st.markdown("**Consumers**")
    st.table(pd.DataFrame([{
        "team": c.team, "contact": c.contact or "", "purpose": c.purpose or "",
        "from": str(c.start or "…"), "until": str(c.end or "…"),
        "objectives": ", ".join(c.objectives) if c.objectives is not None else "all",
        "notify": ", ".join(f"{k}:{v}" for n in c.notify for k, v in redact(n).items())}
        for c in product.consumers], columns=["team", "contact", "purpose", "from", "until",
                                              "objectives", "notify"]), hide_index=True)
    st.markdown("**Ports**")
    st.table(pd.DataFrame([{"port": p.name, "type": p.type,
                                "interval": format_duration(p.interval),
                                "timeout": format_duration(p.timeout)} for p in product.ports],
                              columns=["port", "type", "interval", "timeout"]), hide_index=True)
    if product.terms:
        st.markdown("**Terms**")
        st.table(pd.DataFrame([{"term": k, "value": str(v)}
                                   for k, v in redact(product.terms).items()]), hide_index=True)
    maintenance = ("counted in the SLO" if product.maintenance_counts_in_slo
                   else "excluded from the SLO")
    for window in product.maintenance:
        st.markdown(f"**Maintenance**: {describe(window)} ({maintenance})")
    for declared in product.unmonitored:
        st.caption(f"Not monitored: {declared.name} = {declared.value} ({declared.reason})")

if not readable:
    st.info(why, icon=":material/info:")
    st.stop()


# --- objectives over time ----------------------------------------------------------------------

def incidents_for(objective: str, start, end) -> pd.DataFrame:
    found = mesh.episodes(product.id, start, end) or []
    rows = [(e.condition, e.severity, e.fired_at, e.resolved_at or end)
            for e in found if e.objective == objective]
    frame = pd.DataFrame(rows, columns=["condition", "severity", "fired", "resolved"])
    frame["fired"] = mesh.wall_times(frame["fired"])
    frame["resolved"] = mesh.wall_times(frame["resolved"])
    return frame


def measurements(objective, start, end) -> pd.DataFrame | None:
    """Latency (ms) or data age (min) per probe of the objective's port, for threshold charts."""
    if objective.threshold is None or objective.port is None:
        return None
    results = histories.get(objective.port, [])
    if objective.indicator is Indicator.LATENCY:
        rows = [(r.started_at, r.latency_ms) for r in results if r.ok and r.latency_ms is not None]
    else:
        rows = [(r.started_at, (r.started_at - r.newest_data_at).total_seconds() / 60)
                for r in results if r.newest_data_at is not None]
    frame = pd.DataFrame(rows, columns=["at", "value"])
    if end - start > MAX_MINUTE_WINDOW and not frame.empty:
        frame = frame.set_index("at").resample("1h", label="right").max().dropna().reset_index()
    frame["at"] = mesh.wall_times(frame["at"])
    return frame


st.header("Objectives")
if not product.objectives:
    st.info("This contract has no objectives to monitor.")
window_name = st.segmented_control("Chart window", list(WINDOWS), default="24h", required=True,
                                   key="window")
span = WINDOWS[window_name]
size = "minute" if span <= MAX_MINUTE_WINDOW else "hour"
keys = tuple((product.id, o.name) for o in product.objectives)
buckets = mesh.bucket_frame(keys, at - span, at, size)
alerts_known = mesh.episodes(product.id, at - span, at) is not None
latest, failed, histories = mesh.port_reads(product.id, at - span, at)

for report in reports:
    objective, evaluation = report.objective, report.evaluation
    threshold = f" ≤ {format_duration(objective.threshold)}" if objective.threshold else ""
    st.subheader(f"{objective.name}: {objective.indicator.value}{threshold}, "
                 f"{format_target(objective.target)} over {format_duration(objective.window)}")
    status_metric, compliance_metric, budget_metric, events_metric = st.columns(4)
    status_metric.metric("Status", frames.STATUS_LABEL[evaluation.status])
    compliance_metric.metric(f"Compliance ({format_duration(objective.window)})",
                             frames.percent(evaluation.compliance))
    budget_metric.metric("Error budget left", frames.percent(evaluation.error_budget_remaining, 1))
    events_metric.metric("Events good / total",
                         f"{evaluation.counts.good:,} / {evaluation.counts.total:,}")
    if evaluation.conditions:
        st.warning("Holding now: " + ", ".join(f"{c.name} ({c.severity})"
                                               for c in evaluation.conditions))

    incidents = incidents_for(objective.name, at - span, at)
    mine = buckets[buckets["objective"] == objective.name]
    series = frames.compliance_series(mine)
    series["at"] = mesh.wall_times(series["at"])
    indicator_column, measured_column = st.columns(2)
    with indicator_column:
        st.markdown(f"**Good events per {size}** (target {format_target(objective.target)})")
        if series.empty:
            st.caption(f"No events in the last {window_name}: is `meshwatch run` probing "
                       f"{objective.port or 'the ports'}?")
        else:
            st.altair_chart(charts.indicator_chart(series, float(objective.target) * 100,
                                                   incidents), width="stretch")
    with measured_column:
        points = measurements(objective, at - span, at)
        if points is not None:
            latency = objective.indicator is Indicator.LATENCY
            title = "latency ms" if latency else "data age min"
            limit = objective.threshold.total_seconds() * (1000 if latency else 1 / 60)
            st.markdown(f"**{'Latency' if latency else 'Data age'} per probe** (threshold "
                        f"{format_duration(objective.threshold)}"
                        f"{', worst per hour' if size == 'hour' else ''})")
            if points.empty:
                st.caption("No probe results kept for this window.")
            else:
                st.altair_chart(charts.measurement_chart(points, "value", title, limit,
                                                         incidents), width="stretch")

    budget_start = at - objective.window
    window_buckets = mesh.bucket_frame(((product.id, objective.name),),
                                       budget_start, at, "hour")
    burndown = frames.burndown_series(window_buckets, objective, budget_start)
    burndown["at"] = mesh.wall_times(burndown["at"])
    st.markdown(f"**Error budget burn-down** over the {format_duration(objective.window)} window")
    if window_buckets.empty:
        st.caption("No events in the SLO window yet.")
    else:
        window_incidents = incidents_for(objective.name, budget_start, at)
        st.altair_chart(charts.burndown_chart(burndown, *mesh.wall_times([budget_start, at]),
                                              window_incidents), width="stretch")
    with st.expander("Burn rates and alert rules"):
        st.table(frames.burn_rate_rows(report),
                 hide_index=True)
    if not alerts_known:
        st.caption("Incidents: this store has no alert history yet.")
    elif not incidents.empty:
        st.caption(f"{len(incidents)} incident(s) in the last {window_name}, shaded on the charts.")


# --- ports -------------------------------------------------------------------------------------

st.header("Ports: latest probe results")
rows = []
for port in product.ports:
    result = latest.get(port.name)
    if result is None:
        rows.append({"port": port.name, "kind": port.type, "last probe": "—", "latency ms": "—",
                     "result": "never probed", "newest data": "—", "data age": "—", "error": "",
                     "failing since": ""})
        continue
    age = (result.started_at - result.newest_data_at) if result.newest_data_at else None
    rows.append({
        "port": port.name, "kind": result.kind, "last probe": mesh.local(result.started_at),
        "result": "ok" if result.ok else "failed",
        "latency ms": "—" if result.latency_ms is None else f"{result.latency_ms:.1f}",
        "newest data": mesh.local(result.newest_data_at),
        "data age": format_duration(timedelta(seconds=round(age.total_seconds()))) if age else "—",
        "error": f"{result.error_class}: {result.error}" if result.error else "",
        "failing since": mesh.local(result.failing_since) if result.failing_since else ""})
st.table(pd.DataFrame(rows, columns=["port", "kind", "last probe", "result", "latency ms",
                                         "newest data", "data age", "error", "failing since"]),
             hide_index=True)
if failed:
    with st.expander(f"Recent failed probes ({len(failed)})"):
        st.table(pd.DataFrame([{"at": mesh.local(r.started_at), "port": r.port,
                                    "error class": r.error_class, "error": r.error}
                                   for r in failed]), hide_index=True)
