"""A lean install: `pip install meshwatch` without extras, in a virtual environment of its own,
validates, probes `sql` (SQLite) ports and evaluates on a SQLite store; each feature that needs
an extra says which one — `pip install 'meshwatch[azure]'` — with a clear exit code, never an
ImportError's traceback."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import venv
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.daemon import write_config
from tests.support.ports import free_port
from tests.support.repository import ROOT

INSTALL_TIMEOUT = 600  # seconds: pip builds the package and fetches the core from the local index

ORDERS = """\
    apiVersion: meshwatch/v1
    kind: DataProduct
    metadata: {{domain: checkout, name: orders}}
    owner: {{team: checkout}}
    ports:
      - {{name: warehouse, type: sql, url: "sqlite:///{data}", interval: 5m,
         freshness_query: SELECT max(updated_at) FROM orders}}
    objectives:
      - {{name: warehouse-availability, port: warehouse, indicator: availability, target: 99%}}
    """
LAKE = """\
apiVersion: meshwatch/v1
kind: DataProduct
metadata: {domain: cart, name: events}
owner: {team: cart}
ports:
  - {name: lake, type: azure_blob, connection_string: UseDevelopmentStorage=true, container: c}
"""


@pytest.fixture(scope="module")
def lean(tmp_path_factory) -> Path:
    """The `meshwatch` command of a fresh virtual environment holding the package and its core
    dependencies only, installed from a copy of the sources."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "monitor", source / "monitor",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    home = tmp_path_factory.mktemp("lean") / "venv"
    venv.create(home, with_pip=True)
    done = subprocess.run([home / "bin" / "python", "-m", "pip", "install", "-q",
                           "--disable-pip-version-check", str(source)],
                          capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
    assert done.returncode == 0, f"pip install failed:\n{done.stdout}\n{done.stderr}"
    return home / "bin" / "meshwatch"


def run(lean: Path, *args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("MESHWATCH_")}
    return subprocess.run([str(lean), *args], cwd=cwd, env=environment, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def mesh(tmp_path) -> Iterator[Path]:
    data = tmp_path / "orders.db"
    with sqlite3.connect(data) as connection:
        connection.execute("CREATE TABLE orders (updated_at TEXT)")
        connection.execute("INSERT INTO orders VALUES (?)",
                           (datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),))
    connection.close()
    yield write_config(tmp_path / "config", {"orders.yaml": ORDERS.format(data=data)},
                       f"database_url: sqlite:///{tmp_path / 'store.db'}\n"
                       f"daemon: {{listen: '127.0.0.1:{free_port()}'}}\n")


def test_the_lean_install_has_none_of_the_extras(lean):
    python = lean.parent / "python"
    probe = "import importlib.util as u; print([m for m in ('azure', 'psycopg', 'streamlit', " \
            "'opentelemetry', 'aiosmtpd') if u.find_spec(m)])"
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr


def test_the_lean_install_validates_probes_and_evaluates_on_sqlite(lean, mesh, tmp_path):
    assert run(lean, "validate", "--config", str(mesh), cwd=tmp_path).returncode == 0
    checked = run(lean, "check", "--json", "--config", str(mesh), cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    document = json.loads(checked.stdout)
    assert [(p["port"], p["ok"]) for p in document["probes"]] == [("warehouse", True)]
    evaluated = run(lean, "evaluate", "--json", "--config", str(mesh), cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr
    [objective] = json.loads(evaluated.stdout)["objectives"]
    assert (objective["objective"], objective["good"], objective["total"]) == (
        "warehouse-availability", 1, 1)


def test_an_azure_port_is_a_problem_that_names_the_azure_extra(lean, mesh, tmp_path):
    (mesh / "contracts" / "lake.yaml").write_text(LAKE, encoding="utf-8")
    done = run(lean, "validate", "--config", str(mesh), cwd=tmp_path)
    assert done.returncode == 1
    assert (f"{mesh / 'contracts' / 'lake.yaml'}:6: ports[0].type: port type 'azure_blob' needs "
            f"meshwatch's azure extra (azure is not installed): pip install 'meshwatch[azure]'"
            in done.stdout + done.stderr), done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_a_postgres_store_names_the_postgres_extra(lean, mesh, tmp_path):
    settings = mesh / "meshwatch.yaml"
    settings.write_text("database_url: postgresql://postgres@127.0.0.1:5432/test\n", encoding="utf-8")
    done = run(lean, "check", "--config", str(mesh), cwd=tmp_path)
    assert done.returncode == 3
    assert ("a PostgreSQL store needs meshwatch's postgres extra (psycopg is not installed): "
            "pip install 'meshwatch[postgres]'") in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(("command", "extra", "feature"), [
    (("dashboard", "--port", "0"), "dashboard", "meshwatch dashboard"),
    (("demo", "--no-dashboard", "--for", "1m"), "demo", "meshwatch demo"),
])
def test_a_command_that_needs_an_extra_says_which_and_exits_2(lean, mesh, tmp_path, command, extra,
                                                              feature):
    done = run(lean, *command, "--config", str(mesh), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"{feature} needs meshwatch's {extra} extra" in done.stderr
    assert f"pip install 'meshwatch[{extra}]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_telemetry_exporters_name_the_telemetry_extra_when_the_daemon_starts(lean, mesh, tmp_path):
    settings = mesh / "meshwatch.yaml"
    settings.write_text(settings.read_text(encoding="utf-8")
                        + f"telemetry: {{exporters: [{{type: prometheus, listen: "
                          f"'127.0.0.1:{free_port()}'}}]}}\n", encoding="utf-8")
    assert run(lean, "validate", "--config", str(mesh), cwd=tmp_path).returncode == 0
    done = run(lean, "run", "--config", str(mesh), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert ("telemetry.exporters in meshwatch.yaml needs meshwatch's telemetry extra "
            "(opentelemetry.sdk is not installed): pip install 'meshwatch[telemetry]'"
            in done.stderr), done.stderr
    assert "Traceback" not in done.stderr


def test_the_quick_start_installs_every_extra():
    """scripts/demo installs `all`; scripts/test the `test` extra, which holds `all`."""
    assert "'.[all]'" in (ROOT / "scripts" / "demo").read_text(encoding="utf-8")
    assert "'.[test]'" in (ROOT / "scripts" / "test").read_text(encoding="utf-8")
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
        "project"]["optional-dependencies"]
    assert "meshwatch[all]" in extras["test"]
    assert extras["all"] == ["meshwatch[azure,postgres,dashboard,telemetry,demo]"]
