"""The dashboard's pages, each a Streamlit script run by `app.py`."""
