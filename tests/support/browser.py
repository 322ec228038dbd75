"""Driving `meshwatch dashboard` in headless Chromium: the browser, and waits for the server and a page."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def wait_until_healthy(base: str, process: subprocess.Popen, timeout: float = 45) -> None:
    """Poll the dashboard's health endpoint: the one wait these tests allow."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"meshwatch dashboard exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the dashboard did not answer on {base} within {timeout:.0f} s")


def stop_process_group(process: subprocess.Popen) -> None:
    """Stop `meshwatch dashboard` and the Streamlit server it started (one process group)."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def settle(page, ready_text: str) -> None:
    """Wait until the page shows `ready_text` and Streamlit has finished running the script."""
    page.get_by_text(ready_text, exact=False).first.wait_for()
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for()
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')")
