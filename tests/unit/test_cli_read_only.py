"""Commands that only read (`evaluate`, `alerts`, `silence list`) open the store read-only: they
never create a database, never migrate one, and say how to upgrade a store they cannot read."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.store import open_engine
from monitor.store.engine import _alembic_config, open_reader

CONTRACT = """\
apiVersion: meshwatch/v1
kind: DataProduct
metadata: {domain: shop, name: basket}
owner: {team: shop}
ports:
  - {name: api, type: http, url: "http://127.0.0.1:9/health"}
objectives:
  - {name: api-availability, port: api, indicator: availability, target: 99%}
"""

READERS = [("evaluate", "--json"), ("alerts", "--json"), ("silence", "list", "--json")]


@pytest.fixture
def config_dir(tmp_path) -> Path:
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "basket.yaml").write_text(CONTRACT)
    (tmp_path / "meshwatch.yaml").write_text(f"database_url: sqlite:///{tmp_path / 'store.db'}\n")
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def schema_of(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]


@pytest.mark.parametrize("command_line", READERS, ids=lambda c: " ".join(c[:-1]))
def test_a_reading_command_on_a_store_never_written_creates_no_database(config_dir, command_line):
    result = run(*command_line, "--config", str(config_dir))

    assert result.exit_code == 0, result.output
    json.loads(result.stdout)
    assert not (config_dir / "store.db").exists()


def test_evaluate_on_a_store_never_written_finds_no_data(config_dir):
    result = run("evaluate", "--json", "--config", str(config_dir))

    [objective] = json.loads(result.stdout)["objectives"]
    assert objective["status"] == "no_data"


@pytest.mark.parametrize("command_line", READERS, ids=lambda c: " ".join(c[:-1]))
def test_a_reading_command_on_an_older_store_says_how_to_upgrade_and_leaves_it(config_dir,
                                                                            command_line):
    engine = open_engine(f"sqlite:///{config_dir / 'store.db'}")
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
    engine.dispose()

    result = run(*command_line, "--config", str(config_dir))

    assert result.exit_code == 3
    assert "has schema 0003" in result.stderr and "meshwatch run" in result.stderr
    assert schema_of(config_dir / "store.db") == "0003"


def test_after_a_writing_command_the_readers_read_the_same_store(config_dir):
    events = config_dir / "events.csv"
    events.write_text("timestamp,product,objective,good,total\n"
                      "2026-11-02T11:59:30Z,shop/basket,api-availability,999,1000\n")
    assert run("import", str(events), "--config", str(config_dir)).exit_code == 0

    result = run("evaluate", "--json", "--at", "2026-11-02T12:00:00Z", "--config", str(config_dir))

    assert result.exit_code == 0, result.output
    [objective] = json.loads(result.stdout)["objectives"]
    assert (objective["good"], objective["total"]) == (999, 1000)


def test_the_reader_refuses_to_write(config_dir):
    events = config_dir / "events.csv"
    events.write_text("timestamp,product,objective,good,total\n")
    assert run("import", str(events), "--config", str(config_dir)).exit_code == 0
    engine = open_reader(f"sqlite:///{config_dir / 'store.db'}")
    with engine.connect() as connection, pytest.raises(OperationalError, match="readonly"):
        connection.exec_driver_sql("DELETE FROM series")
