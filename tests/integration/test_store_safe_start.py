"""Safe start, with real processes: any number of them may open a fresh store at once (migrations
take a lock), a store URL other than SQLite or PostgreSQL is refused before anything is created,
and `meshwatch check` fails when the store does not take its results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pymysql
import pytest
from sqlalchemy import create_engine, func, inspect, select, text

from monitor.store import StoreUnavailable, open_store
from monitor.store.engine import open_current_reader
from monitor.store.tables import ProbeRecord, SQLModel
from tests.support.daemon import write_config
from tests.support.postgres import POSTGRES_ADMIN_URL

PROCESSES = 6
STORES = "meshwatch stores in SQLite (sqlite:///path) or PostgreSQL (postgresql://…)"
PASSWORD = "pw-s3cret-4711"
MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root"}

# each process imports everything, says so, then waits for the word: all of them migrate at once
OPEN_STORE_TOGETHER = """\
import sys
from monitor.store import open_store
print("ready", flush=True)
sys.stdin.readline()
open_store(sys.argv[1]).dispose()
"""

BASKET = """\
    apiVersion: meshwatch/v1
    kind: DataProduct
    metadata: {{domain: shop, name: basket}}
    owner: {{team: shop, contact: shop@contoso.example}}
    ports:
      - {{name: api, type: http, url: "http://127.0.0.1:{port}/health", timeout: 5s}}
    objectives:
      - {{name: api-availability, port: api, indicator: availability, target: 99%}}
"""


class _Healthy(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def healthy_port() -> Iterator[int]:
    """A real HTTP server on loopback that answers 200 to every GET."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Healthy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def basket_config(tmp_path, healthy_port) -> Path:
    return write_config(tmp_path / "config", {"basket.yaml": BASKET.format(port=healthy_port)},
                        "timezone: UTC\n")


def meshwatch(*args: str, database_url: str) -> subprocess.Popen:
    environment = {**os.environ, "MESHWATCH_DATABASE_URL": database_url}
    return subprocess.Popen([sys.executable, "-m", "monitor", *args], env=environment, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finished(process: subprocess.Popen) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=120)
    return process.returncode, stdout, stderr


def assert_schema_at_head(url: str) -> None:
    engine = open_current_reader(url)  # refuses a store whose schema is not this version's
    try:
        tables = set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    finally:
        engine.dispose()
    assert set(SQLModel.metadata.tables) <= tables
    assert len(versions) == 1


def test_processes_started_at_the_same_moment_all_open_a_fresh_store(store_url):
    processes = [subprocess.Popen([sys.executable, "-c", OPEN_STORE_TOGETHER, store_url], text=True,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(PROCESSES)]
    for process in processes:
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()

    outcomes = [finished(process) for process in processes]

    assert [(code, stderr) for code, _, stderr in outcomes] == [(0, "")] * PROCESSES
    assert_schema_at_head(store_url)


def test_six_meshwatch_checks_started_together_on_a_fresh_store_all_pass(store_url, basket_config):
    checks = [meshwatch("check", "--json", "--config", str(basket_config), database_url=store_url)
              for _ in range(PROCESSES)]

    outcomes = [finished(check) for check in checks]

    assert [code for code, _, _ in outcomes] == [0] * PROCESSES, [err for _, _, err in outcomes]
    for _, stdout, _ in outcomes:
        [probe] = json.loads(stdout)["probes"]
        assert probe["ok"] is True
    assert_schema_at_head(store_url)
    engine = open_store(store_url)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(ProbeRecord)).scalar() == PROCESSES
    engine.dispose()


@pytest.fixture
def mariadb_database() -> Iterator[str]:
    """A new, empty database on the machine's MariaDB, dropped afterwards."""
    name = f"mw_{uuid.uuid4().hex[:12]}"
    try:
        server = pymysql.connect(**MARIADB)
    except pymysql.MySQLError as error:  # the machine's MariaDB is part of the test environment
        pytest.fail(f"MariaDB at 127.0.0.1:3306 is needed for this test: {error}")
    try:
        with server.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}`")
        yield name
    finally:
        with server.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        server.close()


def mariadb_tables(database: str) -> list[str]:
    with pymysql.connect(**MARIADB, database=database) as server, server.cursor() as cursor:
        cursor.execute("SHOW TABLES")
        return [row[0] for row in cursor.fetchall()]


def test_check_on_a_mysql_url_is_refused_and_creates_nothing_there(basket_config, mariadb_database):
    url = f"mysql+pymysql://root:{PASSWORD}@127.0.0.1:3306/{mariadb_database}"

    code, stdout, stderr = finished(meshwatch("check", "--config", str(basket_config),
                                              database_url=url))

    assert code == 2
    assert f"meshwatch.yaml:1: database_url: {STORES}; mysql+pymysql is not supported" in stderr
    assert "Traceback" not in stderr + stdout and PASSWORD not in stderr + stdout
    with pytest.raises(StoreUnavailable, match="mysql\\+pymysql is not supported"):
        open_store(url)
    assert mariadb_tables(mariadb_database) == []


@pytest.fixture
def select_only_url(postgres_url) -> Iterator[str]:
    """The URL of a migrated store, for a role that may read every table and write none."""
    open_store(postgres_url).dispose()
    role = f"mw_reader_{uuid.uuid4().hex[:8]}"
    owner = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with owner.connect() as connection:
        connection.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'"))
        connection.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"))
    try:
        yield postgres_url.replace("postgres@", f"{role}:{PASSWORD}@", 1)
    finally:
        with owner.connect() as connection:
            connection.execute(text(f"DROP OWNED BY {role}"))
        owner.dispose()
        with admin.connect() as connection:
            connection.execute(text(f"DROP ROLE {role}"))
        admin.dispose()


def test_check_fails_with_exit_3_when_the_store_refuses_its_results(select_only_url, postgres_url,
                                                                    basket_config):
    code, stdout, stderr = finished(meshwatch("check", "--json", "--config", str(basket_config),
                                              database_url=select_only_url))

    assert code == 3, stderr
    assert stderr.strip().splitlines()[-1] == (
        "1 of 1 result(s) not stored: permission denied for table probe_result")
    assert "Traceback" not in stderr and PASSWORD not in stderr + stdout
    [probe] = json.loads(stdout)["probes"]  # what was measured is still printed
    assert probe["ok"] is True
    engine = open_store(postgres_url)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(ProbeRecord)).scalar() == 0
    engine.dispose()
