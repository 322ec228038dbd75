"""A team's view (`?team=marketing`): the products it owns, the products it consumes with its
agreement (purpose, dates, objectives agreed), and the alerts it hears with their deliveries. The
team is remembered in the address, so a team bookmarks its own page. The platform's view of the
whole mesh is the overview; governance's is the uptime report."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from monitor.dashboard import frames, mesh, teams

RECENT = timedelta(days=30)
PARAMETER = "team"


def show() -> None:
    mesh.sidebar()
    products = mesh.config().registry.products
    names = teams.teams(products)
    if not names:
        st.title("Team")
        st.info("No data products configured.", icon=":material/info:")
        return
    team = chosen_team(names)
    st.title(f"Team {team}")
    st.caption("What the team owns, what it consumes and on what terms, and the alerts it hears. "
               "The whole mesh is on the overview; the monthly uptime and compliance of every "
               "product on the uptime report.")
    mesh.engine_or_stop()  # or an empty state saying what to do
    at = mesh.now_minute()
    owned, agreed = teams.owned(products, team), teams.agreements(products, team)
    ids = tuple(sorted({p.id for p in owned} | {a.product.id for a in agreed}))
    status = mesh.mesh_status(at, ids)
    at_parameter = mesh.at_parameter().get("at")
    link = st.column_config.LinkColumn("product", display_text=r"product=([^&]*)")

    st.subheader("Products it owns")
    if owned:
        frame = frames.overview_frame(owned, status.reports, status.firing, at_parameter)
        st.dataframe(frames.styled_status(frame[frames.OVERVIEW_COLUMNS]), hide_index=True,
                     column_config={"product": link,
                                    "budget left": st.column_config.NumberColumn(format="%.1f%%")})
    else:
        st.caption(f"{team} owns no data product.")

    st.subheader("Products it consumes")
    if agreed:
        st.dataframe(frames.styled_status(frames.agreement_rows(agreed, status.reports, at,
                                                                at_parameter)),
                     hide_index=True, column_config={"product": link})
    else:
        st.caption(f"{team} has no agreement as a consumer.")

    show_alerts(products, team, at)


def chosen_team(names: list[str]) -> str:
    """The team of `?team=` (or the first), chosen again in the selector; the choice is written
    back to the address."""
    asked = st.query_params.get(PARAMETER)
    if asked is not None and asked not in names:
        st.warning(f"No team {asked!r} in the contracts; showing {names[0]}.")
    team = st.selectbox("Team", names, index=names.index(asked) if asked in names else 0,
                        help="Teams named by the contracts, as owners or consumers")
    st.query_params[PARAMETER] = team
    return team


def show_alerts(products, team: str, at) -> None:
    st.subheader("Alerts it hears")
    reads = mesh.alert_reads(at, RECENT)
    if reads is None:
        st.caption("No alert history in this store yet (it was created before the alert engine).")
        return
    heard = [a for a in reads.alerts if teams.hears(products, team, a, at)]
    if not heard:
        st.caption(f"No active alerts for {team} and none resolved in the last 30 days.")
        return
    st.dataframe(frames.alert_rows(heard, mesh.local), hide_index=True)
    st.subheader("Deliveries")
    deliveries = frames.delivery_rows(heard, mesh.local)
    if len(deliveries):
        st.dataframe(deliveries, hide_index=True)
    else:
        st.caption("Nothing was sent for these alerts (yet).")


show()
