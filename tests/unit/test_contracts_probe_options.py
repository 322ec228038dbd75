"""Each port kind checks its own settings when a contract is loaded, at the line to fix."""

from __future__ import annotations

import textwrap
from pathlib import Path

from monitor.config.loading import KINDS
from monitor.contracts import load_contracts

CONTRACT = """\
apiVersion: meshwatch/v1
kind: DataProduct
metadata: {domain: shop, name: basket}
owner: {team: shop}
ports:
  - name: api
    type: http
    url: ${SHOP_API_URL:-http://127.0.0.1:9/basket}
    freshness: {json_path: generated_at}
  - name: warehouse
    type: sql
    url: ${SHOP_SQL_URL:-sqlite:///shop.db}
    freshness_query: SELECT max(updated_at) FROM baskets
objectives:
  - {name: api-availability, port: api, indicator: availability, target: 99.9%}
"""


def write(directory: Path, text: str) -> Path:
    path = directory / "shop.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def line_with(path: Path, fragment: str) -> int:
    (line,) = [number for number, text in enumerate(path.read_text().splitlines(), start=1)
               if fragment in text]
    return line


def test_http_and_sql_ports_with_placeholders_in_their_settings_load(tmp_path):
    registry = load_contracts([write(tmp_path, CONTRACT)], KINDS)
    assert registry.problems == []
    assert [port.type for port in registry.products["shop/basket"].ports] == ["http", "sql"]


def test_an_unknown_http_option_and_a_bad_expected_status_are_reported_at_their_lines(tmp_path):
    bad = write(tmp_path, CONTRACT.replace("    freshness: {json_path: generated_at}\n",
                                           "    expected_status: [200, 999]\n    verify_ssl: false\n"))
    registry = load_contracts([bad], KINDS)
    assert registry.products == {}
    assert sorted(str(problem) for problem in registry.problems) == sorted([
        f"{bad}:{line_with(bad, 'expected_status')}: ports[0].expected_status: "
        "999 is not an HTTP status (100-599)",
        f"{bad}:{line_with(bad, 'verify_ssl')}: ports[0].verify_ssl: unknown field",
    ])


def test_a_sql_port_without_a_url_is_reported_at_the_port(tmp_path):
    bad = write(tmp_path, CONTRACT.replace("    url: ${SHOP_SQL_URL:-sqlite:///shop.db}\n", ""))
    (problem,) = load_contracts([bad], KINDS).problems
    assert str(problem) == f"{bad}:{line_with(bad, 'name: warehouse')}: ports[1].url: Field required"
