"""The meshwatch dashboard: `meshwatch dashboard`, or `streamlit run monitor/dashboard/app.py` with
MESHWATCH_CONFIG set. One page per kind of user; every page only reads the store."""

import streamlit as st

from monitor.values.links import PRODUCT_PAGE

st.set_page_config(page_title="meshwatch", page_icon="🛰️", layout="wide")

PAGES = [
    st.Page("pages/overview.py", title="Mesh overview", icon=":material/hub:",
            url_path="overview", default=True),
    st.Page("pages/product.py", title="Product", icon=":material/inventory_2:",
            url_path=PRODUCT_PAGE),
    st.Page("pages/alerts.py", title="Alerts", icon=":material/notifications:",
            url_path="alerts"),
    st.Page("pages/history.py", title="SLO history", icon=":material/calendar_month:",
            url_path="history"),
    st.Page("pages/uptime.py", title="Uptime report", icon=":material/description:",
            url_path="uptime"),
]

st.navigation(PAGES).run()
