"""Durations as people write them in contracts: `5m`, `1h30m`, `300ms`, `4` + unit `d`, `PT1H`."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS: dict[str, timedelta] = {
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
    "y": timedelta(days=365),
}
_UNIT_ALIASES = {
    "msec": "ms", "millisecond": "ms", "milliseconds": "ms",
    "sec": "s", "second": "s", "seconds": "s",
    "min": "m", "minute": "m", "minutes": "m",
    "hr": "h", "hour": "h", "hours": "h",
    "day": "d", "days": "d",
    "week": "w", "weeks": "w",
    "yr": "y", "year": "y", "years": "y",
}
_COMPACT = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")
_ISO = re.compile(
    r"P(?:(?P<y>\d+(?:\.\d+)?)Y)?(?:(?P<mo>\d+(?:\.\d+)?)M)?(?:(?P<w>\d+(?:\.\d+)?)W)?"
    r"(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<mi>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?"
)


def unit_of(text: str) -> timedelta:
    """The length of one `unit` (`d`, `days`, `h`, …); ValueError for an unknown unit."""
    key = text.strip().lower()
    key = _UNIT_ALIASES.get(key, key)
    if key not in _UNITS:
        raise ValueError(f"unknown duration unit {text!r} (use ms, s, m, h, d, w or y)")
    return _UNITS[key]


def parse_duration(value: object, unit: str | None = None) -> timedelta:
    """Read a duration: `90s`, `1h30m`, `PT1H`, a timedelta, or a number with a separate unit."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        if unit is None:
            raise ValueError(f"{value!r} has no unit (write e.g. '{value}m')")
        return value * unit_of(unit)
    text = str(value).strip()
    if not text:
        raise ValueError("empty duration")
    if unit is not None and _is_number(text):
        return float(text) * unit_of(unit)
    if text.upper().startswith("P"):
        return _parse_iso(text.upper())
    return _parse_compact(text.lower())


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _parse_iso(text: str) -> timedelta:
    match = _ISO.fullmatch(text)
    if not match or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(f"{text!r} is not an ISO-8601 duration (e.g. PT1H, P1D)")
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    return timedelta(
        days=parts.get("y", 0) * 365 + parts.get("mo", 0) * 30 + parts.get("w", 0) * 7
        + parts.get("d", 0),
        hours=parts.get("h", 0),
        minutes=parts.get("mi", 0),
        seconds=parts.get("s", 0),
    )


def _parse_compact(text: str) -> timedelta:
    position, total = 0, timedelta(0)
    for match in _COMPACT.finditer(text):
        if text[position:match.start()].strip():
            break
        total += float(match.group(1)) * unit_of(match.group(2))
        position = match.end()
    if position == 0 or text[position:].strip():
        raise ValueError(f"{text!r} is not a duration (e.g. 300ms, 5m, 1h30m, 30d, PT1H)")
    return total


def format_duration(value: timedelta) -> str:
    """`5m`, `1h`, `3d`, `1h30m`, `250ms`: the shortest exact form in whole units."""
    milliseconds = round(value.total_seconds() * 1000)
    if milliseconds == 0:
        return "0s"
    if milliseconds % 1000:
        return f"{milliseconds}ms"
    seconds, parts = milliseconds // 1000, []
    for name, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{name}")
    return "".join(parts)


def human_duration(value: timedelta) -> str:
    """For people, rounded to its two largest units: `2m 27s`, `3h 20m`, `4d 2h`, `850ms`."""
    if value < timedelta(seconds=1):
        return f"{max(0, round(value.total_seconds() * 1000))}ms"
    seconds = round(value.total_seconds())
    parts: list[str] = []
    for name, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count or parts:
            parts.append(f"{count}{name}")
        if len(parts) == 2:
            break
    return " ".join(part for part in parts if not part.startswith("0")) or "0s"
