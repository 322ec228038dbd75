"""The meshwatch dashboard: `meshwatch dashboard`, or `streamlit run monitor/dashboard/app.py` with
MESHWATCH_CONFIG set. One view per kind of user — the platform's whole mesh, a team's products,
agreements and alerts (`team?team=marketing`), governance's uptime report; every page only reads
the store."""

import streamlit as st

from monitor.values.links import PRODUCT_PAGE

st.set_page_config(page_title="meshwatch", page_icon="🛰️", layout="wide")

PAGES = {
    "Platform": [
        st.Page("pages/overview.py", title="Mesh overview", icon=":material/hub:",
                url_path="overview", default=True),
        st.Page("pages/product.py", title="Product", icon=":material/inventory_2:",
                url_path=PRODUCT_PAGE)],
    "Teams": [
        st.Page("pages/team.py", title="Team", icon=":material/groups:", url_path="team"),
        st.Page("pages/alerts.py", title="Alerts", icon=":material/notifications:",
                url_path="alerts"),
        st.Page("pages/history.py", title="SLO history", icon=":material/calendar_month:",
                url_path="history")],
    "Governance": [
        st.Page("pages/uptime.py", title="Uptime report", icon=":material/description:",
                url_path="uptime")],
}

st.navigation(PAGES).run()
