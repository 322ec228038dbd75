"""meshwatch keeps its store in SQLite or PostgreSQL and nothing else: any other database_url is a
settings problem (file:line, from meshwatch.yaml or MESHWATCH_DATABASE_URL), and opening a store
there is refused before anything is created — never showing the password."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.config.settings import load_settings
from monitor.store import StoreUnavailable, open_engine, open_store
from monitor.store.engine import open_current_reader, open_reader, url_problem

STORES = "meshwatch stores in SQLite (sqlite:///path) or PostgreSQL (postgresql://…)"
PASSWORD = "pw-s3cret-4711"

REFUSED = {  # URL → what it is called in the message
    f"mysql+pymysql://root:{PASSWORD}@127.0.0.1:3306/test": "mysql+pymysql is not supported",
    f"mysql://root:{PASSWORD}@127.0.0.1/test": "mysql is not supported",
    f"mariadb+pymysql://root:{PASSWORD}@127.0.0.1/test": "mariadb+pymysql is not supported",
    f"oracle://scott:{PASSWORD}@db.example/orcl": "oracle is not supported",
    f"mssql+pyodbc://sa:{PASSWORD}@db.example/meshwatch": "mssql+pyodbc is not supported",
    f"postgresql+asyncpg://u:{PASSWORD}@127.0.0.1/x": "postgresql+asyncpg is not supported",
    f"postgres://u:{PASSWORD}@127.0.0.1/x": "postgres is not supported",
    f"garbage-{PASSWORD}": "this is not a database URL",
    f"u:{PASSWORD}@127.0.0.1:5432/x": "this is not a database URL",
    f"postgresql://u:{PASSWORD}@127.0.0.1:port/x": "this is not a database URL",
    "": "this is not a database URL",
}
ACCEPTED = ["sqlite:///meshwatch.db", "sqlite:////data/meshwatch.db", "sqlite://",
            "sqlite+pysqlite:///x.db", "sqlite:///file:m?mode=memory&uri=true",
            "postgresql://meshwatch@db.example:5432/meshwatch",
            "postgresql+psycopg://meshwatch:pw@db.example:5432/meshwatch"]


def settings_dir(tmp_path: Path, url: str | None) -> Path:
    (tmp_path / "contracts").mkdir(exist_ok=True)
    line = "" if url is None else f"database_url: '{url}'\n"
    (tmp_path / "meshwatch.yaml").write_text(f"timezone: UTC\n{line}")
    return tmp_path


@pytest.mark.parametrize("url", ACCEPTED)
def test_sqlite_and_postgresql_urls_are_accepted(url):
    assert url_problem(url) is None


@pytest.mark.parametrize(("url", "named"), REFUSED.items(), ids=list(REFUSED.values()))
def test_any_other_database_url_is_a_settings_problem_at_its_line(tmp_path, url, named):
    directory = settings_dir(tmp_path, url)

    settings, problems = load_settings(directory)

    assert [str(p) for p in problems] == [
        f"{directory / 'meshwatch.yaml'}:2: database_url: {STORES}; {named}"]
    assert PASSWORD not in str(problems)


def test_meshwatch_validate_reports_the_refused_url_like_every_settings_problem(tmp_path):
    directory = settings_dir(tmp_path, f"mysql+pymysql://root:{PASSWORD}@127.0.0.1:3306/test")

    result = CliRunner().invoke(app, ["validate", "--config", str(directory)],
                                env={"MESHWATCH_DATABASE_URL": None})

    assert result.exit_code == 1
    assert result.stdout == (f"{directory / 'meshwatch.yaml'}:2: database_url: {STORES}; "
                             f"mysql+pymysql is not supported\n")
    assert PASSWORD not in result.output


@pytest.mark.parametrize("url", [f"mysql+pymysql://root:{PASSWORD}@127.0.0.1:3306/test",
                                 f"not a url {PASSWORD}"])
def test_a_refused_url_in_the_environment_is_a_problem_not_a_traceback(tmp_path, url):
    directory = settings_dir(tmp_path, None)

    result = CliRunner().invoke(app, ["validate", "--config", str(directory)],
                                env={"MESHWATCH_DATABASE_URL": url})

    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    [line] = result.stdout.splitlines()
    assert line.startswith(f"{directory / 'meshwatch.yaml'}:1: database_url: {STORES}; ")
    assert PASSWORD not in result.output


def test_a_refused_url_in_the_environment_is_reported_at_the_key_it_overrides(tmp_path):
    directory = settings_dir(tmp_path, "sqlite:///meshwatch.db")

    result = CliRunner().invoke(app, ["validate", "--config", str(directory)],
                                env={"MESHWATCH_DATABASE_URL": f"oracle://scott:{PASSWORD}@db/orcl"})

    assert result.exit_code == 1
    assert result.stdout == (f"{directory / 'meshwatch.yaml'}:2: database_url: {STORES}; "
                             f"oracle is not supported\n")
    assert PASSWORD not in result.output


@pytest.mark.parametrize("command", [["check"], ["run"], ["evaluate"], ["alerts"], ["silence", "expire", "1"],
                                     ["silence", "list"], ["report", "uptime"]])
def test_every_command_that_opens_a_store_refuses_such_a_url_and_exits_non_zero(tmp_path, command):
    directory = settings_dir(tmp_path, "sqlite:///meshwatch.db")

    result = CliRunner().invoke(app, [*command, "--config", str(directory)],
                                env={"MESHWATCH_DATABASE_URL": f"mariadb://root:{PASSWORD}@h/db"})

    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert f"database_url: {STORES}; mariadb is not supported" in result.stderr
    assert PASSWORD not in result.output
    assert not (tmp_path / "meshwatch.db").exists()


@pytest.mark.parametrize("opener", [open_engine, open_store, open_reader, open_current_reader])
def test_opening_a_store_there_is_refused_without_the_password(opener):
    with pytest.raises(StoreUnavailable) as refused:
        opener(f"mysql+pymysql://root:{PASSWORD}@127.0.0.1:3306/test")

    assert str(refused.value) == ("cannot open the store mysql+pymysql://root:***@127.0.0.1:3306/test: "
                                  f"{STORES}; mysql+pymysql is not supported")


@pytest.mark.parametrize("opener", [open_engine, open_store, open_reader, open_current_reader])
def test_a_url_that_is_not_one_is_refused_without_repeating_it(opener):
    with pytest.raises(StoreUnavailable) as refused:
        opener(f"root:{PASSWORD}@127.0.0.1:3306/test")

    assert str(refused.value) == f"cannot open the store: {STORES}; this is not a database URL"
