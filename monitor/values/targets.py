"""Loosely typed contract values made exact: targets like `99.9`, `"99.9%"`, `0.999`."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

PERCENT_UNITS = {"%", "percent", "pct"}


def parse_target(value: object, unit: str | None = None) -> Decimal:
    """A target as an exact fraction in (0, 1): `99.9`, `"99.9%"`, `99.9` + unit `percent`, `0.999`.

    Raises ValueError, and only ValueError, for anything else (NaN and infinity included)."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{value!r} is not a percentage")
    text = str(value).strip().lower()
    if unit is not None and not isinstance(unit, str):
        raise ValueError(f"unit {unit!r} is not a percentage unit (use % or percent)")
    percent = unit is not None and unit.strip().lower() in PERCENT_UNITS
    if unit is not None and not percent:
        raise ValueError(f"unit {unit!r} is not a percentage unit (use % or percent)")
    if text.endswith("%"):
        text, percent = text[:-1].strip(), True
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{_shown(value)} is not a percentage (e.g. 99.9%)") from None
    if not number.is_finite():
        raise ValueError(f"target must be a number between 0 and 100, not {_shown(value)}")
    if not -12 <= number.adjusted() <= 3:  # ≥ 1000, or a zero with a dozen places: out of range
        raise ValueError(f"{_shown(value)} must be above 0 % and below 100 %")
    fraction = number / 100 if percent or number > 1 else number
    if not Decimal(0) < fraction < Decimal(1):
        raise ValueError(f"{_shown(value)} must be above 0 % and below 100 %")
    return fraction


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:40]}… ({len(text)} characters)"


def format_target(target: Decimal) -> str:
    """`0.999` → `99.9%`."""
    return f"{(target * 100).normalize():f}%"
