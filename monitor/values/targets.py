"""Loosely typed contract values made exact: targets like `99.9`, `"99.9%"`, `0.999`."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

PERCENT_UNITS = {"%", "percent", "pct"}


def parse_target(value: object, unit: str | None = None) -> Decimal:
    """A target as an exact fraction in (0, 1): `99.9`, `"99.9%"`, `99.9` + unit `percent`, `0.999`."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{value!r} is not a percentage")
    text = str(value).strip().lower()
    percent = unit is not None and unit.strip().lower() in PERCENT_UNITS
    if unit is not None and not percent:
        raise ValueError(f"unit {unit!r} is not a percentage unit (use % or percent)")
    if text.endswith("%"):
        text, percent = text[:-1].strip(), True
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a percentage (e.g. 99.9%)") from None
    fraction = number / 100 if percent or number > 1 else number
    if not Decimal(0) < fraction < Decimal(1):
        raise ValueError(f"{value!r} must be above 0 % and below 100 %")
    return fraction


def format_target(target: Decimal) -> str:
    """`0.999` → `99.9%`."""
    return f"{(target * 100).normalize():f}%"
