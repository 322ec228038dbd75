"""Start the Streamlit dashboard (app.py beside this module) as a child process, headless."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from monitor.config.settings import CONFIG_ENV
from monitor.values.extras import Extra, require

APP = Path(__file__).resolve().parent / "app.py"


def dashboard_command(port: int, address: str) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(APP),
            "--server.headless", "true", "--server.port", str(port),
            "--server.address", address, "--server.fileWatcherType", "none",
            "--server.runOnSave", "false", "--browser.gatherUsageStats", "false",
            "--global.developmentMode", "false", "--client.toolbarMode", "viewer"]


def serve_dashboard(config_dir: Path, port: int, address: str) -> int:
    """Run the dashboard until it stops or is interrupted; its exit code."""
    require(Extra.DASHBOARD, "meshwatch dashboard")
    if not APP.is_file():
        raise FileNotFoundError(f"{APP} is missing: the installed package is incomplete")
    env = {**os.environ, CONFIG_ENV: str(config_dir.resolve())}
    process = subprocess.Popen(dashboard_command(port, address), env=env)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        return process.wait()
