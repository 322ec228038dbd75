"""Commands given arguments at the edge of what a time or an id can be: a message, never a traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from monitor.cli.app import app
from tests.support.repository import ROOT

pytestmark = pytest.mark.unit
CONFIG = str(ROOT / "config")


def run(tmp_path, *args: str):
    result = CliRunner().invoke(app, [*args, "--config", CONFIG],
                                env={"MESHWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.mark.parametrize("moment", ["0001-01-01", "9999-12-31", "1970-01-01T00:00"])
def test_evaluate_at_a_time_outside_the_years_it_evaluates_exits_2_with_a_message(tmp_path, moment):
    result = run(tmp_path, "evaluate", "--at", moment)
    assert result.exit_code == 2
    assert "is outside the years meshwatch evaluates (1971-9000)" in result.output


@pytest.mark.parametrize("month", ["0001-01", "9999-12"])
def test_a_report_of_a_month_outside_the_years_it_reports_is_refused(tmp_path, month):
    result = run(tmp_path, "report", "uptime", "--month", month)
    assert result.exit_code != 0
    assert "is outside the years meshwatch reports (1971-9000)" in result.output


@pytest.mark.parametrize("silence_id", ["99999999999999999999", "0", "-1"])
def test_expiring_a_silence_id_no_store_can_hold_is_a_usage_error(tmp_path, silence_id):
    result = run(tmp_path, "silence", "expire", silence_id)
    assert result.exit_code == 2 and "silence_id" in result.output
