"""Product page: the contract, each objective over time with its budget and burn rates, and the
latest probe results of each port. Deep link: `/product?product=domain/name`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from monitor.contracts.maintenance import describe
from monitor.contracts.model import DataProduct, Indicator, Objective, describe_bound, describe_window
from monitor.dashboard import charts, frames, mesh
from monitor.evaluation.mesh import ObjectiveEvaluation
from monitor.store.reads import PortResult
from monitor.values.durations import format_duration
from monitor.values.targets import format_target

WINDOWS = {"1h": timedelta(hours=1), "6h": timedelta(hours=6), "24h": timedelta(days=1),
           "7d": timedelta(days=7), "30d": timedelta(days=30)}
MAX_MINUTE_WINDOW = timedelta(days=1)  # longer windows are charted per hour

Histories = Mapping[str, list[PortResult]]  # probe results per port in the chart window


@dataclass(frozen=True)
class ChartWindow:
    """The stretch of time the objective charts show: `name` (one of WINDOWS) up to `at`."""

    name: str
    at: datetime

    @property
    def start(self) -> datetime:
        return self.at - WINDOWS[self.name]

    @property
    def size(self) -> str:
        """What one point of a chart counts: a minute, or an hour for the longer windows."""
        return "minute" if WINDOWS[self.name] <= MAX_MINUTE_WINDOW else "hour"


def show() -> None:
    mesh.sidebar()
    config = mesh.config()
    products = config.registry.products
    product = chosen_product(products)
    st.title(product.id)
    if product.description:
        st.caption(product.description.strip())
    at = mesh.now_minute()
    reports, unreadable = evaluated(product, at)
    if unreadable is None:
        worst = frames.worst(r.evaluation.status for r in reports)
        st.markdown(f"**Status:** {frames.status_badge(worst)} · evaluated at {mesh.local(at)} "
                    f"({config.settings.timezone})")
    show_facts(product, products, at)
    show_contract_details(product)
    if unreadable is not None:
        st.info(unreadable, icon=":material/info:")
        return
    latest, failed = show_objectives(product, reports, at)
    show_ports(product, latest, failed)


def chosen_product(products: Mapping[str, DataProduct]) -> DataProduct:
    """The product of `?product=` or the one picked; the page stops while there is none."""
    if not products:
        st.info("No data products configured: add contract files and check them with "
                "`meshwatch validate`.", icon=":material/info:")
        st.stop()
    ids = sorted(products)
    wanted = st.query_params.get("product")
    index = ids.index(wanted) if wanted is not None and wanted in products else None
    choice = st.selectbox("Product", ids, index=index, placeholder="Choose a product")
    if wanted and wanted not in products:
        st.warning(f"There is no product `{wanted}` in this mesh. Its contract may have been "
                   "refused: see the configuration problems on the overview.")
    if choice is None:
        st.info("Choose a product above, or open one from the mesh overview.",
                icon=":material/info:")
        st.stop()
    # Always written back: a page link to this same page changes the product without the browser's
    # address following, and the address is what people copy to share a product.
    st.query_params["product"] = choice
    return products[choice]


def evaluated(product: DataProduct, at: datetime) -> tuple[list[ObjectiveEvaluation], str | None]:
    """The product's objectives evaluated at `at`, and why the store cannot be read (None: it can)."""
    try:
        mesh.reader()
    except mesh.NothingToRead as reason:
        return [], str(reason)
    return mesh.mesh_status(at, (product.id,)).reports, None


# --- the contract ------------------------------------------------------------------------------


def show_facts(product: DataProduct, products: Mapping[str, DataProduct], at: datetime) -> None:
    """Owner, validity, contract version and lineage, side by side."""
    owner_column, validity_column, version_column, lineage_column = st.columns(4)
    owner_column.markdown(f"**Owner**  \n{product.owner.team}"
                          + (f"  \n{product.owner.contact}" if product.owner.contact else ""))
    in_force = "in force" if product.in_force(at) else "**not in force now**"
    validity_column.markdown(f"**Validity**  \n{product.start or '…'} → {product.end or '…'} "
                             f"({in_force})")
    version_column.markdown(f"**Contract**  \nversion {product.version or '?'} · {product.format}")
    with lineage_column:
        show_lineage(product, products)


def show_lineage(product: DataProduct, products: Mapping[str, DataProduct]) -> None:
    st.markdown("**Upstream** (read by this product)")
    for upstream in product.upstream:
        product_page_link(products, upstream)
    if not product.upstream:
        st.caption("none declared")
    downstream = sorted(p.id for p in products.values() if product.id in p.upstream)
    st.markdown("**Downstream** (products reading this one)")
    for reader_id in downstream:
        product_page_link(products, reader_id)
    if not downstream:
        st.caption("none declared")


def product_page_link(products: Mapping[str, DataProduct], product_id: str) -> None:
    if product_id in products:
        st.page_link("pages/product.py", label=product_id, icon=":material/arrow_forward:",
                     query_params={"product": product_id, **mesh.at_parameter()})
    else:
        st.markdown(f"`{product_id}` (not in this mesh)")


def show_contract_details(product: DataProduct) -> None:
    with st.expander("Contract details: objectives, consumers, ports, terms, maintenance"):
        st.caption(f"From `{product.source}`")
        st.markdown("**Objectives**")
        st.table(frames.objective_rows(product), hide_index=True)
        st.markdown("**Consumers**")
        st.table(frames.consumer_rows(product), hide_index=True)
        st.markdown("**Ports**")
        st.table(frames.port_rows(product), hide_index=True)
        if product.terms:
            st.markdown("**Terms**")
            st.table(frames.term_rows(product), hide_index=True)
        maintenance = ("counted in the SLO" if product.maintenance_counts_in_slo
                       else "excluded from the SLO")
        for window in product.maintenance:
            st.markdown(f"**Maintenance**: {describe(window)} ({maintenance})")
        for declared in product.unmonitored:
            st.caption(f"Not monitored: {declared.name} = {declared.value} ({declared.reason})")


# --- objectives over time ----------------------------------------------------------------------


def show_objectives(product: DataProduct, reports: list[ObjectiveEvaluation], at: datetime
                    ) -> tuple[dict[str, PortResult], list[PortResult]]:
    """Each objective charted over the window picked; the latest and failed probes read with it."""
    st.header("Objectives")
    if not product.objectives:
        st.info("This contract has no objectives to monitor.")
    name = st.segmented_control("Chart window", list(WINDOWS), default="24h", required=True,
                                key="window")
    window = ChartWindow(name, at)
    keys = tuple((product.id, o.name) for o in product.objectives)
    buckets = mesh.bucket_frame(keys, window.start, at, window.size)
    alerts_known = mesh.episodes(product.id, window.start, at) is not None
    latest, failed, histories = mesh.port_reads(product.id, window.start, at)
    for report in reports:
        show_objective(report, window, buckets, histories, alerts_known)
    return latest, failed


def show_objective(report: ObjectiveEvaluation, window: ChartWindow, buckets: pd.DataFrame,
                   histories: Histories, alerts_known: bool) -> None:
    show_figures(report)
    incidents = incidents_for(report.product, report.objective, window.start, window.at)
    indicator_column, measured_column = st.columns(2)
    with indicator_column:
        show_indicator_chart(report.objective, window, buckets, incidents)
    with measured_column:
        show_measurement_chart(report.objective, window, histories, incidents)
    show_burndown(report, window.at)
    with st.expander("Burn rates and alert rules"):
        st.table(frames.burn_rate_rows(report), hide_index=True)
    if not alerts_known:
        st.caption("Incidents: this store has no alert history yet.")
    elif not incidents.empty:
        st.caption(f"{len(incidents)} incident(s) in the last {window.name}, shaded on the charts.")


def show_figures(report: ObjectiveEvaluation) -> None:
    """The objective as promised, and its status, compliance, budget and events now."""
    objective, evaluation = report.objective, report.evaluation
    threshold = describe_bound(objective)
    st.subheader(f"{objective.name}: {objective.indicator.value}{threshold}, "
                 f"{format_target(objective.target)} over {window_words(report)}")
    status_metric, compliance_metric, budget_metric, events_metric = st.columns(4)
    status_metric.metric("Status", frames.STATUS_LABEL[evaluation.status])
    so_far = f"this {objective.calendar.value}" if objective.calendar else format_duration(
        objective.window)
    compliance_metric.metric(f"Compliance ({so_far})", frames.percent(evaluation.compliance))
    budget_metric.metric("Error budget left", frames.percent(evaluation.error_budget_remaining, 1))
    events_metric.metric("Events good / total",
                         f"{evaluation.counts.good:,} / {evaluation.counts.total:,}")
    if evaluation.conditions:
        st.warning("Holding now: " + ", ".join(f"{c.name} ({c.severity})"
                                               for c in evaluation.conditions))
    if evaluation.schema_mismatch:
        st.error("The port's schema differs from the contract: "
                 + "; ".join(evaluation.schema_mismatch))


def show_indicator_chart(objective: Objective, window: ChartWindow, buckets: pd.DataFrame,
                         incidents: pd.DataFrame) -> None:
    series = frames.compliance_series(buckets[buckets["objective"] == objective.name])
    series["at"] = mesh.wall_times(series["at"])
    st.markdown(f"**Good events per {window.size}** (target {format_target(objective.target)})")
    if series.empty:
        st.caption(f"No events in the last {window.name}: is `meshwatch run` probing "
                   f"{objective.port or 'the ports'}?")
    else:
        st.altair_chart(charts.indicator_chart(series, float(objective.target) * 100, incidents),
                        width="stretch")


def show_measurement_chart(objective: Objective, window: ChartWindow, histories: Histories,
                           incidents: pd.DataFrame) -> None:
    """Latency or data age per probe against the threshold, for objectives that have one; the
    volume per probe against its bound."""
    if objective.port is None:
        return
    if objective.indicator is Indicator.VOLUME:
        show_volume_chart(objective, window, histories, incidents)
        return
    if objective.threshold is None:
        return
    points = measurements(objective, window, histories.get(objective.port, []))
    latency = objective.indicator is Indicator.LATENCY
    title = "latency ms" if latency else "data age min"
    limit = objective.threshold.total_seconds() * (1000 if latency else 1 / 60)
    st.markdown(f"**{'Latency' if latency else 'Data age'} per probe** (threshold "
                f"{format_duration(objective.threshold)}"
                f"{', worst per hour' if window.size == 'hour' else ''})")
    if points.empty:
        st.caption("No probe results kept for this window.")
    else:
        st.altair_chart(charts.measurement_chart(points, "value", title, limit, incidents),
                        width="stretch")


def show_volume_chart(objective: Objective, window: ChartWindow, histories: Histories,
                      incidents: pd.DataFrame) -> None:
    """What the port counted per probe, against the objective's min (else its max)."""
    assert objective.port is not None  # the caller shows volume charts of a named port
    bound = objective.minimum or objective.maximum
    points = measurements(objective, window, histories.get(objective.port, []))
    st.markdown(f"**Volume per probe** ({objective.indicator.value}{describe_bound(objective)}"
                f"{', worst per hour' if window.size == 'hour' else ''})")
    if points.empty or bound is None:
        st.caption("No probe results kept for this window.")
    else:
        st.altair_chart(charts.measurement_chart(points, "value", "volume", float(bound.value),
                                                 incidents), width="stretch")


def measurements(objective: Objective, window: ChartWindow, results: list[PortResult]
                 ) -> pd.DataFrame:
    """Latency (ms), data age (min) or volume per probe of the objective's port; the worst per
    hour on the longer windows (the least volume under a min)."""
    frame = frames.measurement_rows(objective, results)
    if window.size == "hour" and not frame.empty:
        hours = frame.set_index("at").resample("1h", label="right")
        least = objective.indicator is Indicator.VOLUME and objective.minimum is not None
        frame = (hours.min() if least else hours.max()).dropna().reset_index()
    frame["at"] = mesh.wall_times(frame["at"])
    return frame


def window_words(report: ObjectiveEvaluation) -> str:
    """`30d`, or `the calendar month (Europe/Amsterdam)` in the zone the evaluation used."""
    period = report.evaluation.period
    if period is None:
        return describe_window(report.objective)
    return f"the calendar {period.kind.value} ({period.timezone})"


def show_burndown(report: ObjectiveEvaluation, at: datetime) -> None:
    """The error budget left over the objective's whole window, with its incidents; a calendar
    objective's from the start of its current period, where its budget was reset."""
    product, objective, period = report.product, report.objective, report.evaluation.period
    start = period.start if period is not None else at - objective.window
    buckets = mesh.bucket_frame(((product.id, objective.name),), start, at, "hour")
    burndown = frames.burndown_series(buckets, objective, start)
    burndown["at"] = mesh.wall_times(burndown["at"])
    if period is not None:
        reset = period.start.astimezone(ZoneInfo(period.timezone))
        window = f"this {period.kind.value} (since {reset:%Y-%m-%d %H:%M} {period.timezone})"
    else:
        window = f"the {format_duration(objective.window)} window"
    st.markdown(f"**Error budget burn-down** over {window}")
    if buckets.empty:
        st.caption("No events in the SLO window yet.")
    else:
        incidents = incidents_for(product, objective, start, at)
        wall_start, wall_end = mesh.wall_times([start, at])
        st.altair_chart(charts.burndown_chart(burndown, wall_start, wall_end, incidents),
                        width="stretch")


def incidents_for(product: DataProduct, objective: Objective, start: datetime, end: datetime
                  ) -> pd.DataFrame:
    """The objective's alert firings overlapping [start, end), in wall-clock times for charts."""
    found = mesh.episodes(product.id, start, end) or []
    rows = [(e.condition, e.severity, e.fired_at, e.resolved_at or end)
            for e in found if e.objective == objective.name]
    frame = pd.DataFrame(rows, columns=["condition", "severity", "fired", "resolved"])
    frame["fired"] = mesh.wall_times(frame["fired"])
    frame["resolved"] = mesh.wall_times(frame["resolved"])
    return frame


# --- ports -------------------------------------------------------------------------------------


def show_ports(product: DataProduct, latest: Mapping[str, PortResult],
               failed: list[PortResult]) -> None:
    st.header("Ports: latest probe results")
    st.table(frames.latest_probe_rows(product, latest, mesh.local), hide_index=True)
    mismatch = frames.schema_mismatch_rows(product, latest)
    if not mismatch.empty:
        st.markdown("**Schema differs from the contract** (the latest look at each port)")
        st.table(mismatch, hide_index=True)
    if failed:
        with st.expander(f"Recent failed probes ({len(failed)})"):
            st.table(frames.failed_probe_rows(failed, mesh.local), hide_index=True)


show()
