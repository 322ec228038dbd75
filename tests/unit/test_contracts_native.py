"""Native `meshwatch/v1` contracts: the example mesh, and bad files reported in one pass."""

from __future__ import annotations

import textwrap
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from monitor.config.loading import KINDS, load_config
from monitor.contracts import Indicator, load_contracts
from tests.support.repository import ROOT

CONFIG = ROOT / "config"

GOOD = """\
apiVersion: meshwatch/v1
kind: DataProduct
metadata: {domain: shop, name: basket}
owner: {team: shop, contact: shop@contoso.example}
ports:
  - name: api
    type: http
    url: http://127.0.0.1:9/basket
    interval: 1m
objectives:
  - {name: api-availability, port: api, indicator: availability, target: 99.9%}
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def line_with(path: Path, fragment: str) -> int:
    """The 1-based line of the only line of `path` that contains `fragment`."""
    (line,) = [number for number, text in enumerate(path.read_text().splitlines(), start=1)
               if fragment in text]
    return line


def problem_lines(registry) -> list[str]:
    return [str(problem) for problem in registry.problems]


# --- the example mesh ---------------------------------------------------------------------------

def test_example_mesh_validates_with_no_problems_and_three_products():
    config = load_config(CONFIG)
    assert config.problems == []
    assert sorted(config.registry.products) == [
        "cart/events", "checkout/orders", "marketing/campaign-features"]


def test_checkout_orders_binds_its_odcs_contract_to_native_ports_and_consumers():
    orders = load_contracts([CONFIG], KINDS).products["checkout/orders"]
    assert orders.format == "meshwatch/v1 + odcs/v3.1.0"
    objectives = {o.name: o for o in orders.objectives}
    # from the ODCS file: availability 99.5 % and latency PT1H on orders.updated_at
    assert objectives["availability"].target == Decimal("0.995")
    assert objectives["latency"].indicator is Indicator.FRESHNESS
    assert objectives["latency"].threshold == timedelta(hours=1)
    # from the native file
    assert objectives["api-availability"].target == Decimal("0.999")
    assert objectives["api-latency"].threshold == timedelta(milliseconds=300)
    assert [p.name for p in orders.ports] == ["api", "warehouse", "lake"]
    assert [c.team for c in orders.consumers] == ["marketing", "finance"]
    assert orders.update_frequency == timedelta(minutes=15)
    assert (orders.start, orders.end) == (date(2026, 1, 1), date(2027, 7, 1))
    assert "retention" in {d.name for d in orders.unmonitored}
    assert orders.upstream == ("cart/events",)


def test_cart_events_and_marketing_features_load_as_written():
    products = load_contracts([CONFIG], KINDS).products
    cart, marketing = products["cart/events"], products["marketing/campaign-features"]
    assert [(p.name, p.type, p.interval) for p in cart.ports] == [
        ("lake", "azure_blob", timedelta(minutes=5)), ("pipeline", "heartbeat", timedelta(minutes=15)),
        ("hub", "azure_monitor_metrics", timedelta(minutes=1))]
    assert {o.name: o.threshold for o in cart.objectives} == {
        "lake-availability": None, "lake-freshness": timedelta(minutes=30),
        "pipeline-freshness": timedelta(minutes=45), "hub-freshness": timedelta(minutes=10)}
    assert cart.consumers[1].objectives == ("lake-freshness",)
    assert cart.consumers[0].objectives is None  # every objective
    errors = {o.name: o for o in marketing.objectives}["request-errors"]
    assert (errors.indicator, errors.target, errors.window) == (
        Indicator.ERROR_RATE, Decimal("0.99"), timedelta(days=7))
    # placeholders stay unresolved in the model: secrets are resolved only where used
    assert marketing.port("requests").options["workspace_id"].startswith("${MARKETING_WORKSPACE")


def test_bound_odcs_file_is_not_loaded_a_second_time_on_its_own():
    registry = load_contracts([CONFIG], KINDS)
    assert registry.problems == []
    assert "checkout/orders" in registry.products
    assert len(registry.products) == 3


# --- bad files ----------------------------------------------------------------------------------

def test_every_problem_of_a_bad_file_is_reported_in_one_pass_with_its_line(tmp_path, monkeypatch):
    monkeypatch.delenv("SHOP_SQL_URL", raising=False)
    bad = write(tmp_path, "shop.yaml", """\
        apiVersion: meshwatch/v1
        kind: DataProduct
        metadata: {domain: shop, name: orders}
        owner: {team: shop}
        contract:
          start: 2026-05-01
          end: 2026-01-01
        ports:
          - name: api
            type: http
            url: http://127.0.0.1:9/orders
          - name: warehouse
            type: sql
            url: ${SHOP_SQL_URL}
        objectives:
          - {name: api-availability, port: api, indicator: availability, target: abc}
          - {name: lake-freshness, port: lake, indicator: availability, target: 99%}
          - {name: api-latency, port: api, indicator: latency, target: 99%}
        consumers:
          - team: marketing
            objectives: [api-availability, api-errors]
            favourite: blue
        """)
    registry = load_contracts([tmp_path], KINDS)
    assert registry.products == {}
    f = str(bad)
    assert sorted(problem_lines(registry)) == sorted([
        f"{f}:{line_with(bad, 'end:')}: contract.end: end 2026-01-01 is not after start 2026-05-01",
        f"{f}:{line_with(bad, '${SHOP_SQL_URL}')}: ports[1].url: environment variable SHOP_SQL_URL "
        "is not set (or give a default: ${SHOP_SQL_URL:-value})",
        f"{f}:{line_with(bad, 'target: abc')}: objectives[0].target: "
        "'abc' is not a percentage (e.g. 99.9%)",
        f"{f}:{line_with(bad, 'port: lake')}: objectives[1].port: no port named 'lake' "
        "(ports: api, warehouse)",
        f"{f}:{line_with(bad, 'indicator: latency')}: objectives[2]: "
        "a latency objective needs a threshold (e.g. 300ms, 1h)",
        f"{f}:{line_with(bad, 'objectives: [api-availability')}: consumers[0].objectives[1]: "
        "no objective named 'api-errors'",
        f"{f}:{line_with(bad, 'favourite')}: consumers[0].favourite: unknown field",
    ])


def test_problems_are_reported_as_file_line_field_message(tmp_path):
    bad = write(tmp_path, "p.yaml", GOOD.replace("target: 99.9%", "target: 100%"))
    (problem,) = load_contracts([bad], KINDS).problems
    assert str(problem) == (f"{bad}:{line_with(bad, 'target: 100%')}: objectives[0].target: "
                            "'100%' must be above 0 % and below 100 %")


def test_a_file_that_is_not_yaml_is_reported_at_its_broken_line(tmp_path):
    broken = write(tmp_path, "broken.yaml", "apiVersion: meshwatch/v1\nports: [unclosed\nkind: x\n")
    (problem,) = load_contracts([tmp_path], KINDS).problems
    assert (problem.file, problem.line, problem.field) == (str(broken), 3, "(file)")
    assert problem.message.startswith("not valid YAML")


def test_yaml_that_is_no_contract_is_refused(tmp_path):
    write(tmp_path, "notes.yaml", "title: shopping list\n")
    (problem,) = load_contracts([tmp_path], KINDS).problems
    assert problem.field == "(file)" and "not a contract" in problem.message


def test_a_duplicate_product_id_in_two_files_is_reported_and_the_first_one_kept(tmp_path):
    first = write(tmp_path, "a.yaml", GOOD)
    second = write(tmp_path, "b.yaml", GOOD.replace("99.9%", "99%"))
    registry = load_contracts([tmp_path], KINDS)
    assert problem_lines(registry) == [
        f"{second}:1: metadata: product shop/basket is already defined in {first}"]
    assert registry.products["shop/basket"].objectives[0].target == Decimal("0.999")


def test_a_bad_file_does_not_keep_the_other_products_from_loading(tmp_path):
    write(tmp_path, "good.yaml", GOOD)
    write(tmp_path, "bad.yaml", GOOD.replace("basket", "till").replace("99.9%", "abc"))
    write(tmp_path, "broken.yaml", "{{{")
    registry = load_contracts([tmp_path], KINDS)
    assert list(registry.products) == ["shop/basket"]
    assert {Path(problem.file).name for problem in registry.problems} == {"bad.yaml", "broken.yaml"}
    assert registry.refused_files == {str(tmp_path / "bad.yaml"), str(tmp_path / "broken.yaml")}


def test_a_missing_variable_with_a_default_or_a_value_is_fine(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOP_API_URL", "http://127.0.0.1:9/set")
    monkeypatch.delenv("SHOP_OTHER_URL", raising=False)
    write(tmp_path, "p.yaml", GOOD.replace("http://127.0.0.1:9/basket", "${SHOP_API_URL}"))
    write(tmp_path, "q.yaml", GOOD.replace("basket", "till").replace(
        "http://127.0.0.1:9/basket", "${SHOP_OTHER_URL:-http://127.0.0.1:9/till}"))
    registry = load_contracts([tmp_path], KINDS)
    assert registry.problems == []
    assert registry.products["shop/basket"].port("api").options["url"] == "${SHOP_API_URL}"


def test_duplicate_port_and_objective_names_are_reported(tmp_path):
    bad = write(tmp_path, "p.yaml", GOOD + """\
  - {name: api-availability, port: api, indicator: availability, target: 99%}
""")
    assert problem_lines(load_contracts([bad], KINDS)) == [
        f"{bad}:12: objectives[1].name: duplicate name 'api-availability'"]


def test_a_binding_to_a_missing_standard_file_is_reported(tmp_path):
    bad = write(tmp_path, "p.yaml", GOOD.replace(
        "ports:", "contract: {source: nowhere.odcs.yaml}\nports:"))
    assert problem_lines(load_contracts([bad], KINDS)) == [
        f"{bad}:5: contract.source: no such file: nowhere.odcs.yaml"]


def test_a_timeout_longer_than_the_interval_is_refused(tmp_path):
    bad = write(tmp_path, "p.yaml", GOOD.replace("interval: 1m", "interval: 1m\n    timeout: 2m"))
    (problem,) = load_contracts([bad], KINDS).problems
    assert (problem.line, problem.field) == (6, "ports[0]")
    assert "timeout must be positive and not longer than the interval" in problem.message


def test_an_unknown_port_type_names_the_allowed_ones(tmp_path):
    bad = write(tmp_path, "p.yaml", GOOD.replace("type: http", "type: ftp"))
    (problem,) = load_contracts([bad], KINDS).problems
    assert (problem.line, problem.field) == (7, "ports[0].type")
    assert "'http'" in problem.message and "'ftp'" in problem.message


@pytest.mark.parametrize(("window", "message"), [
    ("30m", "window must be whole minutes and at least 1h"),
    ("90s", "window must be whole minutes and at least 1h"),
    ("soon", "'soon' is not a duration"),
])
def test_objective_windows_must_be_whole_minutes_of_at_least_an_hour(tmp_path, window, message):
    bad = write(tmp_path, "p.yaml", GOOD.replace("target: 99.9%}", f"target: 99.9%, window: {window}}}"))
    (problem,) = load_contracts([bad], KINDS).problems
    assert problem.line == line_with(bad, "window:") == 11
    assert message in problem.message
