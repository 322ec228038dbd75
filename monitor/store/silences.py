"""The silence table: add, end and read silences (monitor.alerting.silences gives them meaning)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, RowMapping, insert, select, update

from monitor.store.tables import SilenceRecord, core_table

SILENCE = core_table(SilenceRecord)


def insert_silence(connection: Connection, product: str, objective: str | None, starts_at: datetime,
                   ends_at: datetime, comment: str, created_by: str | None, created_at: datetime
                   ) -> int:
    """Add a silence; returns its id."""
    return connection.execute(insert(SILENCE).values(
        product=product, objective=objective, starts_at=starts_at, ends_at=ends_at,
        comment=comment, created_by=created_by, created_at=created_at
    ).returning(SILENCE.c.id)).scalar_one()


def end_silence(connection: Connection, silence_id: int, at: datetime) -> None:
    """Let a silence end at `at`, unless it has ended by then."""
    connection.execute(update(SILENCE).where(SILENCE.c.id == silence_id, SILENCE.c.ends_at > at)
                       .values(ends_at=at))


def silence_row(connection: Connection, silence_id: int) -> RowMapping | None:
    return connection.execute(select(SILENCE).where(SILENCE.c.id == silence_id)).mappings().first()


def silences_ending_after(connection: Connection, after: datetime) -> list[RowMapping]:
    """Silences that end after `after`, the latest to end first."""
    query = (select(SILENCE).where(SILENCE.c.ends_at > after)
             .order_by(SILENCE.c.ends_at.desc(), SILENCE.c.id))
    return list(connection.execute(query).mappings())


def active_silences(connection: Connection, at: datetime) -> list[RowMapping]:
    query = select(SILENCE).where(SILENCE.c.starts_at <= at, SILENCE.c.ends_at > at)
    return list(connection.execute(query).mappings())
