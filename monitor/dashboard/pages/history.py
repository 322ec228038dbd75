"""SLO history, for domain owners: each objective's compliance per calendar month over the last
12 months, met or missed against its target, and the error budget spent."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

from monitor.contracts.model import DataProduct
from monitor.dashboard import charts, frames, mesh
from monitor.reports.months import Month, recent_months


def show() -> None:
    mesh.sidebar()
    st.title("SLO history")
    config = mesh.config()
    products = config.registry.products
    if not products:
        st.info("No data products configured.", icon=":material/info:")
        return
    mesh.engine_or_stop()  # or an empty state saying what to do
    at = mesh.now_minute()
    chosen = chosen_products(products)
    if not chosen:
        st.info("Choose at least one product.")
        return
    months = list(reversed(recent_months(at, mesh.zone(), 12)))
    history = frames.history_frame([mesh.month_report(str(month), at, tuple(chosen))
                                    for month in months])
    history["key"] = history["product"] + " · " + history["objective"]
    st.caption(f"Calendar months in {config.settings.timezone}; the current month counts up to "
               f"{mesh.local(at)}. A month is met when good ≥ target × total events of the month "
               "(maintenance left out where the contract says so).")
    show_counts(history)
    st.altair_chart(charts.history_chart(history), width="stretch")
    show_tables(history, months)


def chosen_products(products: Mapping[str, DataProduct]) -> list[str]:
    """The products of one domain to show (all of them unless fewer are picked)."""
    domains = sorted({p.domain for p in products.values()})
    domain_column, product_column = st.columns(2)
    domain = domain_column.selectbox("Domain", domains)
    in_domain = sorted(p.id for p in products.values() if p.domain == domain)
    return product_column.multiselect("Products", in_domain, default=in_domain)


def show_counts(history: pd.DataFrame) -> None:
    measured = history[history["total"] > 0]
    met_metric, missed_metric, data_metric = st.columns(3)
    met_metric.metric("Objective-months met", int((measured["result"] == "met").sum()))
    missed_metric.metric("Objective-months missed", int((measured["result"] == "missed").sum()))
    data_metric.metric("Months with data", measured["month"].nunique())
    if measured.empty:
        st.info(mesh.NO_MEASUREMENTS, icon=":material/info:")


def show_tables(history: pd.DataFrame, months: list[Month]) -> None:
    """Compliance per month side by side, then every objective-month in detail."""
    wide = history.pivot_table(index=["product", "objective", "target"], columns="month",
                               values="compliance %", aggfunc="first", dropna=False).reset_index()
    st.subheader("Compliance per month (%)")
    st.dataframe(wide, hide_index=True,
                 column_config={str(m): st.column_config.NumberColumn(str(m), format="%.3f")
                                for m in months})
    st.subheader("Every month in detail")
    st.dataframe(history.drop(columns=["key"]).sort_values(["product", "objective", "month"],
                                                           ascending=[True, True, False]),
                 hide_index=True,
                 column_config={"compliance %": st.column_config.NumberColumn(format="%.3f"),
                                "budget spent %": st.column_config.NumberColumn(format="%.1f")})


show()
