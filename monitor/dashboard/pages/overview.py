"""Mesh overview, for the platform team: every product's health on one screen, worst first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd
import streamlit as st

from monitor.contracts import Problem
from monitor.contracts.lineage import Lineage
from monitor.contracts.model import DataProduct
from monitor.dashboard import charts, frames, mesh
from monitor.evaluation.mesh import ObjectiveEvaluation
from monitor.slo import Status

PICTURE_LIMIT = 150  # products drawn; a bigger mesh draws its bad products and their lineage


def show() -> None:
    mesh.sidebar()
    st.title("Mesh overview")
    config = mesh.config()
    if config.problems:
        show_problems(config.problems)
    show_daemon_refusal()
    products = sorted(config.registry.products.values(), key=lambda p: p.id)
    if not products:
        st.info(f"No data products configured: add contract files under `{config.directory}` and "
                "check them with `meshwatch validate`.", icon=":material/info:")
        return
    mesh.engine_or_stop()  # or an empty state saying what to do
    show_filters(products)
    board(products, config.settings.timezone)


def show_problems(problems: Sequence[Problem]) -> None:
    refused = len({p.file for p in problems})
    with st.expander(f"⚠️ {len(problems)} configuration problem(s) in {refused} file(s): "
                     "refused contracts are not monitored until fixed (a lineage problem refuses "
                     "nothing: the product is monitored, drawn without that link)", expanded=True):
        st.dataframe(frames.problems_frame(problems), hide_index=True)


def show_daemon_refusal() -> None:
    refusal = mesh.daemon_refusal()
    if refusal is not None:
        st.error(f"The daemon refused the configuration change of {mesh.local(refusal.at)}: it "
                 "keeps running its last good settings and contracts until `meshwatch.yaml` is "
                 "fixed.", icon=":material/block:")
        st.code("\n".join(refusal.problems), language=None)


def show_filters(products: Sequence[DataProduct]) -> None:
    """Search and filters; the board reads them from the session state they are kept in."""
    search_column, domain_column, status_column, owner_column = st.columns([3, 2, 2, 2])
    search_column.text_input("Search", key="search", placeholder="product, owner, objective…")
    domain_column.multiselect("Domain", sorted({p.domain for p in products}), key="domains")
    status_column.multiselect("Status", [s.value for s in frames.STATUS_LABEL], key="statuses",
                              format_func=status_label)
    owner_column.multiselect("Owner", sorted({p.owner.team for p in products}), key="owners")


def status_label(value: str) -> str:
    return next(label for status, label in frames.STATUS_LABEL.items() if status.value == value)


@st.fragment(run_every=mesh.REFRESH)
def board(products: Sequence[DataProduct], timezone: str) -> None:
    """The products as filtered, worst first, with counts; refreshes itself."""
    status = mesh.mesh_status(mesh.now_minute())
    table = frames.overview_frame(products, status.reports, status.firing,
                                  mesh.at_parameter().get("at"))
    shown = frames.filter_overview(table, st.session_state.get("search", ""),
                                   st.session_state.get("domains", []),
                                   st.session_state.get("statuses", []),
                                   st.session_state.get("owners", []))
    show_counts(shown, status.firing is None)
    show_monitor_load(status.at)
    st.caption(f"Evaluated at {mesh.local(status.at)} ({timezone}); "
               f"{len(shown)} of {len(table)} product(s) shown, worst first; refreshes every "
               f"{int(mesh.REFRESH.total_seconds())} s. Select a row to open its product page.")
    show_picture(products, status.reports)
    if shown.empty:
        st.info("No product matches these filters.")
        return
    show_table(shown)


def product_statuses(products: Sequence[DataProduct], reports: Sequence[ObjectiveEvaluation]
                     ) -> dict[str, Status]:
    """Each product's status: its worst objective's (no objective evaluated: no data)."""
    found: dict[str, list[Status]] = {product.id: [] for product in products}
    for report in reports:
        found.setdefault(report.product.id, []).append(report.evaluation.status)
    return {product: frames.worst(statuses) for product, statuses in found.items()}


def show_picture(products: Sequence[DataProduct], reports: Sequence[ObjectiveEvaluation]) -> None:
    """The whole mesh as a picture: domains, products coloured by status, lineage arrows — where
    a breach starts and what it reaches. The filters above are the table's, not the picture's."""
    statuses = product_statuses(products, reports)
    lineage = Lineage.of(products)
    drawn = list(products)
    note = ""
    if len(drawn) > PICTURE_LIMIT:
        bad = {p for p, s in statuses.items() if s in charts.BAD}
        near = bad | {a for p in bad for a in lineage.ancestors(p)} | {
            p.id for p in products if bad & set(lineage.ancestors(p.id))}
        drawn = [p for p in products if p.id in near][:PICTURE_LIMIT]
        note = (f" {len(products)} products are too many to draw: shown are the {len(drawn)} "
                "breached or at risk and those upstream and downstream of them.")
    st.subheader("Lineage")
    if not drawn:
        st.caption(f"All {len(products)} products are healthy: nothing to draw.")
        return
    st.graphviz_chart(charts.mesh_dot(drawn, statuses, lineage), width="stretch")
    st.caption("Each box is a product in its domain, coloured by its worst objective (red "
               "breached, orange at risk, purple no data, green ok, grey not in force); arrows "
               "run from a product to those that read from it. A bad product with nothing bad "
               "upstream is marked `starts here`." + note)


def show_monitor_load(at: datetime) -> None:
    """Runs the monitor skipped in the hour up to `at`: its own overload, counted against no
    product (and, live, how many workers run now)."""
    load = mesh.monitor_load(at)
    if not load.skipped:
        return
    runs = sum(load.skipped.values())
    worst = sorted(load.skipped.items(), key=lambda item: (-item[1], item[0]))[:5]
    live = f" ({load.workers} worker(s) live)" if mesh.fixed_time() is None else ""
    st.warning(f"The monitor skipped {runs:,} scheduled probe run(s) of {len(load.skipped)} port(s) "
               f"in the hour to {mesh.local(at)}: it could not keep up{live}. Skipped runs count "
               "against no product; add workers (`meshwatch run --workers auto`) or lengthen "
               "intervals. Most skipped: "
               + ", ".join(f"{product} {port} ({count:,})" for (product, port), count in worst),
               icon=":material/speed:")


def show_counts(shown: pd.DataFrame, alerts_unknown: bool) -> None:
    counts = shown["_status"].value_counts()
    products_metric, breached, at_risk, firing = st.columns(4)
    products_metric.metric("Products", len(shown))
    breached.metric("Breached", int(counts.get("breached", 0)))
    at_risk.metric("At risk", int(counts.get("at_risk", 0)))
    if alerts_unknown:
        firing.metric("Alerts firing", "—",
                      help="This store has no alert tables yet (the alert engine adds them)")
    else:
        firing.metric("Alerts firing", int(shown["alerts firing"].sum()))


def show_table(shown: pd.DataFrame) -> None:
    """The board itself; selecting a row opens that product's page."""
    selection = st.dataframe(
        frames.styled_status(shown), hide_index=True, key="board", on_select="rerun",
        selection_mode="single-row",
        column_order=frames.OVERVIEW_COLUMNS,
        column_config={
            "product": st.column_config.LinkColumn("product", display_text=r"product=([^&]*)",
                                                   help="Open the product page"),
            "objectives": st.column_config.ListColumn("objectives (compliance · budget left)",
                                                      width="large"),
            "budget left": st.column_config.ProgressColumn(
                "worst budget left", format="%.1f%%", min_value=0, max_value=100),
            "conditions": st.column_config.ListColumn("conditions now"),
            "alerts firing": st.column_config.NumberColumn("alerts firing", format="%d"),
        })
    if selection.selection.rows:
        chosen = shown.iloc[selection.selection.rows[0]]["_id"]
        st.switch_page("pages/product.py", query_params={"product": chosen, **mesh.at_parameter()})


show()
