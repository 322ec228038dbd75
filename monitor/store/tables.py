"""The store's tables. Time-series counts are kept per minute and per hour (see rollups.py)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel


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
