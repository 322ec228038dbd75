"""The mesh's lineage: unknown upstreams and cycles reported at file:line (the product still
monitored), the walk upstream, the upstream list of `evaluate --json`, the destination option
that holds pages while upstream fires, and how a message names the probable cause."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.alerting.messages import AlertItem, describe_upstream
from monitor.alerting.routing import destination_key, routes
from monitor.cli.app import app
from monitor.config.loading import load_config
from monitor.contracts.lineage import Lineage
from monitor.contracts.model import DataProduct, Owner
from monitor.evaluation.lineage import UpstreamObjective, upstream_objectives
from monitor.slo import Status
from tests.support.repository import ROOT

AT = "2026-11-02T12:00:00Z"


def contract(domain: str, name: str, upstream: str = "", notify: str = "[]") -> str:
    items = "".join(f"      - {source.strip()}\n" for source in upstream.split(","))
    lineage = f"contract:\n  lineage:\n    upstream:\n{items}" if upstream else ""
    return (f"apiVersion: meshwatch/v1\nkind: DataProduct\nmetadata: {{domain: {domain}, name: {name}}}\n"
            f"owner:\n  team: {domain}\n  notify: {notify}\n{lineage}"
            "ports:\n  - {name: api, type: http, url: http://127.0.0.1:9/x}\n"
            "objectives:\n  - {name: api-availability, port: api, indicator: availability, "
            "target: 99%}\n")


def mesh(tmp_path: Path, **files: str) -> Path:
    directory = tmp_path / "config"
    (directory / "contracts").mkdir(parents=True)
    for name, text in files.items():
        (directory / "contracts" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return directory


def validate(directory: Path):
    return CliRunner().invoke(app, ["validate", "--config", str(directory)])


def node(product_id: str, *upstream: str) -> DataProduct:
    domain, name = product_id.split("/")
    return DataProduct(domain=domain, name=name, owner=Owner(domain), upstream=upstream)


def test_an_unknown_upstream_is_a_problem_at_its_line_and_the_product_is_still_monitored(tmp_path):
    directory = mesh(tmp_path, orders=contract("checkout", "orders", "cart/events, no/such"),
                     events=contract("cart", "events"))
    config = load_config(directory)
    file = str(directory / "contracts" / "orders.yaml")
    assert [str(p) for p in config.problems] == [
        f"{file}:11: contract.lineage.upstream[1]: no product 'no/such' in the mesh (its lineage "
        "is drawn without it)"]
    assert sorted(config.registry.products) == ["cart/events", "checkout/orders"]
    assert Lineage.of(config.registry.products.values()).edges() == [
        ("cart/events", "checkout/orders")]
    result = validate(directory)
    assert result.exit_code == 1
    assert f"{file}:11: contract.lineage.upstream[1]: no product 'no/such'" in result.output


def test_a_lineage_cycle_is_reported_on_every_file_in_it(tmp_path):
    directory = mesh(tmp_path, a=contract("one", "a", "two/b"), b=contract("two", "b", "three/c"),
                     c=contract("three", "c", "one/a"), d=contract("four", "d", "one/a"))
    config = load_config(directory)
    files = {name: str(directory / "contracts" / f"{name}.yaml") for name in "abc"}
    assert sorted(str(p) for p in config.problems) == sorted([
        f"{files['a']}:10: contract.lineage.upstream[0]: lineage cycle: one/a → two/b → three/c "
        "→ one/a (each lists the next as upstream)",
        f"{files['b']}:10: contract.lineage.upstream[0]: lineage cycle: two/b → three/c → one/a "
        "→ two/b (each lists the next as upstream)",
        f"{files['c']}:10: contract.lineage.upstream[0]: lineage cycle: three/c → one/a → two/b "
        "→ three/c (each lists the next as upstream)"])
    assert len(config.registry.products) == 4  # all still monitored
    assert validate(directory).exit_code == 1


def test_a_product_upstream_of_itself_is_a_cycle_of_one(tmp_path):
    directory = mesh(tmp_path, a=contract("one", "a", "one/b, one/a"), b=contract("one", "b"))
    file = str(directory / "contracts" / "a.yaml")
    assert [str(p) for p in load_config(directory).problems] == [
        f"{file}:11: contract.lineage.upstream[1]: lineage cycle: one/a → one/a (each lists the "
        "next as upstream)"]


def test_the_demo_mesh_has_no_lineage_problem():
    assert load_config(ROOT / "config").problems == []


def test_ancestors_are_every_product_upstream_nearest_first_and_a_cycle_ends_the_walk():
    lineage = Lineage.of([node("m/features", "c/orders", "k/events"), node("c/orders", "k/events"),
                          node("k/events", "s/raw"), node("s/raw", "m/features")])
    assert lineage.ancestors("m/features") == ["c/orders", "k/events", "s/raw"]
    assert lineage.ancestors("c/orders") == ["k/events", "s/raw", "m/features"]
    assert lineage.cycles() == [["c/orders", "k/events", "m/features", "s/raw"]]
    assert Lineage.of([node("a/x", "gone/y")]).ancestors("a/x") == []
    assert Lineage.declared([node("a/x", "gone/y")]).ancestors("a/x") == ["gone/y"]


def test_upstream_objectives_are_the_bad_ones_nearest_product_first():
    lineage = Lineage.of([node("m/features", "c/orders"), node("c/orders", "k/events"),
                          node("k/events")])
    since = datetime(2026, 11, 2, 10, 2, tzinfo=UTC)
    statuses = {("k/events", "freshness"): Status.BREACHED, ("k/events", "availability"): Status.OK,
                ("c/orders", "latency"): Status.AT_RISK, ("c/orders", "errors"): Status.NO_DATA,
                ("m/features", "freshness"): Status.BREACHED}
    assert upstream_objectives(lineage, "m/features", statuses,
                               {("k/events", "freshness"): since}) == (
        UpstreamObjective("c/orders", "latency", Status.AT_RISK, None),
        UpstreamObjective("k/events", "freshness", Status.BREACHED, since))
    assert upstream_objectives(lineage, "k/events", statuses, {}) == ()


def test_evaluate_json_lists_the_breached_objectives_upstream_of_each_objective(tmp_path):
    directory = tmp_path / "config"
    shutil.copytree(ROOT / "config", directory)
    events = tmp_path / "events.csv"
    events.write_text("timestamp,product,objective,good,total\n"
                      "2026-11-02T11:59:30Z,checkout/orders,api-availability,990,1000\n")
    env = {"MESHWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}"}
    runner = CliRunner()
    assert runner.invoke(app, ["import", str(events), "--config", str(directory)],
                         env=env).exit_code == 0
    result = runner.invoke(app, ["evaluate", "--json", "--at", AT, "--config", str(directory)],
                           env=env)
    assert result.exit_code == 0, result.output
    objectives = json.loads(result.stdout)["objectives"]
    upstream = {(o["product"], o["objective"]): o["upstream"] for o in objectives}
    breach = [{"product": "checkout/orders", "objective": "api-availability",
               "status": "breached", "since": None}]  # no alert holds it yet: since unknown
    assert {key: value for key, value in upstream.items() if key[0] == "marketing/campaign-features"
            } == {key: breach for key in upstream if key[0] == "marketing/campaign-features"}
    assert all(value == [] for key, value in upstream.items() if key[0] != "marketing/campaign-features")


def test_a_destination_may_hold_its_pages_while_upstream_fires(tmp_path):
    notify = "[{email: cart@x.example, inhibit_when_upstream: true}, {email: also@x.example}]"
    directory = mesh(tmp_path, a=contract("one", "a", notify=notify))
    config = load_config(directory)
    assert config.problems == []
    product = config.registry.products["one/a"]
    assert product.owner.notify == ({"email": "cart@x.example", "inhibit_when_upstream": "true"},
                                    {"email": "also@x.example"})
    assert destination_key(product.owner.notify[0]) == "email:cart@x.example"
    found = routes(product, "api-availability", "page", datetime(2026, 11, 2, tzinfo=UTC))
    assert [(r.destination, r.hold_when_upstream) for r in found] == [
        ("email:cart@x.example", True), ("email:also@x.example", False)]


@pytest.mark.parametrize("entry, message", [
    ("{email: cart@x.example, inhibit_when_upstream: maybe}",
     "inhibit_when_upstream is true or false (got 'maybe')"),
    ("{inhibit_when_upstream: true}",
     "a destination is one KIND: VALUE pair, e.g. {channel: NAME} or {email: team@example.com}, "
     "with options beside it (inhibit_when_upstream: true)"),
])
def test_a_bad_hold_option_is_a_problem_at_its_line(tmp_path, entry, message):
    directory = mesh(tmp_path, a=contract("one", "a", notify=f"[{entry}]"))
    file = str(directory / "contracts" / "a.yaml")
    # (a lone option is also an unknown destination kind to the native loader's kind check)
    assert f"{file}:6: owner.notify[0]: {message}" in [str(p) for p in load_config(directory).problems]


def test_a_message_names_the_probable_cause_upstream():
    item = AlertItem("features-freshness", "freshness", "freshness_breach", "page",
                     "2026-11-02T10:05:00Z", {}, {}, upstream=(
                         {"product": "cart/events", "objective": "lake-freshness",
                          "status": "breached", "since": "2026-11-02T10:02:00Z"},
                         {"product": "checkout/orders", "objective": "api-latency",
                          "status": "at_risk", "since": None}))
    assert describe_upstream(item) == (
        "probably caused upstream: cart/events lake-freshness breached since 2026-11-02 10:02 "
        "UTC; checkout/orders api-latency at risk")
    assert describe_upstream(AlertItem("x", "freshness", "no_data", "ticket", AT, {}, {})) is None
