"""The one thing meshwatch writes differently per database: INSERT … ON CONFLICT."""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite


def dialect_insert(connection: Connection):
    """INSERT with ON CONFLICT for the connection's database (SQLite or PostgreSQL)."""
    return postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
