"""What a standard contract (ODCS, DCS) contributes to a product, before any native binding."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from monitor.contracts.model import DeclaredProperty, Objective, Owner, Port, name_refusal
from monitor.contracts.problems import Problem, problem_at
from monitor.contracts.spec import objective_window, objective_zone
from monitor.contracts.yamlsource import Location, YamlDocument
from monitor.values.durations import Window

# The server types of both standards that a probe kind can watch.
SQL_DRIVERS = {"postgres": "postgresql+psycopg", "postgresql": "postgresql+psycopg",
               "mysql": "mysql+pymysql"}
NEEDS_BINDING = {"sqlserver", "databricks", "snowflake", "bigquery", "redshift", "oracle"}
DEFAULT_FRESHNESS_TARGET = "99%"


@dataclass
class StandardContract:
    format: str
    domain: str
    name: str
    owner: Owner
    description: str | None = None
    version: str | None = None
    start: date | None = None
    end: date | None = None
    terms: dict[str, Any] = field(default_factory=dict)
    ports: list[Port] = field(default_factory=list)
    objectives: list[Objective] = field(default_factory=list)
    update_frequency: timedelta | None = None
    unmonitored: list[DeclaredProperty] = field(default_factory=list)

    def add_server(self, declared: Port | DeclaredProperty) -> None:
        """A declared server becomes a port, or a property saying why it is not watched."""
        if isinstance(declared, DeclaredProperty):
            self.unmonitored.append(declared)
        else:
            self.ports.append(declared)


def windowed(objective: Objective, document: YamlDocument,
             read: Callable[[str], tuple[Location, object] | None]) -> tuple[Objective, list[Problem]]:
    """`objective` with the `window` and `timezone` its standard file gives it, if any (`read`
    says where a key's value is and what it is): `30d`, or `1M` / `P1M` / `month` for a calendar
    month; the same rules as a native objective's, each problem at its own line."""
    problems: list[Problem] = []
    window: Window | None = Window(objective.window, objective.calendar)
    given = read("window")
    if given is not None:
        try:
            window = objective_window(given[1])
        except ValueError as error:
            problems.append(problem_at(document, given[0], str(error)))
            window = None  # one problem is enough: the zone is not judged against it
        else:
            objective = replace(objective, window=window.length, calendar=window.calendar)
    zone = read("timezone")
    if zone is not None:
        try:
            objective = replace(objective, timezone=objective_zone(str(zone[1]), window))
        except ValueError as error:
            problems.append(problem_at(document, zone[0], str(error)))
    return objective, problems


def product_id_problems(document: YamlDocument, contract: StandardContract, name_at: Location
                        ) -> list[Problem]:
    """The product id the store cannot hold, reported where its name comes from (`name_at`)."""
    refusal = name_refusal(f"{contract.domain}/{contract.name}", "the product id (domain/name)")
    return [] if refusal is None else [problem_at(document, name_at, refusal)]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", text.strip().lower()).strip("-") or "default"


def split_element(element: str | None) -> tuple[str | None, str | None]:
    """`orders.order_timestamp` → (`orders`, `order_timestamp`)."""
    if not element:
        return None, None
    table, _, column = element.rpartition(".")
    return (table or None), column


def freshness_query(element: str | None, schema: str | None = None) -> str | None:
    table, column = split_element(element)
    if not table or not column:
        return None
    qualified = f"{schema}.{table}" if schema else table
    return f"SELECT max({column}) FROM {qualified}"


def server_port(name: str, kind: str, *, host: str | None, port: Any, database: str | None,
                schema: str | None, location: str | None, element: str | None
                ) -> Port | DeclaredProperty:
    """A port for one declared server, probed every 5 minutes (a contract's update frequency says
    how often data lands, not how often to look), or why it cannot be watched without a binding."""
    kind = (kind or "").lower()
    described = f"{kind} {location or host or ''}".strip()
    every = timedelta(minutes=5)
    timeout = min(timedelta(seconds=10), every)
    if kind in SQL_DRIVERS and host and database:
        url = f"{SQL_DRIVERS[kind]}://{host}{f':{port}' if port else ''}/{database}"
        options: dict[str, Any] = {"url": url}
        query = freshness_query(element, schema)
        if query:
            options["freshness_query"] = query
        return Port(name=name, type="sql", interval=every, timeout=timeout, options=options)
    if kind == "api" and location and location.startswith(("http://", "https://")):
        return Port(name=name, type="http", interval=every, timeout=timeout,
                    options={"url": location})
    if kind == "azure" or kind in SQL_DRIVERS or kind in NEEDS_BINDING:
        return DeclaredProperty(f"server {name}", described,
                                "needs connection details from a meshwatch binding file")
    return DeclaredProperty(f"server {name}", described, f"no probe for server type {kind!r}")
