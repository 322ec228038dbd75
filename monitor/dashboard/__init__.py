"""The Streamlit dashboard, shipped in the package: `meshwatch dashboard`."""
