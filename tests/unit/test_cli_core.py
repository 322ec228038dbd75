"""The `meshwatch` CLI driven as a person would: validate, contracts, import, evaluate."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli.app import app
from tests.support.repository import ROOT

CONFIG = ROOT / "config"
AT = "2026-11-02T12:00:00Z"
SECRET_SQL_URL = "postgresql+psycopg://reader:env-secret-4711@db.example:5432/orders"

EVENTS = """\
timestamp,product,objective,good,total
2026-11-02T11:59:30Z,checkout/orders,api-availability,999,1000
2026-11-02T11:55:00Z,marketing/campaign-features,request-errors,980,1000
"""

SHOP = """\
apiVersion: meshwatch/v1
kind: DataProduct
metadata: {domain: shop, name: basket, description: Baskets}
owner: {team: shop, contact: shop@contoso.example}
contract:
  start: 2026-01-01
  terms: {api_token: literal-token-value, usage: analytics}
ports:
  - name: db
    type: sql
    url: postgresql+psycopg://reader:hunter2@db.example:5432/shop
    freshness_query: SELECT max(updated_at) FROM baskets
    interval: 5m
  - name: pipeline
    type: heartbeat
    token: literal-token-of-the-pipeline
    interval: 15m
  - name: lake
    type: azure_blob
    connection_string: ${SHOP_STORAGE}
    container: baskets
objectives:
  - {name: db-freshness, port: db, indicator: freshness, threshold: 1h, target: 99%}
consumers:
  - {team: growth, contact: growth@contoso.example, objectives: [db-freshness]}
"""


@pytest.fixture
def database_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def run(*args: str, database_url: str, **env: str):
    return CliRunner().invoke(app, list(args), env={"MESHWATCH_DATABASE_URL": database_url, **env})


def one_config(tmp_path: Path, contract: str = SHOP, settings: str | None = None) -> Path:
    directory = tmp_path / "config"
    (directory / "contracts").mkdir(parents=True)
    (directory / "contracts" / "shop.yaml").write_text(contract, encoding="utf-8")
    if settings is not None:
        (directory / "meshwatch.yaml").write_text(settings, encoding="utf-8")
    return directory


def line_with(path: Path, fragment: str) -> int:
    (line,) = [n for n, text in enumerate(path.read_text().splitlines(), start=1) if fragment in text]
    return line


def imported(tmp_path: Path, database_url: str) -> None:
    events = tmp_path / "events.csv"
    events.write_text(EVENTS, encoding="utf-8")
    result = run("import", str(events), "--config", str(CONFIG), database_url=database_url)
    assert result.exit_code == 0, result.output


# --- validate -----------------------------------------------------------------------------------

def test_validate_accepts_the_example_configuration(database_url):
    result = run("validate", "--config", str(CONFIG), database_url=database_url)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "valid: 3 product(s)" in result.stderr


def test_validate_lists_every_problem_as_file_line_field_message_and_exits_1(tmp_path, database_url):
    directory = one_config(tmp_path, SHOP.replace("target: 99%", "target: lots").replace(
        "objectives: [db-freshness]", "objectives: [db-latency]"))
    (directory / "contracts" / "broken.yaml").write_text("kind: [\n", encoding="utf-8")
    result = run("validate", "--config", str(directory), database_url=database_url,
                 SHOP_STORAGE="UseDevelopmentStorage=true")
    assert result.exit_code == 1
    shop, broken = directory / "contracts" / "shop.yaml", directory / "contracts" / "broken.yaml"
    assert sorted(result.stdout.splitlines()) == sorted([
        f"{broken}:1: (file): not valid YAML: did not find expected node content",
        f"{shop}:{line_with(shop, 'target: lots')}: objectives[0].target: "
        "'lots' is not a percentage (e.g. 99.9%)",
        f"{shop}:{line_with(shop, 'db-latency')}: consumers[0].objectives[0]: "
        "no objective named 'db-latency'",
    ])
    assert "3 problem(s); 0 product(s) valid" in result.stderr


def test_validate_of_given_files_checks_only_those(tmp_path, database_url):
    good = CONFIG / "contracts" / "cart-events.yaml"
    missing = tmp_path / "nope.yaml"
    assert run("validate", str(good), database_url=database_url).exit_code == 0
    result = run("validate", str(good), str(missing), database_url=database_url)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [f"{missing}:1: (file): no such file or directory"]


def test_validate_reports_a_missing_variable_without_a_default(tmp_path, database_url):
    directory = one_config(tmp_path)
    result = run("validate", "--config", str(directory), database_url=database_url)
    assert result.exit_code == 1
    shop = directory / "contracts" / "shop.yaml"
    assert result.stdout.splitlines() == [
        f"{shop}:{line_with(shop, '${SHOP_STORAGE}')}: ports[2].connection_string: environment "
        "variable SHOP_STORAGE is not set (or give a default: ${SHOP_STORAGE:-value})"]


def test_validate_reports_bad_settings(tmp_path, database_url):
    directory = one_config(tmp_path, settings="timezone: Mars/Olympus\nslo: {min_events: 0}\n")
    result = run("validate", "--config", str(directory), database_url=database_url,
                 SHOP_STORAGE="x")
    assert result.exit_code == 1
    settings = directory / "meshwatch.yaml"
    assert sorted(result.stdout.splitlines()) == [
        f"{settings}:1: timezone: unknown time zone 'Mars/Olympus' (e.g. UTC, Europe/Amsterdam)",
        f"{settings}:2: slo.min_events: Input should be greater than or equal to 1"]


def test_problem_text_that_looks_like_markup_is_printed_as_written(tmp_path, database_url):
    directory = one_config(tmp_path, SHOP.replace("target: 99%", 'target: "[bold]99"'))
    result = run("validate", "--config", str(directory), database_url=database_url,
                 SHOP_STORAGE="x")
    assert "objectives[0].target: '[bold]99' is not a percentage (e.g. 99.9%)" in result.stdout
    events = tmp_path / "[2026] events.csv"
    events.write_text("timestamp,product,objective,good,total\n[red]noon,shop/basket,db-freshness,1,1\n")
    result = run("import", str(events), "--config", str(directory), database_url=database_url)
    assert result.exit_code == 1  # the contract is refused (shown), so its objective is unknown
    assert "'[bold]99' is not a percentage" in result.stderr
    directory = one_config(tmp_path / "good", SHOP)
    result = run("import", str(events), "--config", str(directory), database_url=database_url,
                 SHOP_STORAGE="x")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [f"{events}:2: timestamp '[red]noon' is not ISO-8601"]


# --- contracts ----------------------------------------------------------------------------------

def test_contracts_json_lists_products_with_ports_objectives_consumers_and_not_monitored(
        database_url):
    result = run("contracts", "--json", "--config", str(CONFIG), database_url=database_url)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["problems"] == []
    products = {p["product"]: p for p in document["products"]}
    assert list(products) == ["cart/events", "checkout/orders", "marketing/campaign-features"]
    orders = products["checkout/orders"]
    assert [p["name"] for p in orders["ports"]] == ["api", "warehouse", "lake"]
    assert {o["name"]: (o["indicator"], o["target"], o["window"], o["threshold"])
            for o in orders["objectives"]}["api-latency"] == ("latency", "99%", "30d", "300ms")
    assert [c["team"] for c in orders["consumers"]] == ["marketing", "finance"]
    assert orders["consumers"][0]["objectives"] == ["lake-freshness", "api-availability"]
    assert {"name": "retention", "value": "2 y",
            "reason": "declared by the contract; meshwatch does not measure it"} in \
        orders["not_monitored"]
    assert orders["format"] == "meshwatch/v1 + odcs/v3.1.0"
    assert products["cart/events"]["not_monitored"] == []


def test_contracts_never_show_the_value_of_a_secret_variable(database_url):
    env = {"CHECKOUT_SQL_URL": SECRET_SQL_URL, "CHECKOUT_STORAGE": "AccountKey=env-key-0815"}
    for args in (("contracts", "--json"), ("contracts",), ("validate",)):
        result = run(*args, "--config", str(CONFIG), database_url=database_url, **env)
        assert result.exit_code == 0, result.output
        assert "env-secret-4711" not in result.output and "env-key-0815" not in result.output
    document = json.loads(run("contracts", "--json", "--config", str(CONFIG),
                              database_url=database_url, **env).stdout)
    (orders,) = [p for p in document["products"] if p["product"] == "checkout/orders"]
    assert orders["ports"][1]["options"]["url"] == \
        "${CHECKOUT_SQL_URL:-sqlite:///demo-data/checkout.db}"  # as written, never resolved


def test_contracts_hide_literal_passwords_tokens_and_url_passwords(tmp_path, database_url):
    directory = one_config(tmp_path)
    result = run("contracts", "--json", "--config", str(directory), database_url=database_url,
                 SHOP_STORAGE="AccountKey=env-key-0815")
    assert result.exit_code == 0, result.output
    for secret in ("hunter2", "literal-token-of-the-pipeline", "literal-token-value",
                   "env-key-0815"):
        assert secret not in result.stdout
    (shop,) = json.loads(result.stdout)["products"]
    db, pipeline, lake = (port["options"] for port in shop["ports"])
    assert db["url"] == "postgresql+psycopg://reader:***@db.example:5432/shop"
    assert pipeline["token"] == "***"
    assert shop["terms"] == {"api_token": "***", "usage": "analytics"}
    assert lake["connection_string"] == "${SHOP_STORAGE}"


def test_contracts_table_shows_each_product_with_its_ports_and_objectives(database_url):
    result = run("contracts", "--config", str(CONFIG), database_url=database_url)
    assert result.exit_code == 0, result.output
    assert "checkout/orders v1.2.0 (meshwatch/v1 + odcs/v3.1.0)" in result.stdout
    assert "port api http every 1m (timeout 5s)" in result.stdout
    assert "objective api-latency latency ≤ 300ms 99% over 30d on port api" in result.stdout
    assert "not monitored: retention = 2 y" in result.stdout


def test_meshwatch_config_variable_chooses_the_configuration_directory(tmp_path, database_url):
    directory = one_config(tmp_path)
    result = run("contracts", "--json", database_url=database_url,
                 MESHWATCH_CONFIG=str(directory), SHOP_STORAGE="x")
    assert result.exit_code == 0, result.output
    assert [p["product"] for p in json.loads(result.stdout)["products"]] == ["shop/basket"]


def test_a_missing_configuration_directory_exits_2_and_says_how_to_choose_one(tmp_path, database_url):
    result = run("contracts", database_url=database_url, MESHWATCH_CONFIG=str(tmp_path / "none"))
    assert result.exit_code == 2
    assert f"{tmp_path / 'none'}:1: (directory): no such configuration directory (use --config DIR " \
        "or MESHWATCH_CONFIG)" in result.stderr.splitlines()


# --- evaluate -----------------------------------------------------------------------------------

def test_evaluate_json_after_an_import_has_the_documented_shape_and_numbers(tmp_path, database_url):
    imported(tmp_path, database_url)
    result = run("evaluate", "--json", "--at", AT, "--config", str(CONFIG),
                 database_url=database_url)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["at"] == AT
    objectives = {(o["product"], o["objective"]): o for o in document["objectives"]}
    assert len(objectives) == 13  # the example mesh's objectives, each evaluated
    for objective in document["objectives"]:
        assert {"product", "objective", "indicator", "target", "window", "status", "compliance",
                "error_budget_remaining", "good", "total", "burn_rates", "conditions"} <= set(objective)
        for condition in objective["conditions"]:
            assert set(condition) == {"name", "severity", "long_window", "short_window",
                                      "burn_rate_threshold"}

    # 999 of 1000 at 99.9 %: exactly no budget left of what was observed — but a 30-day window
    # of a port probed every minute holds 43,200 events, and 1 bad is far from 43 (README: low
    # traffic), so the budget is not exhausted and nothing else holds: ok
    api = objectives[("checkout/orders", "api-availability")]
    assert (api["indicator"], api["target"], api["window"]) == ("availability", 0.999, "30d")
    assert (api["good"], api["total"], api["compliance"]) == (999, 1000, 0.999)
    assert api["error_budget_remaining"] == 0.0
    assert api["status"] == "ok"
    assert api["burn_rates"] == {"5m": pytest.approx(1.0), "30m": pytest.approx(1.0),
                                 "1h": pytest.approx(1.0), "6h": pytest.approx(1.0),
                                 "3d": pytest.approx(1.0)}
    assert api["conditions"] == []

    # 980 of 1000 at 99 % over 7 d: 2 % bad is twice the budget; windows scaled by 7/30, and
    # the short ones (1m, 7m) raised to two intervals of the 5-minute port that feeds them
    errors = objectives[("marketing/campaign-features", "request-errors")]
    assert (errors["window"], errors["status"]) == ("7d", "breached")
    assert errors["error_budget_remaining"] == pytest.approx(-1.0)
    assert errors["burn_rates"] == {"10m": pytest.approx(2.0), "14m": pytest.approx(2.0),
                                    "1h24m": pytest.approx(2.0), "16h48m": pytest.approx(2.0)}
    assert errors["conditions"] == [
        {"name": "slow_burn", "severity": "ticket", "long_window": "16h48m",
         "short_window": "1h24m", "burn_rate_threshold": 1.0},
        {"name": "budget_exhausted", "severity": "ticket", "long_window": None,
         "short_window": None, "burn_rate_threshold": None}]

    # nothing imported for cart: no data, and its probed ports are overdue
    lake = objectives[("cart/events", "lake-freshness")]
    assert (lake["status"], lake["good"], lake["total"], lake["compliance"]) == (
        "no_data", 0, 0, None)
    assert lake["threshold"] == "30m"
    assert [c["name"] for c in lake["conditions"]] == ["no_data"]


def test_evaluate_takes_the_time_to_the_whole_minute_and_utc(tmp_path, database_url):
    imported(tmp_path, database_url)
    result = run("evaluate", "--json", "--at", "2026-11-02T13:00:59+01:00", "--config", str(CONFIG),
                 database_url=database_url)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["at"] == AT
    api = [o for o in document["objectives"] if o["objective"] == "api-availability"
           and o["product"] == "checkout/orders"][0]
    assert api["total"] == 1000


def test_evaluate_before_the_events_counts_none_of_them(tmp_path, database_url):
    imported(tmp_path, database_url)
    result = run("evaluate", "--json", "--at", "2026-11-02T11:59:00Z", "--config", str(CONFIG),
                 database_url=database_url)
    api = [o for o in json.loads(result.stdout)["objectives"]
           if (o["product"], o["objective"]) == ("checkout/orders", "api-availability")][0]
    assert (api["good"], api["total"], api["status"]) == (0, 0, "no_data")


def test_evaluate_table_has_a_row_per_objective_with_its_numbers(tmp_path, database_url):
    imported(tmp_path, database_url)
    result = run("evaluate", "--at", AT, "--config", str(CONFIG), database_url=database_url)
    assert result.exit_code == 0, result.output
    assert "Objectives at 2026-11-02 12:00 UTC" in result.stdout
    rows = [line for line in result.stdout.splitlines() if "│" in line]
    api = next(line for line in rows if "checkout/orders" in line and "api-availability" in line)
    for cell in ("availability", "99.9%", "30d", "99.900%", "0.0%", "999/1000", " ok "):
        assert cell in api
    errors = next(line for line in rows if "request-errors" in line)
    assert "breached" in errors and "980/1000" in errors
    objectives = {"cart/events": 4, "checkout/orders": 6, "marketing/": 3}  # long ids may fold
    for product, count in objectives.items():
        assert sum(line.startswith(f"│ {product}") for line in rows) == count
    # worst first: the breached objective comes before the others
    assert rows.index(errors) < rows.index(api)


def test_evaluate_with_an_unreachable_store_exits_3_without_the_password():
    result = run("evaluate", "--at", AT, "--config", str(CONFIG),
                 database_url="postgresql+psycopg://u:secretpw@127.0.0.1:1/x")
    assert result.exit_code == 3
    assert "secretpw" not in result.output
    message = result.stderr.splitlines()[0]  # one whole line, however long
    assert message.startswith("cannot open the store postgresql+psycopg://u:***@127.0.0.1:1/x: ")


def test_the_database_url_of_the_settings_file_is_used_without_the_variable(tmp_path):
    directory = tmp_path / "config"
    shutil.copytree(CONFIG, directory)
    url = f"sqlite:///{tmp_path / 'from-file.db'}"
    settings = directory / "meshwatch.yaml"
    settings.write_text(settings.read_text().replace("sqlite:///meshwatch.db", url))
    events = tmp_path / "events.csv"
    events.write_text(EVENTS)
    imported = CliRunner().invoke(app, ["import", str(events), "--config", str(directory)],
                                  env={"MESHWATCH_DATABASE_URL": None})
    assert imported.exit_code == 0, imported.output
    assert (tmp_path / "from-file.db").is_file()  # a writing command creates the store there

    result = CliRunner().invoke(app, ["evaluate", "--json", "--at", AT, "--config", str(directory)],
                                env={"MESHWATCH_DATABASE_URL": None})
    assert result.exit_code == 0, result.output
    orders = next(o for o in json.loads(textwrap.dedent(result.stdout))["objectives"]
                  if (o["product"], o["objective"]) == ("checkout/orders", "api-availability"))
    assert (orders["good"], orders["total"]) == (999, 1000)  # and a reading command reads it
