"""The dashboard ships in the package: a wheel built from the project and installed apart from the
source tree (`pip install --no-deps --target`, its dependencies from this virtual environment)
serves `meshwatch dashboard` from a directory outside the tree — the health endpoint answers, the
Streamlit server runs the installed app.py, and the overview page's script runs in Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, settle, stop_process_group, wait_until_healthy
from tests.support.ports import free_port
from tests.support.report_mesh import fill_dashboard_mesh, write_config
from tests.support.repository import ROOT

AT = "at=2025-11-10T12:00:00Z"
BUILD_TIMEOUT = 300  # seconds: pip may build in an isolated environment from the local index


def pip(*args: str, cwd: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=BUILD_TIMEOUT)
    assert done.returncode == 0, f"pip {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel of the project, built from a copy so that the build writes nothing into the tree."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for licence in ROOT.glob("LICEN[CS]E*"):
        shutil.copy2(licence, source / licence.name)
    shutil.copytree(ROOT / "monitor", source / "monitor",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path_factory.mktemp("dist")
    pip("wheel", "--no-deps", "--quiet", "--wheel-dir", str(dist), ".", cwd=source)
    [built] = dist.glob("meshwatch-*.whl")
    return built


@dataclass(frozen=True)
class Installed:
    site: Path  # where the wheel is installed; the only place `monitor` is imported from
    workdir: Path  # an empty directory outside the source tree, where commands run
    environment: dict[str, str]

    @property
    def meshwatch(self) -> Path:
        return self.site / "bin" / "meshwatch"


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Installed:
    site = tmp_path_factory.mktemp("site")
    workdir = tmp_path_factory.mktemp("elsewhere")
    pip("install", "--no-deps", "--quiet", "--target", str(site), str(wheel), cwd=workdir)
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith("MESHWATCH_") and k != "PYTHONPATH"}
    return Installed(site, workdir, {**environment, "PYTHONPATH": str(site)})


@dataclass(frozen=True)
class Served:
    base: str
    process: subprocess.Popen


@pytest.fixture(scope="module")
def served(installed, tmp_path_factory) -> Iterator[Served]:
    """`meshwatch dashboard` of the installed wheel over a small mesh, run outside the tree."""
    directory = tmp_path_factory.mktemp("mesh")
    url = f"sqlite:///{directory / 'meshwatch.db'}"
    fill_dashboard_mesh(url)
    config_dir = write_config(directory / "config", url)
    port = free_port()
    with (directory / "dashboard.log").open("wb") as log:
        process = subprocess.Popen(
            [str(installed.meshwatch), "dashboard", "--config", str(config_dir), "--port",
             str(port)], cwd=installed.workdir, env=installed.environment,
            start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process)
        yield Served(base, process)
    finally:
        stop_process_group(process)


def command_lines_of_children(pid: int) -> list[list[str]]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [Path(f"/proc/{child}/cmdline").read_bytes().decode().split("\0") for child in children]


def test_the_wheel_holds_the_dashboard_and_its_pages(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())

    shipped = {path.relative_to(ROOT).as_posix()
               for path in (ROOT / "monitor" / "dashboard").rglob("*.py")}
    assert "monitor/dashboard/app.py" in shipped
    assert "monitor/dashboard/pages/overview.py" in shipped
    assert shipped <= names


def test_the_installed_package_is_imported_from_the_install_not_the_source_tree(installed):
    done = subprocess.run(
        [sys.executable, "-c", "import json, sys, monitor, monitor.dashboard.launch as launch; "
         "print(monitor.__file__); print(launch.APP); print(json.dumps(sys.path))"],
        cwd=installed.workdir, env=installed.environment, capture_output=True, text=True,
        check=True)
    package, app, path = done.stdout.splitlines()

    assert Path(package) == installed.site / "monitor" / "__init__.py"
    assert Path(app) == installed.site / "monitor" / "dashboard" / "app.py"
    assert str(ROOT) not in [entry.rstrip("/") for entry in json.loads(path)]


def test_meshwatch_dashboard_from_the_wheel_answers_its_health_check(served, installed):
    with urllib.request.urlopen(f"{served.base}/_stcore/health", timeout=5) as answer:
        assert answer.status == 200
        assert answer.read().decode().strip() == "ok"
    [streamlit] = command_lines_of_children(served.process.pid)
    assert str(installed.site / "monitor" / "dashboard" / "app.py") in streamlit


@pytest.mark.skipif(not CHROMIUM.exists(),
                    reason=f"headless Chromium is needed at {CHROMIUM} (apt install chromium)")
def test_the_installed_dashboard_runs_the_overview_page(served):
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.set_default_timeout(30_000)
            page.goto(f"{served.base}/?{AT}")
            settle(page, "Evaluated at 2025-11-10 12:00")

            assert page.locator("h1").first.inner_text().strip().startswith("Mesh overview")
            playwright.expect(page.locator('[data-testid="stMetricValue"]').first).to_have_text("3")
            assert page.locator('[data-testid="stException"]').count() == 0
        finally:
            browser.close()
