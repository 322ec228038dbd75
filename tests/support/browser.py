"""Driving `meshwatch dashboard` in headless Chromium: the browser, and waits for the server and a page."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.ports import free_port

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


@contextmanager
def served_dashboard(config_dir: Path) -> Iterator[str]:
    """`meshwatch dashboard` on `config_dir` (without the test's MESHWATCH_* variables), its base
    URL once it answers; stopped, with its Streamlit server, at the end."""
    port = free_port()
    meshwatch = Path(sys.executable).with_name("meshwatch")
    command = [str(meshwatch)] if meshwatch.exists() else [sys.executable, "-m", "monitor"]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MESHWATCH_")}
    process = subprocess.Popen([*command, "dashboard", "--port", str(port), "--config",
                                str(config_dir)], env=environment, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process)
        yield base
    finally:
        stop_process_group(process)


@contextmanager
def chromium_page(height: int = 1000):
    """A page of headless Chromium (1440 px wide), 30 s for each wait."""
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": height})
        page.set_default_timeout(30_000)
        try:
            yield page
        finally:
            browser.close()
