"""The store's tables. Time-series counts are kept per minute and per hour (see rollups.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from monitor.store.types import UtcDateTime


class Series(SQLModel, table=True):
    """One objective's event series."""

    __tablename__ = "series"
    __table_args__ = (UniqueConstraint("product", "objective", name="uq_series_objective"),)
    id: int | None = Field(default=None, primary_key=True)
    product: str = Field(max_length=200)
    objective: str = Field(max_length=200)
    last_event_minute: int | None = Field(default=None, sa_column=Column(BigInteger))


class EventMinute(SQLModel, table=True):
    __tablename__ = "event_minute"
    __table_args__ = {"sqlite_with_rowid": False}
    series_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    minute: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    good: int = Field(sa_column=Column(BigInteger, nullable=False))
    total: int = Field(sa_column=Column(BigInteger, nullable=False))


class EventHour(SQLModel, table=True):
    __tablename__ = "event_hour"
    __table_args__ = {"sqlite_with_rowid": False}
    series_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    hour: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    good: int = Field(sa_column=Column(BigInteger, nullable=False))
    total: int = Field(sa_column=Column(BigInteger, nullable=False))


class ProbeRecord(SQLModel, table=True):
    """One probe result, as measured (for charts, the latest state of a port, freshness age)."""

    __tablename__ = "probe_result"
    __table_args__ = (Index("ix_probe_result_port_time", "product", "port", "started_at"),)
    id: int | None = Field(default=None, primary_key=True)
    product: str = Field(max_length=200)
    port: str = Field(max_length=200)
    kind: str = Field(max_length=40)
    started_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    ok: bool
    latency_ms: float | None = None
    newest_data_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))
    total: int | None = Field(default=None, sa_column=Column(BigInteger))
    failed: int | None = Field(default=None, sa_column=Column(BigInteger))
    error_class: str | None = Field(default=None, max_length=40)
    error: str | None = Field(default=None, sa_column=Column(Text))
    details: dict | None = Field(default=None, sa_column=Column(JSON))


class HeartbeatRecord(SQLModel, table=True):
    """A pipeline's report of one run, received on the heartbeat endpoint."""

    __tablename__ = "heartbeat"
    __table_args__ = (Index("ix_heartbeat_port_time", "product", "port", "received_at"),)
    id: int | None = Field(default=None, primary_key=True)
    product: str = Field(max_length=200)
    port: str = Field(max_length=200)
    received_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    success: bool
    run_id: str | None = Field(default=None, max_length=200)
    message: str | None = Field(default=None, sa_column=Column(Text))


class PortState(SQLModel, table=True):
    """The latest known state of each port: one row per port, updated with every result."""

    __tablename__ = "port_state"
    product: str = Field(primary_key=True, max_length=200)
    port: str = Field(primary_key=True, max_length=200)
    kind: str = Field(max_length=40)
    last_started_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    ok: bool
    latency_ms: float | None = None
    newest_data_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))
    error_class: str | None = Field(default=None, max_length=40)
    error: str | None = Field(default=None, sa_column=Column(Text))
    failing_since: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))
