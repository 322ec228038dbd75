"""Silences: mute the notifications of a product (or one of its objectives) for a while."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, insert, select, update

from monitor.store.tables import SilenceRecord
from monitor.values.text import iso_time

TABLE = SilenceRecord.__table__


@dataclass(frozen=True)
class Silence:
    id: int
    product: str
    objective: str | None
    starts_at: datetime
    ends_at: datetime
    comment: str
    created_by: str | None
    created_at: datetime

    def covers(self, product: str, objective: str, at: datetime) -> bool:
        return (self.product == product and self.objective in (None, objective)
                and self.starts_at <= at < self.ends_at)

    def active(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at

    def as_json(self, at: datetime) -> dict:
        return {"id": self.id, "product": self.product, "objective": self.objective,
                "starts_at": iso_time(self.starts_at), "ends_at": iso_time(self.ends_at),
                "comment": self.comment, "created_by": self.created_by,
                "active": self.active(at)}


def add_silence(engine: Engine, product: str, objective: str | None, at: datetime,
                duration: timedelta, comment: str, created_by: str | None = None) -> Silence:
    if duration <= timedelta(0):
        raise ValueError("a silence needs a positive duration (e.g. --for 2h)")
    with engine.begin() as connection:
        silence_id = connection.execute(insert(TABLE).values(
            product=product, objective=objective, starts_at=at, ends_at=at + duration,
            comment=comment, created_by=created_by, created_at=at).returning(TABLE.c.id)).scalar_one()
        return _get(connection, silence_id)


def expire_silence(engine: Engine, silence_id: int, at: datetime) -> Silence | None:
    """End a silence now; None when there is no such silence."""
    with engine.begin() as connection:
        connection.execute(update(TABLE).where(TABLE.c.id == silence_id, TABLE.c.ends_at > at)
                           .values(ends_at=at))
        return _get(connection, silence_id)


def list_silences(connection: Connection, at: datetime,
                  expired_within: timedelta = timedelta(days=7)) -> list[Silence]:
    """Active and upcoming silences, and those that ended within `expired_within`."""
    query = (select(TABLE).where(TABLE.c.ends_at > at - expired_within)
             .order_by(TABLE.c.ends_at.desc(), TABLE.c.id))
    return [Silence(**row._mapping) for row in connection.execute(query)]


def active_silences(connection: Connection, at: datetime) -> list[Silence]:
    query = select(TABLE).where(TABLE.c.starts_at <= at, TABLE.c.ends_at > at)
    return [Silence(**row._mapping) for row in connection.execute(query)]


def _get(connection: Connection, silence_id: int) -> Silence | None:
    row = connection.execute(select(TABLE).where(TABLE.c.id == silence_id)).first()
    return Silence(**row._mapping) if row else None
