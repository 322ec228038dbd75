"""Volume and terms: amounts as contracts write them, the volume indicator's events, and what a
contract gets wrong about volume or query_interval, each at its line in one pass."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from monitor.config.loading import load_config
from monitor.contracts.model import (
    DataProduct,
    Indicator,
    Objective,
    Owner,
    Port,
    describe_bound,
    product_json,
)
from monitor.contracts.results import ProbeResult, Volume
from monitor.evaluation.indicators import events_from_result
from monitor.values.volumes import Amount, VolumeUnit, format_amount, parse_amount

AT = datetime(2026, 12, 3, 12, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.mark.parametrize(("text", "amount"), [
    (1000, Amount(1000)), ("1000", Amount(1000)), ("1,000", Amount(1000)), ("1_000", Amount(1000)),
    ("1.5k", Amount(1500)), ("2M", Amount(2_000_000)), ("5000 rows", Amount(5000, VolumeUnit.ROWS)),
    ("1.5k rows", Amount(1500, VolumeUnit.ROWS)), ("12 blobs", Amount(12, VolumeUnit.BLOBS)),
    ("10GB", Amount(10**10, VolumeUnit.BYTES)), ("2 GiB", Amount(2 * 2**30, VolumeUnit.BYTES)),
    ("512 kB", Amount(512_000, VolumeUnit.BYTES)), ("0", Amount(0)), (1e3, Amount(1000)),
])
def test_amounts_read_as_contracts_write_them(text, amount):
    assert parse_amount(text) == amount


@pytest.mark.parametrize(("text", "words"), [
    ("lots", "is not a volume"), ("10 parsecs", "unknown unit"), ("1.5", "not a whole number"),
    (-5, "between 0 and"), (True, "is not a volume"), (None, "is not a volume"),
    ("10 GB rows", "unknown unit"), ("1.2345 kB", "not a whole number"),
])
def test_what_is_no_amount_is_refused_saying_what_to_write(text, words):
    with pytest.raises(ValueError, match=words):
        parse_amount(text)


def test_amounts_are_shown_in_their_unit():
    assert format_amount(1000, VolumeUnit.ROWS) == "1,000 rows"
    assert format_amount(10**10, VolumeUnit.BYTES) == "10 GB"
    assert format_amount(1536, VolumeUnit.BYTES) == "1.54 kB"
    assert format_amount(7, None) == "7"


def orders(minimum: Amount | None = None, maximum: Amount | None = None) -> DataProduct:
    return DataProduct("checkout", "orders", Owner("checkout"),
                       ports=(Port("db", "sql"),),
                       objectives=(Objective("daily-rows", Indicator.VOLUME, Decimal("0.99"),
                                             port="db", minimum=minimum, maximum=maximum),))


def result(amount: int | None, ok: bool = True) -> ProbeResult:
    volume = Volume(amount, VolumeUnit.ROWS, DAY) if amount is not None else None
    return ProbeResult("checkout/orders", "db", "sql", AT, ok, volume=volume)


@pytest.mark.parametrize(("amount", "good"), [(999, 0), (1000, 1), (5000, 1), (5001, 0)])
def test_a_volume_event_is_good_within_min_and_max_inclusive(amount, good):
    product = orders(Amount(1000), Amount(5000))
    [event] = events_from_result(product, result(amount))
    assert (event.objective, event.good, event.total) == ("daily-rows", good, 1)


def test_a_failed_probe_or_one_that_could_not_count_makes_no_volume_event():
    product = orders(Amount(1000))
    assert events_from_result(product, result(5000, ok=False)) == []
    assert events_from_result(product, result(None)) == []


def test_the_bound_is_described_for_people():
    assert describe_bound(orders(Amount(1000, VolumeUnit.ROWS)).objectives[0]) == " ≥ 1,000 rows"
    assert describe_bound(orders(None, Amount(10**10, VolumeUnit.BYTES)).objectives[0]) == " ≤ 10 GB"
    assert describe_bound(orders(Amount(10), Amount(20)).objectives[0]) == " 10–20"


HEAD = """\
    apiVersion: meshwatch/v1
    kind: DataProduct
    metadata: {domain: checkout, name: orders}
    owner: {team: checkout}
    """


def load(tmp_path: Path, text: str):
    folder = tmp_path / "config"
    (folder / "contracts").mkdir(parents=True)
    (folder / "contracts" / "orders.yaml").write_text(textwrap.dedent(HEAD) + textwrap.dedent(text),
                                                      encoding="utf-8")
    return load_config(folder)


def messages(config) -> list[str]:
    return [f"{p.line}: {p.field}: {p.message}" for p in config.problems]


def test_a_volume_objective_on_a_counting_port_loads_with_its_bounds(tmp_path):
    config = load(tmp_path, """\
        ports:
          - name: db
            type: sql
            url: sqlite:///x.db
            volume: {query: "SELECT count(*) FROM orders WHERE created_at >= :since", per: 1d}
        objectives:
          - {name: daily-rows, port: db, indicator: volume, min: 1000 rows, max: 1M, target: 99%}
        """)
    assert messages(config) == []
    [product] = config.registry.products.values()
    objective = product.objectives[0]
    assert (objective.minimum, objective.maximum) == (Amount(1000, VolumeUnit.ROWS), Amount(10**6))
    shown = product_json(product)["objectives"][0]
    assert (shown["indicator"], shown["min"], shown["max"]) == ("volume", 1000, 10**6)


def test_every_volume_mistake_of_a_file_is_reported_at_its_line_in_one_pass(tmp_path):
    config = load(tmp_path, """\
        ports:
          - {name: api, type: http, url: "http://127.0.0.1:1/x"}
          - name: lake
            type: azure_blob
            connection_string: UseDevelopmentStorage=true
            container: c
            volume: {per: 6h}
          - {name: db, type: sql, url: "sqlite:///x.db", volume: {query: SELECT 1, unit: bytes}}
        objectives:
          - {name: a, port: api, indicator: volume, min: 10, target: 99%}
          - {name: b, port: lake, indicator: volume, target: 99%}
          - {name: c, port: lake, indicator: volume, min: 1000 rows, target: 99%}
          - {name: d, indicator: volume, min: 10, target: 99%}
          - {name: e, port: lake, indicator: availability, max: 10, target: 99%}
          - {name: f, port: lake, indicator: volume, min: 20, max: 10, target: 99%}
          - {name: g, port: lake, indicator: volume, min: lots, target: 99%}
        """)
    assert messages(config) == [
        "12: ports[2].volume.unit: Input should be 'rows' (got 'bytes')",
        "14: objectives[0].port: port 'api' counts no volume: give it a `volume:` block "
        "(docs/contracts.md, Volume)",
        "15: objectives[1].indicator: a volume objective needs min or max (or the contract's "
        "terms.max_daily_volume)",
        "16: objectives[2].min: 1000 rows is rows, and port 'lake' counts bytes",
        "17: objectives[3]: a volume objective names the port whose volume it bounds (port: …)",
        "18: objectives[4]: min and max bound a volume; this availability objective takes neither",
        "19: objectives[5]: min 20 is more than max 10",
        "20: objectives[6].min: 'lots' is not a volume (e.g. 1000, 1.5k rows, 10GB)",
    ]


def test_max_daily_volume_bounds_a_volume_objective_that_gives_no_bound(tmp_path):
    config = load(tmp_path, """\
        contract: {terms: {max_daily_volume: 10GB, usage: reporting}}
        ports:
          - name: lake
            type: azure_blob
            connection_string: UseDevelopmentStorage=true
            container: c
            volume: {per: 1d, unit: bytes}
        objectives:
          - {name: daily-bytes, port: lake, indicator: volume, target: 99%}
        """)
    assert messages(config) == []
    [product] = config.registry.products.values()
    assert product.objectives[0].maximum == Amount(10**10, VolumeUnit.BYTES)
    assert product.unmonitored == ()
    assert product_json(product)["terms"] == {"max_daily_volume": "10GB", "usage": "reporting"}


def test_max_daily_volume_needs_a_port_counting_a_day_in_its_unit(tmp_path):
    config = load(tmp_path, """\
        contract: {terms: {max_daily_volume: 10GB}}
        ports:
          - {name: db, type: sql, url: "sqlite:///x.db", volume: {query: SELECT 1, per: 1h}}
        objectives:
          - {name: hourly, port: db, indicator: volume, target: 99%}
        """)
    assert messages(config) == [
        "9: objectives[0].indicator: 10GB is bytes, and port 'db' counts rows",
        "9: objectives[0].indicator: terms.max_daily_volume is a day's volume, and port 'db' "
        "counts per 1h: give max",
    ]


def test_a_max_daily_volume_no_objective_takes_is_listed_as_not_monitored(tmp_path):
    config = load(tmp_path, """\
        contract: {terms: {max_daily_volume: 10GB}}
        ports:
          - {name: api, type: http, url: "http://127.0.0.1:1/x"}
        """)
    assert messages(config) == []
    [product] = config.registry.products.values()
    [listed] = product.unmonitored
    assert (listed.name, listed.value) == ("terms.max_daily_volume", "10GB")
    assert "no volume objective takes it" in listed.reason


def test_terms_that_cannot_be_read_are_problems_at_their_line(tmp_path):
    config = load(tmp_path, """\
        contract:
          terms:
            query_interval: often
            max_daily_volume: a lot
        """)
    assert [m.split(": ")[0] + ": " + m.split(": ")[1] for m in messages(config)] == [
        "7: contract.terms.query_interval", "8: contract.terms.max_daily_volume"]


def test_a_sampled_port_probed_less_often_than_query_interval_is_reported_not_refused(tmp_path):
    config = load(tmp_path, """\
        contract: {terms: {query_interval: 5m}}
        ports:
          - {name: api, type: http, url: "http://127.0.0.1:1/x", interval: 1m}
          - {name: db, type: sql, url: "sqlite:///x.db", interval: 15m}
          - {name: logs, type: azure_monitor_logs, workspace_id: w, query: q, interval: 15m}
          - {name: runs, type: heartbeat, token: a-long-token, interval: 1h}
        """)
    assert messages(config) == [
        "8: ports[1].interval: port 'db' is probed every 15m, and the terms let consumers query "
        "every 5m (query_interval): probe it at least as often to see what they would"]
    assert list(config.registry.products) == ["checkout/orders"]  # monitored as written


def test_a_port_probed_at_the_default_interval_is_checked_at_the_terms_line(tmp_path):
    config = load(tmp_path, """\
        contract:
          terms: {query_interval: 30s}
        ports:
          - {name: api, type: http, url: "http://127.0.0.1:1/x"}
        """)
    assert [(p.line, p.field) for p in config.problems] == [(6, "contract.terms.query_interval")]


def test_the_example_mesh_keeps_its_terms():
    from tests.support.repository import ROOT

    config = load_config(ROOT / "config")
    assert [p for p in config.problems if "query_interval" in p.message] == []
