"""For daemon tests: a configuration directory written from YAML text, and a heartbeat product."""

from __future__ import annotations

import textwrap
from pathlib import Path


def write_config(directory: Path, contracts: dict[str, str], settings: str = "") -> Path:
    (directory / "contracts").mkdir(parents=True, exist_ok=True)
    (directory / "meshwatch.yaml").write_text(textwrap.dedent(settings))
    for name, body in contracts.items():
        (directory / "contracts" / name).write_text(textwrap.dedent(body))
    return directory


HEARTBEAT_PRODUCT = """\
    apiVersion: meshwatch/v1
    kind: DataProduct
    metadata: {domain: cart, name: events}
    owner: {team: cart, contact: cart@contoso.example}
    ports:
      - name: pipeline
        type: heartbeat
        token: ${CART_TOKEN:-s3cret-token-value}
        interval: 15m
        grace: 5m
    objectives:
      - {name: pipeline-availability, port: pipeline, indicator: availability, target: 99%}
      - {name: pipeline-freshness, port: pipeline, indicator: freshness, threshold: 30m, target: 99%}
"""
