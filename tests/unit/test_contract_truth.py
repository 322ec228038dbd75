"""The contract is the whole truth: each promise measured on its own column and port, every
declared property mapped or listed, and every problem of every file reported in one pass."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from monitor.config.loading import KINDS
from monitor.contracts import load_contracts
from tests.support.repository import ROOT

CONFIG = ROOT / "config"

INVOICES = textwrap.dedent("""\
    apiVersion: v3.1.0
    kind: DataContract
    id: billing-invoices
    domain: billing
    dataProduct: invoices
    servers:
      - {server: db, type: postgres, host: db.example, database: billing, schema: sales}
    slaProperties:
      - {property: availability, value: 99.5, unit: percent}
      - {property: latency, value: 4, unit: h, element: invoices.src_ts}
      - {property: freshness, value: 30, unit: m, element: invoices.updated_at}
    """)


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def only_product(folder: Path):
    registry = load_contracts([folder], KINDS)
    assert [str(p) for p in registry.problems] == []
    (product,) = registry.products.values()
    return product


def problems(folder: Path, kinds=KINDS) -> list[str]:
    return [str(p).removeprefix(f"{folder}/") for p in load_contracts([folder], kinds).problems]


def ports_of(objectives) -> dict[str, str | None]:
    return {objective.name: objective.port for objective in objectives}


# --- each promise on its own column and port ---------------------------------------------------

def test_odcs_latency_and_freshness_on_two_columns_are_two_ports_each_judged_on_its_own(tmp_path):
    write(tmp_path, "invoices.odcs.yaml", INVOICES)
    product = only_product(tmp_path)
    assert [(p.name, p.options["freshness_query"]) for p in product.ports] == [
        ("db", "SELECT max(src_ts) FROM sales.invoices"),
        ("db.freshness", "SELECT max(updated_at) FROM sales.invoices")]
    assert ports_of(product.objectives) == {
        "availability": "db", "latency": "db", "freshness": "db.freshness"}


def test_dcs_source_timestamp_and_timestamp_field_are_two_ports(tmp_path):
    write(tmp_path, "invoices.dcs.yaml", """\
        dataContractSpecification: 1.2.0
        id: invoices
        info: {title: Invoices, version: 1.0.0, owner: billing}
        servers:
          prod: {type: postgres, host: db.example, database: billing}
        servicelevels:
          freshness: {threshold: 30m, timestampField: invoices.updated_at}
          latency: {threshold: 4h, sourceTimestampField: invoices.src_ts}
        """)
    product = only_product(tmp_path)
    assert [(p.name, p.options["freshness_query"]) for p in product.ports] == [
        ("prod", "SELECT max(updated_at) FROM invoices"),
        ("prod.latency", "SELECT max(src_ts) FROM invoices")]
    assert ports_of(product.objectives) == {"freshness": "prod", "latency": "prod.latency"}


def test_promises_on_one_column_share_one_port(tmp_path):
    write(tmp_path, "invoices.odcs.yaml", INVOICES.replace("invoices.src_ts", "invoices.updated_at"))
    product = only_product(tmp_path)
    assert [p.name for p in product.ports] == ["db"]
    assert ports_of(product.objectives) == {
        "availability": "db", "latency": "db", "freshness": "db"}


def test_the_production_server_is_judged_and_the_others_are_listed_as_not_monitored(tmp_path):
    write(tmp_path, "invoices.odcs.yaml", INVOICES.replace(
        "servers:\n",
        "servers:\n  - {server: dev, type: postgres, host: dev.example, database: billing}\n"
    ).replace("schema: sales}", "schema: sales, environment: prod}"))
    product = only_product(tmp_path)
    assert [p.name for p in product.ports] == ["db", "db.freshness"]
    assert [(d.name, d.value, d.reason) for d in product.unmonitored] == [
        ("server dev", "postgres dev.example",
         "the contract's service levels are judged on server db")]


def test_a_server_that_needs_a_binding_lists_the_port_of_each_column(tmp_path):
    write(tmp_path, "invoices.odcs.yaml", INVOICES.replace("type: postgres", "type: sqlserver"))
    product = only_product(tmp_path)
    assert product.ports == ()
    assert [(d.name, d.value) for d in product.unmonitored] == [
        ("server db", "sqlserver db.example, freshness on invoices.src_ts"),
        ("server db.freshness", "sqlserver db.example, freshness on invoices.updated_at")]
    assert ports_of(product.objectives) == {
        "availability": "db", "latency": "db", "freshness": "db.freshness"}


BINDING = textwrap.dedent("""\
    apiVersion: meshwatch/v1
    kind: DataProduct
    metadata: {domain: billing, name: invoices}
    owner: {team: billing}
    contract: {source: invoices.odcs.yaml}
    ports:
      - {name: api, type: http, url: "http://127.0.0.1:9/invoices", freshness: {json_path: at}}
    objectives:
      - {name: api-availability, port: api, indicator: availability, target: 99%}
    """)


def test_a_binding_that_adds_ports_leaves_the_standards_objectives_on_the_standards_ports(tmp_path):
    write(tmp_path, "invoices.odcs.yaml", INVOICES)
    write(tmp_path, "invoices.yaml", BINDING)
    product = only_product(tmp_path)
    assert [p.name for p in product.ports] == ["db", "db.freshness", "api"]
    assert ports_of(product.objectives) == {
        "availability": "db", "latency": "db", "freshness": "db.freshness",
        "api-availability": "api"}


def test_a_binding_replaces_a_standard_port_by_its_name_and_an_objective_by_its_name(tmp_path):
    write(tmp_path, "invoices.odcs.yaml", INVOICES.replace("type: postgres", "type: sqlserver"))
    write(tmp_path, "invoices.yaml", BINDING.replace("ports:\n", (
        "ports:\n  - {name: db, type: sql, url: 'sqlite:///x.db', "
        "freshness_query: SELECT max(src_ts) FROM t}\n")).replace("objectives:\n", (
            "objectives:\n  - {name: freshness, port: api, indicator: freshness, "
            "threshold: 30m, target: 99%}\n")))
    product = only_product(tmp_path)
    assert [p.name for p in product.ports] == ["db", "api"]
    assert product.port("db").options["url"] == "sqlite:///x.db"
    assert ports_of(product.objectives) == {
        "availability": "db", "latency": "db", "freshness": "api", "api-availability": "api"}
    # the port the binding did not give is still shown as waiting for one
    assert [d.name for d in product.unmonitored] == ["server db.freshness"]


def test_a_standard_without_servers_binds_its_freshness_promise_to_the_port_reading_its_column():
    orders = load_contracts([CONFIG], KINDS).products["checkout/orders"]
    # latency PT1H on orders.updated_at: the warehouse reads SELECT max(updated_at) FROM orders
    assert ports_of(orders.objectives)["latency"] == "warehouse"
    assert ports_of(orders.objectives)["availability"] is None  # the product's every port


# --- nothing silently dropped -------------------------------------------------------------------

def test_every_declared_odcs_property_is_mapped_or_listed_with_why(tmp_path):
    write(tmp_path, "invoices.odcs.yaml", INVOICES + textwrap.indent(textwrap.dedent("""\
          - {property: frequency, value: 1, unit: d, element: invoices.updated_at,
             scheduler: cron, schedule: "0 6 * * 1-5", driver: regulatory}
          - property: retention
            value: 3
            unit: y
            customProperties: [{property: window, value: 30d}, {property: legalHold, value: true}]
        """), "  ") + textwrap.dedent("""\
        schema:
          - name: invoices
            physicalType: table
            properties:
              - {name: invoice_id, logicalType: string, quality: [{type: sql, query: SELECT 1}]}
              - {name: updated_at, logicalType: timestamp}
        price: {priceAmount: 1, priceCurrency: EUR, priceUnit: month}
        roles: [{role: analyst, access: read}]
        """))
    product = only_product(tmp_path)
    assert product.update_frequency == timedelta(days=1)
    # the frequency's cron schedule judges the freshness promise on its column (item 5)
    assert {o.name: o.schedule and o.schedule.cron for o in product.objectives} == {
        "availability": None, "latency": None, "freshness": "0 6 * * 1-5"}
    assert [(d.name, d.value, d.reason) for d in product.unmonitored] == [
        ("frequency.driver", "regulatory",
         "the promise's importance (regulatory, analytics, operational); shown, not monitored"),
        ("retention", "3 y", "declared by the contract; meshwatch does not measure it"),
        ("retention.window", "30d", "declared by the contract; meshwatch does not measure it"),
        ("retention.legalHold", "True", "declared by the contract; meshwatch does not measure it"),
        # the schema itself is compared on the server's SQL port (item 3), its rules are not run
        ("schema invoices quality", "1 rule(s)",
         "declared; not monitored yet: data quality rules are not run"),
        ("price", "priceAmount=1; priceCurrency=EUR; priceUnit=month",
         "declared by the contract; meshwatch does not check access or prices"),
        ("role analyst", "read", "declared by the contract; meshwatch does not check access or prices"),
    ]
    assert product.port("db").options["schema"] == [
        {"table": "sales.invoices", "columns": {"invoice_id": "string", "updated_at": "timestamp"}}]


def test_every_declared_dcs_property_is_mapped_or_listed_with_why(tmp_path):
    write(tmp_path, "invoices.dcs.yaml", """\
        dataContractSpecification: 1.2.0
        id: invoices
        info: {title: Invoices, version: 1.0.0, owner: billing}
        models:
          invoices:
            type: table
            fields:
              invoice_id: {type: string, quality: [{type: sql, query: SELECT 1}]}
        servicelevels:
          latency: {threshold: 4h, sourceTimestampField: invoices.src_ts,
                    processedTimestampField: invoices.loaded_at}
          frequency: {type: batch, interval: daily, cron: "0 6 * * *"}
          freshnes: {threshold: 1h}
          availability: {percentage: 99%, window: 30d, uptime: always}
        """)
    product = only_product(tmp_path)
    # the cron judges the latency promise (item 5); the interval is the update cadence
    assert {o.name: o.schedule and o.schedule.cron for o in product.objectives} == {
        "availability": None, "latency": "0 6 * * *"}
    assert product.update_frequency == timedelta(days=1)
    assert [(d.name, d.value, d.reason) for d in product.unmonitored] == [
        ("frequency.type", "batch", "the delivery's kind (batch, streaming); shown, not monitored"),
        ("latency.processedTimestampField", "invoices.loaded_at",
         "declared; latency is judged on sourceTimestampField alone"),
        ("servicelevels.freshnes", "threshold=1h", "not a field of DCS 1.x servicelevels: not read"),
        ("servicelevels.availability.uptime", "always",
         "not a field of DCS 1.x servicelevels: not read"),
        ("schema invoices", "table: invoice_id (1 fields)",  # no server to compare it on
         "declared; not compared: a schema is compared on the judged server's SQL port, or on "
         "its API port when one schema object is declared, and this contract has neither "
         "(declare schema: on a binding's port)"),
        ("schema invoices quality", "1 rule(s)",
         "declared; not monitored yet: data quality rules are not run"),
    ]


# --- one pass -----------------------------------------------------------------------------------

def test_an_odcs_file_with_a_bad_field_reports_its_sla_problems_in_the_same_pass(tmp_path):
    write(tmp_path, "bad.odcs.yaml", """\
        apiVersion: v3.1.0
        kind: DataContract
        id: shop
        version: 1
        domain: shop
        dataProduct: orders
        tags: [ok, 2]
        servers:
          - {server: db, type: postgres, host: h, database: d}
        slaProperties:
          - {property: availability, value: abc}
          - 7
          - {property: latency, value: 4, unit: fortnight}
        """)
    assert problems(tmp_path) == [
        "bad.odcs.yaml:4: version: Input should be a valid string",
        "bad.odcs.yaml:7: tags[1]: Input should be a valid string",
        "bad.odcs.yaml:11: slaProperties[0].value: 'abc' is not a percentage (e.g. 99.9%)",
        "bad.odcs.yaml:12: slaProperties[1]: Input should be a valid dictionary or instance of "
        "ServiceLevelAgreementProperty",
        "bad.odcs.yaml:13: slaProperties[2].value: unknown duration unit 'fortnight' "
        "(use ms, s, m, h, d, w or y)"]


def test_a_dcs_file_with_a_bad_field_reports_its_service_level_problems_in_the_same_pass(tmp_path):
    write(tmp_path, "bad.dcs.yaml", """\
        dataContractSpecification: 1.2.0
        id: shop-orders
        info: {title: Shop orders, version: 1, owner: shop}
        servicelevels:
          availability: {percentage: [99]}
          freshness:
            threshold: a day or so
            timestampField: orders.updated_at
        """)
    assert problems(tmp_path) == [
        "bad.dcs.yaml:3: info.version: Input should be a valid string",
        "bad.dcs.yaml:5: servicelevels.availability.percentage: Input should be a valid string",
        "bad.dcs.yaml:7: servicelevels.freshness.threshold: 'a day or so' is not a duration "
        "(e.g. 300ms, 5m, 1h30m, 30d, PT1H)"]


def test_a_binding_reports_its_own_problems_and_its_standard_files_together(tmp_path):
    write(tmp_path, "invoices.odcs.yaml", INVOICES.replace("id: billing-invoices",
                                                           "id: billing-invoices\nversion: 1")
          .replace("value: 30, unit: m", "value: soon"))
    write(tmp_path, "invoices.yaml", BINDING.replace("target: 99%", "target: 120%"))
    assert problems(tmp_path) == [
        "invoices.odcs.yaml:4: version: Input should be a valid string",
        "invoices.odcs.yaml:12: slaProperties[2].value: 'soon' is not a duration (e.g. 300ms, 5m, "
        "1h30m, 30d, PT1H)",
        "invoices.yaml:9: objectives[0].target: '120%' must be above 0 % and below 100 %"]


def test_an_unknown_channel_is_reported_beside_the_files_other_problems(tmp_path):
    write(tmp_path, "shop.yaml", """\
        apiVersion: meshwatch/v1
        kind: DataProduct
        metadata: {domain: shop, name: orders}
        owner: {team: shop, notify: [{channel: no-such-hook}]}
        ports:
          - {name: api, type: http, url: "http://127.0.0.1:9/", interval: soon}
        consumers:
          - team: web
            notify: [{channel: ops-hook}, {channel: pager}]
        """)
    kinds = replace(KINDS, channels=("ops-hook",))
    assert problems(tmp_path, kinds) == [
        "shop.yaml:4: owner.notify[0].channel: no channel named 'no-such-hook' (channels in "
        "meshwatch.yaml: ops-hook)",
        "shop.yaml:6: ports[0].interval: 'soon' is not a duration (e.g. 300ms, 5m, 1h30m, 30d, PT1H)",
        "shop.yaml:9: consumers[0].notify[1].channel: no channel named 'pager' (channels in "
        "meshwatch.yaml: ops-hook)"]


def test_a_further_columns_port_name_is_cut_to_what_the_store_holds_and_stays_unique():
    from monitor.contracts.model import name_refusal
    from monitor.contracts.standard import column_port_name
    from monitor.values.limits import NAME_LENGTH

    assert column_port_name("db", "freshness") == "db.freshness"
    long_a, long_b = column_port_name("db", "f" * 250), column_port_name("db", "f" * 249 + "g")
    assert len(long_a) == len(long_b) == NAME_LENGTH
    assert long_a != long_b and long_a == column_port_name("db", "f" * 250)  # stable, distinct
    assert name_refusal(long_a, "a port name") is None
