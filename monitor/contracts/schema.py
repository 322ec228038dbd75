"""A declared schema (native `schema:`, ODCS schema objects, DCS models) and the type families
it is compared in, so that `VARCHAR(20)` is a `string` and `BIGINT` an `integer` on any database.

Probes compare it with what they see (monitor.probes.sql: the table's columns; monitor.probes.http:
the JSON payload) and report each difference as one line, `invoices.amount: declared decimal,
found text`, kept as `details["schema_mismatch"]` of the result.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator


class TypeFamily(StrEnum):
    INTEGER = "integer"
    NUMBER = "number"
    STRING = "string"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"
    TIME = "time"
    OBJECT = "object"
    ARRAY = "array"
    BINARY = "binary"


# a declared type's base name (lower case, before any `(`) → its family
_FAMILIES: dict[str, TypeFamily] = {
    **dict.fromkeys(("integer", "int", "bigint", "smallint", "tinyint", "mediumint", "long",
                     "int2", "int4", "int8", "serial", "bigserial", "smallserial"), TypeFamily.INTEGER),
    **dict.fromkeys(("number", "decimal", "numeric", "float", "double", "double precision", "real",
                     "float4", "float8", "money", "bignumeric"), TypeFamily.NUMBER),
    **dict.fromkeys(("string", "text", "varchar", "char", "character", "character varying",
                     "nvarchar", "nchar", "clob", "tinytext", "mediumtext", "longtext", "varchar2",
                     "nvarchar2", "ntext", "enum"), TypeFamily.STRING),
    **dict.fromkeys(("boolean", "bool", "bit"), TypeFamily.BOOLEAN),
    **dict.fromkeys(("date",), TypeFamily.DATE),
    **dict.fromkeys(("timestamp", "datetime", "datetime2", "timestamptz", "smalldatetime",
                     "datetimeoffset", "timestamp with time zone", "timestamp without time zone",
                     "timestamp_ntz", "timestamp_ltz", "timestamp_tz"), TypeFamily.TIMESTAMP),
    **dict.fromkeys(("time", "timetz", "time with time zone", "time without time zone"),
                    TypeFamily.TIME),
    **dict.fromkeys(("object", "record", "struct", "map", "json", "jsonb"), TypeFamily.OBJECT),
    **dict.fromkeys(("array", "list"), TypeFamily.ARRAY),
    **dict.fromkeys(("bytes", "binary", "varbinary", "blob", "bytea", "tinyblob", "mediumblob",
                     "longblob", "image"), TypeFamily.BINARY),
}
_BASE = re.compile(r"\s*([a-z_][a-z0-9_ ]*?)\s*(?:\(.*)?$")


def base_name(type_name: str) -> str:
    """`VARCHAR(20)` → `varchar`, `timestamp(6) with time zone` → `timestamp`, `INT UNSIGNED` → `int`."""
    match = _BASE.match(type_name.lower())
    name = match.group(1) if match else type_name.lower().strip()
    return name.removesuffix(" unsigned").removesuffix(" signed").strip()


def family_of(type_name: str) -> TypeFamily | None:
    """The family of a type name as written in a contract or by a database; None when unknown
    (an unknown declared type is compared by its base name instead)."""
    return _FAMILIES.get(base_name(type_name))


def matches(declared: str | None, found_families: set[TypeFamily], found_name: str) -> bool:
    """A declared type holds when its family is one the found type belongs to; a declared type
    of no known family (`uuid`) when the found type has the same base name; no declared type
    (None) whatever the column holds."""
    if declared is None:
        return True
    family = family_of(declared)
    if family is None:
        return base_name(declared) == base_name(found_name)
    return family in found_families


def _declared_type(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        raise ValueError("a declared type is a name such as integer, decimal, string or timestamp")
    return value.strip() if isinstance(value, str) else value


DeclaredType = Annotated[str, BeforeValidator(_declared_type)]


class TableSchema(BaseModel):
    """One table's declared columns (a SQL port's `schema:`): `{table: sales.invoices, columns:
    {id: integer, amount: decimal}}`; a `schema.table` name is looked up in that schema."""

    model_config = ConfigDict(extra="forbid")
    table: str = Field(min_length=1)
    columns: dict[str, DeclaredType | None] = Field(min_length=1)  # None: any type

    @property
    def label(self) -> str:
        """How findings name the table: its own name, without the schema (`invoices`)."""
        return self.table.rpartition(".")[2]

    def split(self) -> tuple[str | None, str]:
        schema, _, table = self.table.rpartition(".")
        return schema or None, table


def _listed(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


TableSchemas = Annotated[list[TableSchema], BeforeValidator(_listed)]


class PayloadSchema(BaseModel):
    """A JSON payload's declared fields (an HTTP port's `schema:`): `{json_path: items, fields:
    {id: integer, customer.name: string}}`. `json_path` (optional) leads to the record or to an
    array of records; a field name may be a path inside the record (`a.b`)."""

    model_config = ConfigDict(extra="forbid")
    json_path: str | None = Field(default=None, min_length=1)
    fields: dict[str, DeclaredType | None] = Field(min_length=1)  # None: any type

    @field_validator("fields")
    @classmethod
    def _json_types(cls, fields: dict[str, str | None]) -> dict[str, str | None]:
        for name, declared in fields.items():
            if declared is not None and family_of(declared) is None:
                raise ValueError(f"{name}: {declared!r} is not a JSON type family (integer, number, "
                                 "string, boolean, date, timestamp, object, array)")
        return fields


def mismatch(label: str, declared: str | None, found: str | None) -> str:
    """One finding, as every output shows it: `invoices.amount: declared decimal, found text`,
    `invoices.updated_at: missing`."""
    return f"{label}: missing" if found is None else f"{label}: declared {declared}, found {found}"
