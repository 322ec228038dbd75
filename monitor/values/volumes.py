"""Volumes as people write them in contracts: `1000`, `"1,000"`, `1.5k`, `10GB`, `2 GiB`,
`5000 rows`; and the units a port counts them in (`VolumeUnit`).

An amount is a whole number of what the port counts. A byte unit (`kB`, `MB`, `GB`, `TB` in
powers of 1000; `KiB`, `MiB`, `GiB`, `TiB` in powers of 1024) or a counted word (`rows`, `blobs`,
`items`) says what it counts, so a configuration that compares bytes with rows can be refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum


class VolumeUnit(StrEnum):
    """What a port's volume counts."""

    ROWS = "rows"
    BYTES = "bytes"
    BLOBS = "blobs"
    ITEMS = "items"


_BYTES = {"b": 1, "byte": 1, "bytes": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "pb": 10**15, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40, "pib": 2**50}
_COUNTS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}  # `1.5k` rows; `M`/`m` is a million here
_WORDS = {"row": VolumeUnit.ROWS, "rows": VolumeUnit.ROWS, "blob": VolumeUnit.BLOBS,
          "blobs": VolumeUnit.BLOBS, "item": VolumeUnit.ITEMS, "items": VolumeUnit.ITEMS,
          "record": VolumeUnit.ROWS, "records": VolumeUnit.ROWS}
_AMOUNT = re.compile(r"^\s*(\d[\d,_ ]*(?:\.\d+)?)\s*([A-Za-z]*)\s*([A-Za-z]*)\s*$")
MAX_AMOUNT = 10**18  # fits the store's BIGINT and every count a source reports


@dataclass(frozen=True)
class Amount:
    """A volume: `value` of `unit`; `unit` None when written as a bare number (the port's own)."""

    value: int
    unit: VolumeUnit | None = None


def parse_amount(value: object) -> Amount:
    """An amount from a number or text; ValueError, and only ValueError, saying what to write."""
    if isinstance(value, Amount):
        return value
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{value!r} is not a volume (e.g. 1000, 1.5k rows, 10GB)")
    if isinstance(value, int):
        return Amount(_bounded(Decimal(value), value))
    match = _AMOUNT.match(str(value)) if isinstance(value, (str, float)) else None
    if match is None:
        raise ValueError(f"{_shown(value)} is not a volume (e.g. 1000, 1.5k rows, 10GB)")
    digits, first, second = match.groups()
    try:
        number = Decimal(digits.replace(",", "").replace("_", "").replace(" ", ""))
    except InvalidOperation:
        raise ValueError(f"{_shown(value)} is not a volume (e.g. 1000, 1.5k rows, 10GB)") from None
    scale, unit = _unit(first, second, value)
    return Amount(_bounded(number * scale, value), unit)


def _unit(first: str, second: str, shown: object) -> tuple[int, VolumeUnit | None]:
    lower, word = first.lower(), second.lower()
    if lower in _BYTES and not word:
        return _BYTES[lower], VolumeUnit.BYTES
    if lower in _COUNTS and (not word or word in _WORDS):
        return _COUNTS[lower], _WORDS.get(word)
    if lower in _WORDS and not word:
        return 1, _WORDS[lower]
    raise ValueError(f"{_shown(shown)}: unknown unit (use a count such as 1000 or 1.5k rows, or "
                     f"bytes: kB, MB, GB, TB, KiB, MiB, GiB, TiB)")


def _bounded(number: Decimal, shown: object) -> int:
    if number != number.to_integral_value():
        raise ValueError(f"{_shown(shown)} is not a whole number of rows, items or bytes")
    if not 0 <= number <= MAX_AMOUNT:
        raise ValueError(f"{_shown(shown)} must be between 0 and {MAX_AMOUNT:,}")
    return int(number)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:40]}… ({len(text)} characters)"


def format_amount(value: int, unit: VolumeUnit | None) -> str:
    """`1,000 rows`, `10 GB` (bytes in powers of 1000, three significant digits), `12 items`."""
    if unit is VolumeUnit.BYTES:
        for suffix, size in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
            if value >= size:
                return f"{value / size:.3g} {suffix}"
        return f"{value} B"
    return f"{value:,}" + (f" {unit.value}" if unit else "")
