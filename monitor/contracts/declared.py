"""What a standard contract declares that meshwatch does not monitor (yet), listed with why, so
that `meshwatch contracts` and the dashboard show every promise: nothing is dropped silently.

Descriptive fields (names, descriptions, tags, links, authoritative definitions, status, team
members) are the contract's words about itself, not promises, and are not listed."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from monitor.contracts.model import DeclaredProperty

NOT_MEASURED = "declared by the contract; meshwatch does not measure it"
SCHEMA_NOT_CHECKED = ("declared; not compared: a schema is compared on the judged server's SQL "
                      "port, or on its API port when one schema object is declared, and this "
                      "contract has neither (declare schema: on a binding's port)")
CADENCE_ONLY = ("the expected update cadence; judged only with a delivery schedule (a cron, "
                "e.g. schedule: 0 6 * * 1-5)")
SCHEDULE_ELSEWHERE = "a delivery schedule judges freshness: read on latency, freshness and frequency"
SCHEDULER_NOT_CRON = "meshwatch reads cron schedules (scheduler: cron) only; shown, not monitored"
SCHEDULE_WITHOUT_PROMISE = ("a delivery schedule judges a freshness promise: give "
                            "servicelevels.freshness or frequency.interval")
DELIVERY_KIND = "the delivery's kind (batch, streaming); shown, not monitored"
QUALITY_NOT_CHECKED = "declared; not monitored yet: data quality rules are not run"
DRIVER = "the promise's importance (regulatory, analytics, operational); shown, not monitored"
ACCESS_NOT_CHECKED = "declared by the contract; meshwatch does not check access or prices"


def listed(name: str, value: object, reason: str) -> DeclaredProperty:
    return DeclaredProperty(name, _text(value), reason)


def schema_objects(kind: str, objects: Iterable[tuple[str, str | None, list[Any], int]],
                   checked: Collection[str] = ()) -> list[DeclaredProperty]:
    """One entry per table (ODCS schema object, DCS model) not compared on a port (`checked`):
    `schema orders` = `table: order_id, updated_at (2 properties)`, and its quality rules
    counted beside it (compared or not: quality rules are not run)."""
    found = []
    for name, physical, columns, rules in objects:
        shown = ", ".join(str(column) for column in columns[:8]) + (", …" if len(columns) > 8 else "")
        value = f"{physical or 'object'}: {shown or 'no properties'} ({len(columns)} {kind})"
        if name not in checked:
            found.append(DeclaredProperty(f"schema {name}", value, SCHEMA_NOT_CHECKED))
        if rules:
            found.append(DeclaredProperty(f"schema {name} quality", f"{rules} rule(s)",
                                          QUALITY_NOT_CHECKED))
    return found


def _text(value: object) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{key}={item}" for key, item in value.items() if item is not None)
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value)
    return str(value)
