"""Uptime report, for governance: one calendar month, every product — availability, uptime,
downtime and not measured minutes, incidents, objectives met or missed — and the same report as files
(`meshwatch report uptime --month YYYY-MM` prints it too)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import streamlit as st

from monitor.contracts.model import DataProduct
from monitor.dashboard import frames, mesh
from monitor.reports.months import recent_months
from monitor.reports.render import render_csv, render_json, render_markdown
from monitor.reports.uptime import UptimeReport


def show() -> None:
    mesh.sidebar()
    st.title("Uptime report")
    config = mesh.config()
    mesh.engine_or_stop()  # or an empty state saying what to do
    at = mesh.now_minute()
    month, ids = chosen_month_and_products(config.registry.products, at,
                                           config.settings.timezone)
    report = mesh.month_report(month, at, ids)
    table = frames.report_frame(report)
    if not report.complete:
        st.warning(f"{month} is still running: figures count up to {mesh.local(at)}.")
    show_counts(report)
    if not any(p.availability_counts and p.availability_counts.total for p in report.products):
        st.info(f"No availability measurements in {month}: start `meshwatch run`, or pick a month "
                "in which it ran.", icon=":material/info:")
    st.dataframe(table, hide_index=True, column_config={
        "availability %": st.column_config.NumberColumn(format="%.3f"),
        "uptime %": st.column_config.NumberColumn(format="%.3f"),
        "objectives": st.column_config.ListColumn(width="large")})
    show_downloads(report, month)
    with st.expander("How these figures are counted"):
        st.markdown(counting_rules(config.settings.timezone))


def chosen_month_and_products(products: Mapping[str, DataProduct], at: datetime, timezone: str
                              ) -> tuple[str, tuple[str, ...]]:
    """The month picked (last month unless another) and the ids of the products of the domains
    picked (every product unless some)."""
    months = [str(m) for m in recent_months(at, mesh.zone(), 13)]
    month_column, domain_column = st.columns(2)
    month = month_column.selectbox("Month", months, index=1,
                                   help=f"Calendar months in {timezone}")
    domains = sorted({p.domain for p in products.values()})
    chosen_domains = domain_column.multiselect("Domains", domains, placeholder="every domain")
    ids = tuple(sorted(p.id for p in products.values()
                       if not chosen_domains or p.domain in chosen_domains))
    return month, ids


def show_counts(report: UptimeReport) -> None:
    products_metric, missed_metric, downtime_metric, incidents_metric = st.columns(4)
    products_metric.metric("Products", len(report.products))
    missed_metric.metric("Objectives missed", sum(p.count("missed") for p in report.products))
    downtime_metric.metric("Downtime minutes",
                           sum(p.downtime_minutes or 0 for p in report.products))
    incidents_metric.metric("Incidents", sum(p.incidents or 0 for p in report.products)
                            if report.incidents_known else "—",
                            help=None if report.incidents_known else
                            "This store has no alert history yet")


def show_downloads(report: UptimeReport, month: str) -> None:
    csv_column, markdown_column, json_column = st.columns(3)
    csv_column.download_button("Download CSV", render_csv(report), f"uptime-{month}.csv",
                               "text/csv")
    markdown_column.download_button("Download Markdown", render_markdown(report),
                                    f"uptime-{month}.md", "text/markdown")
    json_column.download_button("Download JSON", render_json(report), f"uptime-{month}.json",
                                "application/json")


def counting_rules(timezone: str) -> str:
    return f"""
- **Month**: a calendar month in **{timezone}** (the `timezone` setting), cut to
  each contract's validity and, for the running month, to now.
- **Availability**: good ÷ all availability events (probes) of the product in the period.
- **Measured minute**: a minute of the period that a probe of one of the product's availability
  objectives covers — a probe covers its port's interval, so one probe of a port probed every
  5 minutes measures 5 minutes.
- **Downtime minute**: a measured minute that a failed probe covers; a minute bad on two ports
  counts once. A failed probe of a port probed every 5 minutes is 5 downtime minutes.
- **Not measured**: the minutes no probe covers (the monitor was not running, the port was not
  probed yet) — neither up nor down.
- **Uptime**: 1 − downtime minutes ÷ measured minutes; not measured minutes are never counted as up.
- **Maintenance**: *counted* — maintenance minutes are ordinary minutes; *excluded*
  (`maintenance_in_slo: excluded` in the contract) — they leave the period, the events and the
  downtime.
- **Incidents**: how many times one of the product's alerts started firing in the month.
- **Met**: good ≥ target × total events of the objective in the period.
"""


show()
