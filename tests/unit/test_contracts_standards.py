"""Standard contracts (ODCS v3, DCS 1.x) as published, and the loosely typed values they hold."""

from __future__ import annotations

import textwrap
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from monitor.config.loading import KINDS
from monitor.contracts import Indicator, load_contracts
from monitor.values.durations import format_duration, parse_duration
from monitor.values.targets import format_target, parse_target
from tests.support.repository import STANDARDS

PUBLISHED = sorted(STANDARDS.rglob("*.yaml"))


def only_product(path: Path):
    registry = load_contracts([path], KINDS)
    assert registry.problems == []
    (product,) = registry.products.values()
    return product


def unmonitored(product) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for declared in product.unmonitored:
        found.setdefault(declared.name, []).append(declared.value)
    return found


def test_the_published_examples_are_all_there():
    assert {p.name for p in PUBLISHED} == {
        "full-example.odcs.yaml", "azure-server.odcs.yaml", "database-table-sla.odcs.yaml",
        "orders-latest.datacontract.yaml"}


@pytest.mark.parametrize("path", PUBLISHED, ids=lambda p: p.name)
def test_every_published_example_loads_without_problems(path):
    product = only_product(path)
    assert product.format.startswith(("odcs/v3", "dcs/1"))
    assert product.owner.team


def test_odcs_full_example_becomes_seller_my_quantum_with_a_sql_port():
    product = only_product(STANDARDS / "odcs" / "full-example.odcs.yaml")
    assert product.id == "seller/my-quantum"
    assert product.format == "odcs/v3.1.0"
    (port,) = product.ports
    assert (port.name, port.type) == ("my-postgres", "sql")
    assert port.options == {
        "url": "postgresql+psycopg://localhost:5432/pypl-edw",
        "freshness_query": "SELECT max(txn_ref_dt) FROM pp_access_views.tab1",
        # its two schema objects, compared with the tables of the server's schema (item 3)
        "schema": [
            {"table": "pp_access_views.tbl_1", "columns": {
                "txn_ref_dt": "date", "rcvr_id": "varchar(18)", "rcvr_cntry_code": "varchar(2)"}},
            {"table": "pp_access_views.receivers_master", "columns": {
                "id": "varchar(18)", "country_code": "varchar(2)", "receiver_name": "varchar(255)",
                "receiver_type": "varchar(20)"}}]}


def test_odcs_full_example_latency_becomes_a_4_day_freshness_objective():
    product = only_product(STANDARDS / "odcs" / "full-example.odcs.yaml")
    (objective,) = product.objectives
    assert (objective.name, objective.indicator, objective.threshold) == (
        "latency", Indicator.FRESHNESS, timedelta(days=4))
    assert objective.target == Decimal("0.99")
    assert product.update_frequency == timedelta(days=1)
    assert (product.start, product.end) == (date(2022, 5, 12), date(2032, 5, 12))


def test_odcs_full_example_keeps_and_shows_what_it_cannot_monitor():
    product = only_product(STANDARDS / "odcs" / "full-example.odcs.yaml")
    shown = unmonitored(product)
    assert shown["retention"] == ["3 y on tab1.txn_ref_dt"]
    assert shown["endOfLife"] == ["2042-05-12T09:30:10-08:00"]
    assert shown["timeOfAvailability"] == ["09:00-08:00 on tab1.txn_ref_dt",
                                           "08:00-08:00 on tab1.txn_ref_dt"]
    assert product.owner.contact == "datacontract-ann@bitol.io"
    assert product.owner.team == "my-team"


def test_odcs_azure_server_is_listed_as_not_monitored_until_bound():
    product = only_product(STANDARDS / "odcs" / "azure-server.odcs.yaml")
    assert product.ports == ()
    (declared,) = product.unmonitored
    assert declared.name == "server my-azure"
    assert declared.value == "azure az://my-data-location"
    assert "binding" in declared.reason


def test_dcs_orders_latest_has_availability_and_freshness_objectives():
    product = only_product(STANDARDS / "dcs" / "orders-latest.datacontract.yaml")
    assert product.format == "dcs/1.2.0"
    assert product.name == "orders-latest"
    objectives = {o.name: o for o in product.objectives}
    assert objectives["availability"].indicator is Indicator.AVAILABILITY
    assert objectives["availability"].target == Decimal("0.999")
    assert objectives["freshness"].indicator is Indicator.FRESHNESS
    assert objectives["freshness"].threshold == timedelta(hours=25)
    assert product.update_frequency == timedelta(days=1)  # interval: daily


def test_dcs_orders_latest_lists_retention_support_and_backup_as_not_monitored():
    product = only_product(STANDARDS / "dcs" / "orders-latest.datacontract.yaml")
    shown = unmonitored(product)
    assert {"retention", "support", "backup"} <= set(shown)
    assert "period=P1Y" in shown["retention"][0]
    assert "server production" in shown  # s3 has no probe
    assert product.ports == ()


# --- loosely typed values ----------------------------------------------------------------------

@pytest.mark.parametrize(("value", "unit", "expected"), [
    (99.9, None, "0.999"),
    ("99.9", None, "0.999"),
    ("99.9%", None, "0.999"),
    (" 99.9 % ", None, "0.999"),
    (99.9, "percent", "0.999"),
    (99.9, "%", "0.999"),
    (0.999, None, "0.999"),
    ("0.999", None, "0.999"),
    (99, None, "0.99"),
    (99.95, None, "0.9995"),
])
def test_targets_are_read_however_contracts_write_them(value, unit, expected):
    target = parse_target(value, unit)
    assert target == Decimal(expected)
    assert isinstance(target, Decimal)


@pytest.mark.parametrize(("value", "unit", "message"), [
    ("abc", None, "'abc' is not a percentage (e.g. 99.9%)"),
    ("100%", None, "'100%' must be above 0 % and below 100 %"),
    (0, None, "0 must be above 0 % and below 100 %"),
    (100, None, "100 must be above 0 % and below 100 %"),
    (None, None, "None is not a percentage"),
    (True, None, "True is not a percentage"),
    (99.9, "d", "unit 'd' is not a percentage unit"),
])
def test_unreadable_targets_are_rejected_with_a_clear_message(value, unit, message):
    with pytest.raises(ValueError) as caught:
        parse_target(value, unit)
    assert message in str(caught.value)


def test_targets_print_as_percentages():
    assert format_target(Decimal("0.999")) == "99.9%"
    assert format_target(Decimal("0.99")) == "99%"


@pytest.mark.parametrize(("value", "unit", "expected"), [
    (4, "d", timedelta(days=4)),
    ("4", "days", timedelta(days=4)),
    (15, "m", timedelta(minutes=15)),
    (2, "y", timedelta(days=730)),
    ("PT1H", None, timedelta(hours=1)),
    ("P1D", None, timedelta(days=1)),
    ("P1DT12H", None, timedelta(days=1, hours=12)),
    ("pt30m", None, timedelta(minutes=30)),
    ("1h30m", None, timedelta(hours=1, minutes=30)),
    ("300ms", None, timedelta(milliseconds=300)),
    ("25h", None, timedelta(hours=25)),
    ("5 min", None, timedelta(minutes=5)),
    ("1.5h", None, timedelta(minutes=90)),
    (timedelta(seconds=7), None, timedelta(seconds=7)),
])
def test_durations_are_read_however_contracts_write_them(value, unit, expected):
    assert parse_duration(value, unit) == expected


@pytest.mark.parametrize(("value", "unit", "message"), [
    ("abc", None, "'abc' is not a duration"),
    ("", None, "empty duration"),
    (4, None, "4 has no unit (write e.g. '4m')"),
    (4, "fortnight", "unknown duration unit 'fortnight'"),
    ("P", None, "is not an ISO-8601 duration"),
    ("PT", None, "is not an ISO-8601 duration"),
    ("5m later", None, "is not a duration"),
    (True, None, "True is not a duration"),
])
def test_unreadable_durations_are_rejected_with_a_clear_message(value, unit, message):
    with pytest.raises(ValueError) as caught:
        parse_duration(value, unit)
    assert message in str(caught.value)


@pytest.mark.parametrize(("duration", "text"), [
    (timedelta(minutes=5), "5m"), (timedelta(hours=1, minutes=30), "1h30m"),
    (timedelta(days=3), "3d"), (timedelta(milliseconds=250), "250ms"), (timedelta(0), "0s"),
])
def test_durations_print_in_their_shortest_exact_form(duration, text):
    assert format_duration(duration) == text
    assert parse_duration(text) == duration


# --- loosely typed values inside contract files ------------------------------------------------

def write_odcs(tmp_path: Path, sla: str) -> Path:
    path = tmp_path / "shop.odcs.yaml"
    path.write_text(textwrap.dedent("""\
        apiVersion: v3.1.0
        kind: DataContract
        id: shop-orders
        version: 1.0.0
        status: active
        domain: shop
        dataProduct: orders
        servers:
          - {server: db, type: postgres, host: db.example, database: shop, schema: sales}
        slaProperties:
        """) + textwrap.indent(textwrap.dedent(sla), "  "), encoding="utf-8")
    return path


def test_odcs_values_with_percent_strings_units_and_iso_durations_are_normalised(tmp_path):
    path = write_odcs(tmp_path, """\
        - {property: availability, value: "99.9%"}
        - {property: errorRate, value: 0.5, unit: percent}
        - {property: freshness, value: PT2H, element: orders.updated_at}
        - {property: frequency, value: 1, unit: h}
        """)
    product = only_product(path)
    objectives = {o.name: o for o in product.objectives}
    assert objectives["availability"].target == Decimal("0.999")
    assert objectives["error-rate"].indicator is Indicator.ERROR_RATE
    assert objectives["error-rate"].target == Decimal("0.995")  # at most 0.5 % errors
    assert objectives["freshness"].threshold == timedelta(hours=2)
    assert product.update_frequency == timedelta(hours=1)
    (port,) = product.ports
    assert port.options["freshness_query"] == "SELECT max(updated_at) FROM sales.orders"


def test_odcs_values_that_cannot_be_read_are_reported_at_their_line(tmp_path):
    path = write_odcs(tmp_path, """\
        - {property: availability, value: abc}
        - {property: latency, value: 4, unit: fortnight}
        - {property: availability, value: 99.9, unit: percent}
        """)
    registry = load_contracts([path], KINDS)
    assert registry.products == {}
    assert [str(p) for p in registry.problems] == [
        f"{path}:11: slaProperties[0].value: 'abc' is not a percentage (e.g. 99.9%)",
        f"{path}:12: slaProperties[1].value: unknown duration unit 'fortnight' "
        "(use ms, s, m, h, d, w or y)"]


def test_dcs_threshold_that_is_no_duration_is_reported_at_its_line(tmp_path):
    path = tmp_path / "dcs.yaml"
    path.write_text(textwrap.dedent("""\
        dataContractSpecification: 1.2.0
        id: shop-orders
        info: {title: Shop orders, version: 1.0.0, owner: shop}
        servicelevels:
          availability: {percentage: 99.5%}
          freshness:
            threshold: a day or so
            timestampField: orders.updated_at
        """), encoding="utf-8")
    registry = load_contracts([path], KINDS)
    assert [str(p) for p in registry.problems] == [
        f"{path}:7: servicelevels.freshness.threshold: 'a day or so' is not a duration "
        "(e.g. 300ms, 5m, 1h30m, 30d, PT1H)"]


def test_a_native_file_binds_a_published_odcs_contract(tmp_path):
    odcs = tmp_path / "azure.odcs.yaml"
    odcs.write_text((STANDARDS / "odcs" / "azure-server.odcs.yaml").read_text(), encoding="utf-8")
    binding = tmp_path / "binding.yaml"
    binding.write_text(textwrap.dedent("""\
        apiVersion: meshwatch/v1
        kind: DataProduct
        metadata: {domain: lake, name: abc123}
        owner: {team: lake}
        contract: {source: azure.odcs.yaml, start: 2026-01-01}
        ports:
          - name: my-azure
            type: azure_blob
            connection_string: UseDevelopmentStorage=true
            container: data
        objectives:
          - {name: blob-availability, port: my-azure, indicator: availability, target: "99.5"}
        """), encoding="utf-8")
    registry = load_contracts([tmp_path], KINDS)
    assert registry.problems == []
    (product,) = registry.products.values()
    assert product.format == "meshwatch/v1 + odcs/v3.0.2"
    assert [p.type for p in product.ports] == ["azure_blob"]
    assert product.objectives[0].target == Decimal("0.995")
    assert product.version == "1.0.0"  # from the ODCS file
    assert product.unmonitored == ()  # the server is bound now, no longer "needs a binding"
