"""Mesh overview, for the platform team: every product's health on one screen, worst first."""

import streamlit as st

from monitor.dashboard import frames, mesh

mesh.sidebar()
st.title("Mesh overview")
config = mesh.config()

if config.problems:
    refused = len({p.file for p in config.problems})
    with st.expander(f"⚠️ {len(config.problems)} configuration problem(s) in {refused} file(s): "
                     "refused contracts are not monitored until fixed", expanded=True):
        st.dataframe(frames.problems_frame(config.problems), hide_index=True)

refusal = mesh.daemon_refusal()
if refusal is not None:
    st.error(f"The daemon refused the configuration change of {mesh.local(refusal.at)}: it keeps "
             "running its last good settings and contracts until `meshwatch.yaml` is fixed.",
             icon=":material/block:")
    st.code("\n".join(refusal.problems), language=None)

products = sorted(config.registry.products.values(), key=lambda p: p.id)
if not products:
    st.info(f"No data products configured: add contract files under `{config.directory}` and "
            "check them with `meshwatch validate`.", icon=":material/info:")
    st.stop()

mesh.engine_or_stop()  # or an empty state saying what to do

search_column, domain_column, status_column, owner_column = st.columns([3, 2, 2, 2])
search_column.text_input("Search", key="search", placeholder="product, owner, objective…")
domain_column.multiselect("Domain", sorted({p.domain for p in products}), key="domains")
status_column.multiselect("Status", [s.value for s in frames.STATUS_LABEL], key="statuses",
                          format_func=lambda v: next(label for s, label in
                                                     frames.STATUS_LABEL.items() if s.value == v))
owner_column.multiselect("Owner", sorted({p.owner.team for p in products}), key="owners")


@st.fragment(run_every=mesh.REFRESH)
def board() -> None:
    status = mesh.mesh_status(mesh.now_minute())
    table = frames.overview_frame(products, status.reports, status.firing,
                                  mesh.at_parameter().get("at"))
    shown = frames.filter_overview(table, st.session_state.get("search", ""),
                                   st.session_state.get("domains", []),
                                   st.session_state.get("statuses", []),
                                   st.session_state.get("owners", []))
    counts = shown["_status"].value_counts()
    products_metric, breached, at_risk, firing = st.columns(4)
    products_metric.metric("Products", len(shown))
    breached.metric("Breached", int(counts.get("breached", 0)))
    at_risk.metric("At risk", int(counts.get("at_risk", 0)))
    if status.firing is None:
        firing.metric("Alerts firing", "—",
                      help="This store has no alert tables yet (the alert engine adds them)")
    else:
        firing.metric("Alerts firing", int(shown["alerts firing"].sum()))
    st.caption(f"Evaluated at {mesh.local(status.at)} ({config.settings.timezone}); "
               f"{len(shown)} of {len(table)} product(s) shown, worst first; refreshes every "
               f"{int(mesh.REFRESH.total_seconds())} s. Select a row to open its product page.")
    if shown.empty:
        st.info("No product matches these filters.")
        return
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


board()
