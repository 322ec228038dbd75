"""What a standard contract (ODCS, DCS) contributes to a product, before any native binding."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from monitor.contracts.model import DeclaredProperty, Objective, Owner, Port, name_refusal
from monitor.contracts.problems import Problem, problem_at
from monitor.contracts.schedule import Schedule
from monitor.contracts.spec import objective_window, objective_zone
from monitor.contracts.yamlsource import Location, YamlDocument
from monitor.values.durations import Window
from monitor.values.limits import NAME_LENGTH

# The server types of both standards that a probe kind can watch.
SQL_DRIVERS = {"postgres": "postgresql+psycopg", "postgresql": "postgresql+psycopg",
               "mysql": "mysql+pymysql"}
NEEDS_BINDING = {"sqlserver", "databricks", "snowflake", "bigquery", "redshift", "oracle"}
SQL_KINDS = set(SQL_DRIVERS) | NEEDS_BINDING  # where a freshness column is a query's
DEFAULT_FRESHNESS_TARGET = "99%"
DELIVERY_OBJECTIVE = "frequency"  # a delivery schedule with no freshness promise to judge is one


@dataclass(frozen=True)
class Delivery:
    """A standard's delivery schedule (ODCS `frequency` + `schedule`, DCS `frequency.cron`):
    it judges the freshness promises on its column (any, when either names none) that have no
    schedule of their own, on the clock of `timezone` when they name none."""

    schedule: Schedule
    element: str | None = None
    timezone: str | None = None

    def judges(self, element: str | None) -> bool:
        return self.element is None or element is None or self.element == element


@dataclass(frozen=True)
class DeclaredServer:
    """One server a standard contract declares, as written (before it becomes ports)."""

    name: str
    kind: str
    host: str | None = None
    port: Any = None
    database: str | None = None
    schema: str | None = None
    location: str | None = None
    environment: str | None = None

    def described(self) -> str:
        return f"{self.kind} {self.location or self.host or ''}".strip()


@dataclass(frozen=True)
class DeclaredTable:
    """One table a standard contract declares (ODCS schema object, DCS model), as written:
    `columns` map the column's name to its declared type (None: any type), in declared order;
    `json_types` the same columns by JSON family (ODCS logicalType), for an API's payload."""

    name: str
    table: str  # the physical table name
    columns: dict[str, str | None]
    json_types: dict[str, str | None] = field(default_factory=dict)


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
    # freshness objective → the column (`table.column`) its promise is about, None if it names none
    measured_on: dict[str, str | None] = field(default_factory=dict)
    tables: list[DeclaredTable] = field(default_factory=list)
    schema_checked: set[str] = field(default_factory=set)  # tables compared on a port

    def add_servers(self, servers: list[DeclaredServer]) -> None:
        """The ports of the server the promises are judged on, each objective bound to the port
        it came from; the other servers are listed as not monitored. Call once every objective
        is known: the freshness columns decide how many ports the server gets."""
        judged = judged_server(servers)
        if judged is None:
            return  # no server: a binding's ports measure the objectives (`bind_to_ports`)
        for server in servers:
            if server is not judged:
                self.unmonitored.append(DeclaredProperty(
                    f"server {server.name}", server.described(),
                    f"the contract's service levels are judged on server {judged.name}"))
        # a column is a SQL server's: an API or a blob container has one freshness, one port
        columns = self.measured_on if judged.kind.lower() in SQL_KINDS else {}
        plan = port_plan(judged.name, self.objectives, columns)
        self.objectives = [replace(o, port=plan.port_of[o.name]) for o in self.objectives]
        for port_name, column in plan.columns.items():
            declared = server_port(port_name, judged, column)
            if isinstance(declared, DeclaredProperty):
                self.unmonitored.append(declared)
            elif port_name == judged.name:  # the server's own port compares the schema
                self.ports.append(self._with_schema(declared, judged))
            else:
                self.ports.append(declared)

    def _with_schema(self, port: Port, server: DeclaredServer) -> Port:
        """`port` comparing the declared tables with its data: a SQL port every table, qualified
        by the server's schema; an API the one table its payload can be (records under no
        path) — with several, which one an answer holds is unknown, and none is compared."""
        tables = [t for t in self.tables if t.columns]
        if port.type == "sql" and tables:
            self.schema_checked |= {t.name for t in tables}
            schema = [{"table": t.table if "." in t.table or not server.schema
                       else f"{server.schema}.{t.table}", "columns": t.columns} for t in tables]
            return replace(port, options={**port.options, "schema": schema})
        if port.type == "http" and len(tables) == 1:
            self.schema_checked.add(tables[0].name)
            return replace(port, options={**port.options, "schema": {"fields": tables[0].json_types}})
        return port


PRODUCTION = {"prod", "production", "prd"}


def judged_server(servers: list[DeclaredServer]) -> DeclaredServer | None:
    """The server a standard contract's service levels are about: the production one (its
    `environment` says so), else the first declared; None when there is none."""
    return next((s for s in servers if (s.environment or "").lower() in PRODUCTION),
                servers[0] if servers else None)


@dataclass(frozen=True)
class PortPlan:
    columns: dict[str, str | None]  # port name → the freshness column it measures
    port_of: dict[str, str]  # objective name → its port


def port_plan(server: str, objectives: list[Objective], measured_on: dict[str, str | None]
              ) -> PortPlan:
    """One port per freshness column: the server's own name measures the first column (and
    carries availability and error rate); each further column gets `server.objective`, named
    after the first objective promised on it — so `latency` on `src_ts` and `freshness` on
    `updated_at` are two measurements, never one query judged against both promises."""
    columns: dict[str, str | None] = {server: None}
    port_of_column: dict[str, str] = {}
    port_of: dict[str, str] = {}
    for objective in objectives:
        column = measured_on.get(objective.name)
        if column is None:
            port_of[objective.name] = server
        elif column in port_of_column:
            port_of[objective.name] = port_of_column[column]
        else:
            name = server if columns[server] is None and not port_of_column else \
                column_port_name(server, objective.name)
            columns[name] = column
            port_of_column[column] = port_of[objective.name] = name
    return PortPlan(columns, port_of)


def column_port_name(server: str, objective: str) -> str:
    """`server.objective`, the port of a further freshness column; when that is longer than the
    store holds (NAME_LENGTH), cut and ended by a digest of the whole name, so it stays the same
    at every load and unique."""
    name = f"{server}.{objective}"
    if len(name) <= NAME_LENGTH:
        return name
    digest = hashlib.blake2b(name.encode(), digest_size=4).hexdigest()
    return f"{name[:NAME_LENGTH - len(digest) - 1]}~{digest}"


_MAX_QUERY = re.compile(r'select\s+max\(\s*"?(\w+)"?\s*\)\s+from\s+(?:"?\w+"?\.)?"?(\w+)"?\s*;?',
                        re.IGNORECASE)


def bind_to_ports(standard: StandardContract, ports: Iterable[Port]) -> list[Objective]:
    """The standard's objectives in a product whose ports are `ports` (a binding's too). Each
    keeps the port of the server it came from, even when the binding adds others. From a
    standard that declares no server, a freshness promise is bound to the first SQL port whose
    `freshness_query` reads its column (`SELECT max(updated_at) FROM [schema.]orders` for
    `orders.updated_at`); one that finds none, and every other promise, counts every port."""
    ports = list(ports)
    bound = []
    for objective in standard.objectives:
        column = standard.measured_on.get(objective.name)
        if objective.port is None and column is not None:
            objective = replace(objective, port=_port_reading(ports, column))
        bound.append(objective)
    return bound


def _port_reading(ports: list[Port], element: str) -> str | None:
    wanted = tuple(part.lower() if part else part for part in reversed(split_element(element)))
    for port in ports:
        query = port.options.get("freshness_query") if port.type == "sql" else None
        read = _MAX_QUERY.fullmatch(query.strip()) if isinstance(query, str) else None
        if read is not None and (read.group(1).lower(), read.group(2).lower()) == wanted:
            return port.name
    return None


def windowed(objective: Objective, document: YamlDocument,
             read: Callable[[str], tuple[Location, object] | None]) -> tuple[Objective, list[Problem]]:
    """`objective` with the `window` and `timezone` its standard file gives it, if any (`read`
    says where a key's value is and what it is): `30d`, or `1M` / `P1M` / `month` for a calendar
    month; the same rules as a native objective's (a zone is for a calendar window or a
    delivery schedule), each problem at its own line."""
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
            objective = replace(objective, timezone=objective_zone(
                str(zone[1]), window, scheduled=objective.schedule is not None))
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


def server_port(name: str, server: DeclaredServer, element: str | None) -> Port | DeclaredProperty:
    """Port `name` of a declared server, its freshness read from the column `element`, probed
    every 5 minutes (a contract's update frequency says how often data lands, not how often to
    look); or why it cannot be watched without a binding."""
    kind = (server.kind or "").lower()
    every = timedelta(minutes=5)
    timeout = min(timedelta(seconds=10), every)
    if kind in SQL_DRIVERS and server.host and server.database:
        port = f":{server.port}" if server.port else ""
        options: dict[str, Any] = {"url": f"{SQL_DRIVERS[kind]}://{server.host}{port}/{server.database}"}
        query = freshness_query(element, server.schema)
        if query:
            options["freshness_query"] = query
        return Port(name=name, type="sql", interval=every, timeout=timeout, options=options)
    location = server.location
    if kind == "api" and location and location.startswith(("http://", "https://")):
        return Port(name=name, type="http", interval=every, timeout=timeout,
                    options={"url": location})
    described = server.described() + (f", freshness on {element}" if element else "")
    if kind == "azure" or kind in SQL_DRIVERS or kind in NEEDS_BINDING:
        return DeclaredProperty(f"server {name}", described,
                                "needs connection details from a meshwatch binding file")
    return DeclaredProperty(f"server {name}", described, f"no probe for server type {kind!r}")
