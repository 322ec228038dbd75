"""Read the newest-data timestamp a port reports, in whatever shape it comes: always aware UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from email.utils import parsedate_to_datetime


def as_utc(value: object) -> datetime:
    """A datetime, date, ISO-8601 or HTTP-date string, or epoch seconds → aware UTC datetime.

    Naive values are taken as UTC. Raises ValueError for anything else (None included).
    """
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return _from_epoch(float(value))
    if isinstance(value, str) and value.strip():
        return _from_text(value.strip())
    raise ValueError(f"not a timestamp: {_shown(value)}")


def _from_text(text: str) -> datetime:
    try:
        return _utc(datetime.fromisoformat(text))
    except ValueError:
        pass
    try:
        return _from_epoch(float(text))
    except ValueError:
        pass
    try:
        return _utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        raise ValueError(f"not a timestamp: {_shown(text)}") from None


def _from_epoch(seconds: float) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"epoch seconds out of range: {seconds:g}") from None


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
