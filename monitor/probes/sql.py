"""SQL ports through SQLAlchemy: available when the database accepts a connection and the queries run.

`query` (default `SELECT 1`) checks liveness; `freshness_query` returns one timestamp, the newest
data (naive values are UTC; ISO strings, dates and epoch seconds are read too); `row_count_query`
returns one integer, kept as `details["row_count"]`; `volume: {query: ..., per: 1d}` returns the
rows that arrived in the last `per` (the bound parameter `:since`, a UTC time, is its start:
`SELECT count(*) FROM orders WHERE created_at >= :since`), the port's volume in rows; `schema`
(one table or a list: `{table: sales.invoices, columns: {id: integer, amount: decimal}}`) is
compared with the table's columns through SQLAlchemy's inspector, by type family
(monitor.contracts.schema), and every missing or retyped column is a line of
`details["schema_mismatch"]` (empty when all match): a schema mismatch never makes the port
unavailable, it is a condition of its own. The blocking work runs in a thread with one small
engine per probe; drivers get connect and statement timeouts a second longer than the port's, so
the thread is freed soon after `Probe.measure` gave up on it.

A freshness query that finds nothing (NULL, no row: an empty table) leaves the port available with
no newest data, which the freshness objective counts as stale; NULL while `row_count_query`
counted rows means the timestamp column is broken: bad_payload.

| what went wrong                                          | error class |
| -------------------------------------------------------- | ----------- |
| no answer within the port's timeout                      | timeout     |
| connection refused, no database file, connection lost    | refused     |
| host name not resolved                                   | dns         |
| bad password, access denied, login failed                | auth        |
| bad SQL, missing table or column, permission on a table  | query_error |
| non-timestamp freshness, non-integer count, NULL + rows  | bad_payload |
| unreadable URL, driver not installed                     | config      |

Messages show the URL with its password hidden and never the password itself.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from sqlalchemy import Connection, DateTime, Engine, bindparam, create_engine, inspect, make_url, text
from sqlalchemy import exc as sa
from sqlalchemy import types as sql_types
from sqlalchemy.engine import URL

from monitor.contracts.model import Port
from monitor.contracts.results import ErrorClass, Volume
from monitor.contracts.schema import TableSchema, TableSchemas, TypeFamily, family_of, matches, mismatch
from monitor.probes.base import Observation, Probe, ProbeFailure, ProbeOptions, VolumeOptions
from monitor.probes.timestamps import as_utc
from monitor.values.clock import Clock, utc_now
from monitor.values.extras import explained
from monitor.values.secrets import bounded, has_placeholder
from monitor.values.volumes import VolumeUnit


def _postgres(seconds: int) -> dict[str, Any]:
    return {"connect_timeout": max(seconds, 2), "options": f"-c statement_timeout={seconds * 1000}"}


def _mysql(seconds: int) -> dict[str, Any]:
    return {"connect_timeout": seconds, "read_timeout": seconds, "write_timeout": seconds}


# driver → connect arguments bounding connection and statements; settings in the URL win
DRIVER_TIMEOUTS: dict[str, Callable[[int], dict[str, Any]]] = {
    "psycopg": _postgres, "psycopg2": _postgres,
    "pymysql": _mysql, "mysqldb": _mysql,
    "pysqlite": lambda seconds: {"timeout": seconds},
    "pyodbc": lambda seconds: {"timeout": seconds},
    "pymssql": lambda seconds: {"login_timeout": seconds, "timeout": seconds},
}
AUTH_MARKERS = ("authentication failed", "access denied", "login failed", "password", "pg_hba.conf",
                'role "')
DNS_MARKERS = ("name or service not known", "nodename nor servname", "could not translate host name",
               "failed to resolve host", "temporary failure in name resolution",
               "no address associated", "getaddrinfo failed", "unknown mysql server host")
TIMEOUT_MARKERS = ("timeout expired", "timed out", "statement timeout", "canceling statement")


class SqlVolume(VolumeOptions):
    """`volume:` of a SQL port: a query counting the rows of the last `per` (`:since` its start)."""

    query: str = Field(min_length=1)
    unit: Literal["rows"] = "rows"


class SqlOptions(ProbeOptions):
    url: str
    password: str | None = None  # instead of one in the URL: a secret of its own, no URL escaping
    query: str = "SELECT 1"
    freshness_query: str | None = None
    row_count_query: str | None = None
    volume: SqlVolume | None = None
    declared_schema: TableSchemas | None = Field(default=None, alias="schema")

    @field_validator("url")
    @classmethod
    def _sqlalchemy_url(cls, url: str) -> str:
        if not has_placeholder(url):
            try:
                make_url(url)
            except sa.ArgumentError:  # the message would repeat the URL, password and all
                raise ValueError("not a SQLAlchemy URL (dialect+driver://user:password@host/database)"
                                 ) from None
        return url


class SqlProbe(Probe):
    kind = "sql"
    Options = SqlOptions
    options: SqlOptions

    def __init__(self, product: str, port: Port, options: SqlOptions, clock: Clock = utc_now):
        super().__init__(product, port, options, clock)
        self._engine: Engine | None = None

    async def check(self) -> Observation:
        engine = self._engine or self._create_engine()
        return await asyncio.to_thread(self._look, engine)

    async def close(self) -> None:
        if self._engine is not None:
            await asyncio.to_thread(self._engine.dispose)
            self._engine = None

    def classify(self, error: BaseException) -> tuple[ErrorClass, str]:
        match error:
            case sa.DBAPIError() if error.connection_invalidated:
                return ErrorClass.REFUSED, self._scrub(f"lost the connection: {_reason(error)}")
            case sa.DBAPIError() if _says(error, TIMEOUT_MARKERS):
                return ErrorClass.TIMEOUT, self._scrub(_reason(error))
            case sa.DBAPIError() | sa.ResourceClosedError():
                return ErrorClass.QUERY_ERROR, self._scrub(_reason(error))
            case sa.TimeoutError():
                return ErrorClass.TIMEOUT, "no free connection in the probe's pool"
            case ImportError():
                return ErrorClass.CONFIG, self._scrub(
                    f"cannot use the url: {explained(error, 'a sql port on this database')}")
            case sa.ArgumentError() | sa.NoSuchModuleError():
                return ErrorClass.CONFIG, self._scrub(f"cannot use the url: {error}")
        error_class, message = super().classify(error)
        return error_class, self._scrub(message)

    def _create_engine(self) -> Engine:
        url = make_url(self.options.url)
        _require_sqlite_file(url)  # before create_engine: an in-memory database takes other pool options
        if url.drivername == "postgresql":  # psycopg 3 is what meshwatch ships, as the store does
            url = url.set(drivername="postgresql+psycopg")
        if self.options.password is not None:
            url = url.set(password=self.options.password)
        seconds = math.ceil(self.port.timeout.total_seconds()) + 1
        timeouts = DRIVER_TIMEOUTS.get(url.get_driver_name(), lambda _: {})(seconds)
        connect_args = {key: value for key, value in timeouts.items() if key not in url.query}
        self._engine = create_engine(url, pool_pre_ping=True, pool_size=1, max_overflow=2,
                                     pool_timeout=seconds, pool_recycle=1800, connect_args=connect_args)
        return self._engine

    def _look(self, engine: Engine) -> Observation:
        _require_sqlite_file(engine.url)
        try:
            connection = engine.connect()
        except sa.DBAPIError as error:
            raise ProbeFailure(_connect_class(error), self._scrub(
                f"cannot connect to {engine.url.render_as_string(hide_password=True)}: {_reason(error)}"
            )) from None
        with connection:
            self._first_value(connection, "query")
            details: dict[str, Any] = {}
            if self.options.declared_schema:  # first: a dropped freshness column still gets named
                details["schema_mismatch"] = self._schema_mismatch(connection)
            try:
                if self.options.row_count_query:
                    details["row_count"] = _count(self._first_value(connection, "row_count_query"),
                                                  "row_count_query")
                newest = None
                if self.options.freshness_query:
                    newest = _newest(self._first_value(connection, "freshness_query"),
                                     details.get("row_count"))
                volume = self._volume(connection)
            except ProbeFailure as failure:
                failure.seen = Observation(details=details)
                raise
        return Observation(newest_data_at=newest, details=details, volume=volume)

    def _volume(self, connection: Connection) -> Volume | None:
        spec = self.options.volume
        if spec is None:
            return None
        statement = text(spec.query)
        if "since" in statement._bindparams:  # noqa: SLF001 - the query's own parameters
            since = self.clock() - spec.per
            # PostgreSQL compares a time zone; the others store naive UTC times
            bound = since if connection.dialect.name == "postgresql" else since.replace(tzinfo=None)
            statement = statement.bindparams(bindparam("since", bound, type_=DateTime(
                timezone=connection.dialect.name == "postgresql")))
        try:
            row = connection.execute(statement).first()
        except (sa.DBAPIError, sa.ResourceClosedError) as error:
            error_class, message = self.classify(error)
            raise ProbeFailure(error_class, f"volume query failed: {message}") from None
        count = _count(None if row is None else row[0], "volume query")
        if count < 0:
            raise ProbeFailure(ErrorClass.BAD_PAYLOAD, f"volume query returned {count}, not a "
                                                       f"count of rows")
        return Volume(count, VolumeUnit(spec.unit), spec.per)

    def _schema_mismatch(self, connection: Connection) -> list[str]:
        """Each declared column that is missing or of another type family, in declared order."""
        inspector = inspect(connection)
        found: list[str] = []
        for table in self.options.declared_schema or []:
            try:
                columns = _columns(inspector, table)
            except (sa.DBAPIError, sa.ResourceClosedError) as error:
                error_class, message = self.classify(error)
                raise ProbeFailure(error_class, f"reading the columns of {table.table} failed: "
                                                f"{message}") from None
            if columns is None:
                found.append(f"{table.label}: table missing")
                continue
            for name, declared in table.columns.items():
                column_type = columns.get(name.lower())
                label = f"{table.label}.{name}"
                if column_type is None:
                    found.append(mismatch(label, declared, None))
                    continue
                shown = _type_name(column_type, connection)
                if not matches(declared, _families(column_type, shown), shown):
                    found.append(mismatch(label, declared, shown))
        return found

    def _first_value(self, connection: Connection, option: str) -> Any:
        try:
            row = connection.execute(text(getattr(self.options, option))).first()
        except (sa.DBAPIError, sa.ResourceClosedError) as error:
            error_class, message = self.classify(error)
            raise ProbeFailure(error_class, f"{option} failed: {message}") from None
        return None if row is None else row[0]

    def _scrub(self, message: str) -> str:
        """The message with the URL and the password hidden, whatever the driver echoed."""
        try:
            url = make_url(self.options.url)
        except sa.ArgumentError:
            message = message.replace(self.options.url, "<url>")
        else:
            message = message.replace(self.options.url, url.render_as_string(hide_password=True))
            if url.password:
                message = message.replace(url.password, "***")
        return message.replace(self.options.password, "***") if self.options.password else message


def _columns(inspector: Any, table: TableSchema) -> dict[str, Any] | None:
    """The table's columns (lower-case name → SQLAlchemy type), None when there is no such table."""
    schema, name = table.split()
    try:
        columns = inspector.get_columns(name, schema=schema)
    except sa.NoSuchTableError:
        return None
    return {column["name"].lower(): column["type"] for column in columns} or None


# SQLAlchemy's generic types → families, whatever the dialect calls them
_GENERIC: tuple[tuple[type, TypeFamily], ...] = (
    (sql_types.Boolean, TypeFamily.BOOLEAN), (sql_types.Integer, TypeFamily.INTEGER),
    (sql_types.Numeric, TypeFamily.NUMBER), (sql_types.String, TypeFamily.STRING),
    (sql_types.DateTime, TypeFamily.TIMESTAMP), (sql_types.Date, TypeFamily.DATE),
    (sql_types.Time, TypeFamily.TIME), (sql_types.JSON, TypeFamily.OBJECT),
    (sql_types.ARRAY, TypeFamily.ARRAY), (sql_types._Binary, TypeFamily.BINARY))
_CHARSET = re.compile(r"\s+(character set|charset|collate)\s.*$", re.IGNORECASE)


def _families(column_type: Any, shown: str) -> set[TypeFamily]:
    """The families a column's type belongs to: an integer is a number too, and MariaDB's
    `tinyint(1)` is how it stores a boolean."""
    families = {family for generic, family in _GENERIC if isinstance(column_type, generic)}
    named = family_of(shown)
    if named is not None:
        families.add(named)
    if TypeFamily.INTEGER in families:
        families.add(TypeFamily.NUMBER)
    if shown.replace(" ", "") == "tinyint(1)":
        families.add(TypeFamily.BOOLEAN)
    return families


def _type_name(column_type: Any, connection: Connection) -> str:
    """The column's type as the database names it, in lower case, without its character set."""
    try:
        name = column_type.compile(dialect=connection.dialect)
    except Exception:  # noqa: BLE001 - a type the dialect cannot render is still named
        name = type(column_type).__name__
    return _CHARSET.sub("", str(name)).lower()


def _require_sqlite_file(url: URL) -> None:
    # connecting would create an empty database: a missing file is an unavailable port
    if url.get_backend_name() == "sqlite" and not url.query.get("uri") \
            and not Path(url.database or ":memory:").is_file():
        raise ProbeFailure(ErrorClass.REFUSED, f"no SQLite database file at {url.database or ':memory:'}")


def _connect_class(error: sa.DBAPIError) -> ErrorClass:
    if _says(error, AUTH_MARKERS):
        return ErrorClass.AUTH
    if _says(error, DNS_MARKERS):
        return ErrorClass.DNS
    if _says(error, TIMEOUT_MARKERS):
        return ErrorClass.TIMEOUT
    return ErrorClass.REFUSED


def _newest(value: Any, row_count: int | None) -> datetime | None:
    if value is None:
        if row_count:
            raise ProbeFailure(ErrorClass.BAD_PAYLOAD, "freshness_query returned NULL though "
                                                       f"row_count_query counted {row_count} rows")
        return None
    try:
        return as_utc(value)
    except ValueError as error:
        raise ProbeFailure(ErrorClass.BAD_PAYLOAD, f"freshness_query: {error}") from None


def _count(value: Any, query: str) -> int:
    if isinstance(value, int | Decimal | float) and not isinstance(value, bool) \
            and math.isfinite(value) and value == int(value):
        return int(value)
    raise ProbeFailure(ErrorClass.BAD_PAYLOAD, f"{query} returned {bounded(repr(value), 80)}, "
                                               f"not an integer")


def _reason(error: BaseException) -> str:
    """The driver's own words, on one line, without SQLAlchemy's statement and help link."""
    return " ".join(str(getattr(error, "orig", None) or error).split())[:400]


def _says(error: BaseException, markers: tuple[str, ...]) -> bool:
    reason = _reason(error).lower()
    return any(marker in reason for marker in markers)
