"""Alerts, for consumers: what is firing or fired recently, who was told and how, what is
silenced. The same alert history as `meshwatch alerts`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import pandas as pd
import streamlit as st

from monitor.alerting.lifecycle import State
from monitor.contracts.model import DataProduct
from monitor.dashboard import frames, mesh, teams

RECENT = {"24 hours": timedelta(days=1), "7 days": timedelta(days=7),
          "30 days": timedelta(days=30)}
EVERYONE = "(every team)"

Products = Mapping[str, DataProduct]


def show() -> None:
    mesh.sidebar()
    st.title("Alerts")
    products = mesh.config().registry.products
    mesh.engine_or_stop()  # or an empty state saying what to do
    at = mesh.now_minute()
    team, recent_name = chosen_team_and_period(products)
    reads = mesh.alert_reads(at, RECENT[recent_name])
    if reads is None:
        st.info("No alert history in this store yet: it was created before the alert engine "
                "(its tables come with migration 0003). Run `meshwatch run` with this version once "
                "to add them; the dashboard itself never changes the store.",
                icon=":material/info:")
        return
    shown = [a for a in reads.alerts if hears(products, team, a, at)]
    broken = reads.failed_deliveries
    show_counts(shown, broken, recent_name)
    if not shown:
        who = "" if team == EVERYONE else f" for {team}"
        st.success(f"No active alerts and none in the last {recent_name}{who}.",
                   icon=":material/check_circle:")
    else:
        show_alerts(shown)
        show_deliveries(shown)
    if broken:
        show_failed_destinations(broken)
    show_silences(reads.silences, products, team, at)


def chosen_team_and_period(products: Products) -> tuple[str, str]:
    """The team whose alerts to show (or everyone's) and the name of the recent period."""
    team_column, recent_column = st.columns([2, 2])
    team = team_column.selectbox("Team", [EVERYONE, *teams.teams(products)],
                                 help="Alerts a team hears: as the owner, all of its products'; "
                                      "as a consumer, those of the objectives it agreed on")
    recent_name = recent_column.segmented_control("Recent", list(RECENT), default="7 days",
                                                  required=True)
    return team, recent_name


def hears(products: Products, team: str, alert: dict, at: datetime) -> bool:
    return team == EVERYONE or teams.hears(products, team, alert, at)


def show_counts(shown: list[dict], broken: list[dict], recent_name: str) -> None:
    firing_metric, pending_metric, resolved_metric, failed_metric = st.columns(4)
    firing_metric.metric("Firing", sum(a["state"] == State.FIRING for a in shown))
    pending_metric.metric("Pending", sum(a["state"] == State.PENDING for a in shown))
    resolved_metric.metric(f"Resolved in {recent_name}",
                           sum(a["state"] == State.RESOLVED for a in shown))
    failed_metric.metric("Failed deliveries", len(broken))


def show_alerts(shown: list[dict]) -> None:
    st.dataframe(frames.alert_rows(shown, mesh.local), hide_index=True)


def show_deliveries(shown: list[dict]) -> None:
    deliveries = frames.delivery_rows(shown, mesh.local)
    st.subheader("Deliveries")
    if len(deliveries):
        st.dataframe(deliveries, hide_index=True)
    else:
        st.caption("Nothing was sent for these alerts (yet).")


def show_failed_destinations(broken: list[dict]) -> None:
    st.subheader("Destinations that failed for good")
    st.error("These notifications were not delivered after every retry: check the channel "
             "settings in meshwatch.yaml or the contract's notify entries.")
    st.dataframe(pd.DataFrame([{"product": d["product"], "destination": d["destination"],
                                "message": d["message"], "attempts": d["attempts"],
                                "error": d["last_error"] or ""} for d in broken]),
                 hide_index=True)


def show_silences(silences: list[dict], products: Products, team: str, at: datetime) -> None:
    st.subheader("Silences")
    if team != EVERYONE:
        silences = [s for s in silences if s["product"] in products
                    and (products[s["product"]].owner.team == team
                         or any(c.team == team for c in products[s["product"]].consumers))]
    if not silences:
        st.caption("No silences. Add one with `meshwatch silence add --product … --for 2h -m why`.")
        return
    st.dataframe(pd.DataFrame([{
        "id": s["id"], "product": s["product"], "objective": s["objective"] or "(all)",
        "from": mesh.local(s["starts_at"]), "until": mesh.local(s["ends_at"]),
        "state": "active" if s["active"] else ("ended" if s["ends_at"] <= at else "upcoming"),
        "by": s["created_by"] or "", "comment": s["comment"]} for s in silences]),
        hide_index=True)


show()
