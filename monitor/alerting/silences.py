"""Silences: mute the notifications of a product (or some of its objectives) for a while.
`meshwatch silence` and the daemon's `/api/v1/silences` both make them here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine

from monitor.contracts.model import DataProduct
from monitor.store import silences as store
from monitor.values.text import iso_time


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


def target_problem(products: Mapping[str, DataProduct], product: str,
                   objectives: Sequence[str] = ()) -> str | None:
    """Why a silence of `product` (and `objectives`, none: all of it) cannot be made, or None:
    the product, and each objective, must be in the configuration."""
    known = products.get(product)
    if known is None:
        return f"no product {product!r} (products: {', '.join(sorted(products)) or 'none'})"
    names = [o.name for o in known.objectives]
    unknown = [name for name in objectives if name not in names]
    if unknown:
        return (f"{product} has no objective {unknown[0]!r} (objectives: "
                f"{', '.join(names) or 'none'})")
    return None


def add_silence(engine: Engine, product: str, objective: str | None, at: datetime,
                duration: timedelta, comment: str, created_by: str | None = None) -> Silence:
    [silence] = add_silences(engine, product, [objective], at, duration, comment, created_by)
    return silence


def add_silences(engine: Engine, product: str, objectives: Sequence[str | None], at: datetime,
                 duration: timedelta, comment: str, created_by: str | None = None
                 ) -> list[Silence]:
    """One silence per objective (None: the whole product) from `at` for `duration`, together."""
    if duration <= timedelta(0):
        raise ValueError("a silence needs a positive duration (e.g. --for 2h)")
    with engine.begin() as connection:
        ids = [store.insert_silence(connection, product, objective, at, at + duration, comment,
                                    created_by, at) for objective in objectives]
        silences = [_get(connection, silence_id) for silence_id in ids]
    assert None not in silences, "a silence reads back in the transaction that inserted it"
    return [s for s in silences if s is not None]


def expire_silence(engine: Engine, silence_id: int, at: datetime) -> Silence | None:
    """End a silence now; None when there is no such silence."""
    with engine.begin() as connection:
        store.end_silence(connection, silence_id, at)
        return _get(connection, silence_id)


def list_silences(connection: Connection, at: datetime,
                  expired_within: timedelta = timedelta(days=7)) -> list[Silence]:
    """Active and upcoming silences, and those that ended within `expired_within`."""
    return [Silence(**row) for row in store.silences_ending_after(connection, at - expired_within)]


def active_silences(connection: Connection, at: datetime) -> list[Silence]:
    return [Silence(**row) for row in store.active_silences(connection, at)]


def _get(connection: Connection, silence_id: int) -> Silence | None:
    row = store.silence_row(connection, silence_id)
    return Silence(**row) if row else None
