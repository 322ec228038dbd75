"""How meshwatch writes times and fractions for people and documents: one home for each format."""

from __future__ import annotations

from datetime import UTC, datetime

MISSING = "—"


def iso_time(at: datetime) -> str:
    """An aware time as ISO 8601 in UTC with a `Z`, as every JSON output and payload writes it."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def iso_time_or_none(at: datetime | None) -> str | None:
    return None if at is None else iso_time(at)


def percent(fraction: float | None, digits: int = 3) -> str:
    """A fraction (0.9991) as a percentage with `digits` decimals ("99.910%"); `—` when unknown."""
    return MISSING if fraction is None else f"{fraction * 100:.{digits}f}%"
