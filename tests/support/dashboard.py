"""The dashboard under Streamlit's AppTest, for the tests that open its pages.

Import the fixture into a test module (`from tests.support.dashboard import open_dashboard_app`)
and ask for `dashboard_app`: `dashboard_app(config_dir, page, at=..., **query)` opens the app on a
configuration directory — at a fixed `?at=` when given, then on `page` with its query
parameters — with Streamlit's caches emptied before and after (they live as long as the
process). `chart_data` reads the data sets of an Altair chart the page sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.support.repository import ROOT

APP = ROOT / "monitor" / "dashboard" / "app.py"


def clear_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(name="dashboard_app")
def open_dashboard_app(monkeypatch) -> Iterator[Callable[..., AppTest]]:
    def start(config_dir: Path, page: str | None = None, at: str | None = None,
              **query: str) -> AppTest:
        clear_caches()
        monkeypatch.setenv("MESHWATCH_CONFIG", str(config_dir))
        monkeypatch.delenv("MESHWATCH_DATABASE_URL", raising=False)
        app = AppTest.from_file(str(APP), default_timeout=60)
        if at is not None:
            app.query_params["at"] = at
        app.run()
        if page is not None:
            for name, value in query.items():
                app.query_params[name] = value
            app.switch_page(page).run()
        assert not app.exception, app.exception
        return app

    yield start
    clear_caches()


def chart_data(chart) -> list[pd.DataFrame]:
    """The data sets of an Altair chart as the page sent them, layer by layer."""
    return [pa.ipc.open_stream(d.data.data).read_pandas() for d in chart.proto.datasets]
