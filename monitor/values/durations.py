"""Durations as people write them in contracts: `5m`, `1h30m`, `300ms`, `4` + unit `d`, `PT1H`;
and windows, which may also be calendar periods: `month`, `1M`, `P1M`, `quarter`, `week`.

A month is never a minute and never a fixed duration: `1m` is a minute, `1M` (capital) and ISO
`P1M` are a month, which only a window can be (a calendar month); as a plain duration (a
threshold, an interval, a timeout) a month unit is refused with a message saying what to write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from monitor.values.calendar import PERIOD_OF_MONTHS, CalendarPeriod

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
MONTH_UNIT = "M"  # compact and ISO alike; only the capital letter: `m` is a minute
_MONTH_WORDS = {"mo", "month", "months"}
_COMPACT = re.compile(r"(\d+(?:\.\d+)?)\s*([A-Za-z]+)")
_ISO = re.compile(
    r"P(?:(?P<y>\d+(?:\.\d+)?)Y)?(?:(?P<mo>\d+(?:\.\d+)?)M)?(?:(?P<w>\d+(?:\.\d+)?)W)?"
    r"(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<mi>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?"
)


MAX_DURATION = timedelta(days=36500)  # 100 years: any later or earlier time stays a datetime
_MICROSECONDS = Decimal(1_000_000)


class MonthIsNoDuration(ValueError):
    """A month unit (`1M`, `P1M`, unit `months`) where a fixed duration is needed."""

    def __init__(self, shown: str) -> None:
        super().__init__(f"{shown!r} is a month, and a month is not a fixed duration: write days "
                         f"(e.g. 30d), or 1m for a minute; a calendar month is a window "
                         f"(window: month)")


def is_month_unit(text: str) -> bool:
    """`M` (capital) or a month word (`month`, `months`, `mo`): never a minute."""
    key = text.strip()
    return key == MONTH_UNIT or key.lower() in _MONTH_WORDS


def unit_of(text: str) -> timedelta:
    """The length of one `unit` (`d`, `days`, `h`, …); ValueError for an unknown unit, and
    `MonthIsNoDuration` for a month (`M`, `months`): a month has no fixed length."""
    if not isinstance(text, str):
        raise ValueError(f"unknown duration unit {text!r} (use ms, s, m, h, d, w or y)")
    if is_month_unit(text):
        raise MonthIsNoDuration(text)
    key = text.strip().lower()
    key = _UNIT_ALIASES.get(key, key)
    if key not in _UNITS:
        raise ValueError(f"unknown duration unit {text!r} (use ms, s, m, h, d, w or y)")
    return _UNITS[key]


def parse_duration(value: object, unit: str | None = None) -> timedelta:
    """Read a duration: `90s`, `1h30m`, `PT1H`, a timedelta, or a number with a separate unit.

    Raises ValueError, and only ValueError, for anything else: text that is no duration, a unit
    that is not one, a month (`1M`, `P1M`: no fixed length), a negative count, NaN or infinity,
    more than MAX_DURATION."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    try:
        return _read_duration(value, unit)
    except MonthIsNoDuration:
        shown = f"{value}" if unit is None or not _is_number(str(value)) else f"{value} {unit}"
        raise MonthIsNoDuration(_shown(shown.strip())) from None


def _read_duration(value: object, unit: str | None) -> timedelta:
    if isinstance(value, int | float):
        if unit is None:
            raise ValueError(f"{value!r} has no unit (write e.g. '{value}m')")
        return _sum([(_count(value, value), unit_of(unit))], f"{value} {unit}")
    text = str(value).strip()
    if not text:
        raise ValueError("empty duration")
    if unit is not None and _is_number(text):
        return _sum([(_count(text, value), unit_of(unit))], f"{text} {unit}")
    if text.upper().startswith("P"):
        return _parse_iso(text.upper())
    return _parse_compact(text)


@dataclass(frozen=True)
class Window:
    """An objective's window: rolling `length`, or the calendar period `calendar`, whose nominal
    length is `length` (a month: 30 days) — the length its burn-rate windows are scaled from."""

    length: timedelta
    calendar: CalendarPeriod | None = None

    @classmethod
    def of(cls, period: CalendarPeriod) -> Window:
        return cls(period.nominal, period)


def parse_window(value: object) -> Window:
    """Read a window: a duration (`30d`, `PT12H`, `1w`: rolling), a calendar word (`month`,
    `week`, `quarter`), or months: `1M` / `P1M` a calendar month, `3M` / `P3M` a quarter.

    `7d`, `1w` and `P1W` stay rolling 7 days: only the words and month units are calendar
    periods. ValueError, and only ValueError, for anything else (`2M`, `P1M2D`, …)."""
    if isinstance(value, Window):
        return value
    if isinstance(value, str):
        text = value.strip()
        for period in CalendarPeriod:
            if text.lower() == period.value:
                return Window.of(period)
        months = _months_only(text)
        if months is not None:
            if months not in PERIOD_OF_MONTHS:
                raise ValueError(f"{_shown(text)!r}: a window of months is a calendar month (1M, "
                                 f"P1M, month) or a quarter (3M, P3M, quarter)")
            return Window.of(PERIOD_OF_MONTHS[months])
    try:
        return Window(parse_duration(value))
    except MonthIsNoDuration:
        raise ValueError(f"{_shown(value)!r} mixes months with other units: a window is a calendar "
                         f"month (1M, month), a quarter (3M, quarter), a week (week) or a "
                         f"duration (30d)") from None


def _months_only(text: str) -> int | None:
    """`1M`, `3 M`, `P1M`, `P3M`, `1 month`: the whole number of months; None for anything else."""
    match = (re.fullmatch(r"P(\d+)M", text.upper()) if text.upper().startswith("P")
             else re.fullmatch(r"(\d+)\s*M", text) or re.fullmatch(r"(\d+)\s*(?:months?|mo)", text,
                                                                 re.IGNORECASE))
    return None if match is None else int(match.group(1))


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return True


def _count(number: object, shown: object) -> Decimal:
    """`number` (an int, a float or digits) as an exact count of units: finite and not negative."""
    try:
        count = Decimal(number) if isinstance(number, int | float) else Decimal(str(number))
    except InvalidOperation:
        raise ValueError(f"{_shown(shown)!r} is not a duration") from None
    if not count.is_finite():
        raise ValueError(f"{_shown(shown)!r} is not a duration (a finite number is needed)")
    if count < 0:
        raise ValueError(f"duration {_shown(shown)} is negative")
    return count


def _sum(parts: list[tuple[Decimal, timedelta]], shown: str) -> timedelta:
    """The sum of `count × unit`, computed exactly; ValueError when it passes MAX_DURATION."""
    most = MAX_DURATION // timedelta(microseconds=1)
    microseconds = Decimal(0)
    for count, unit in parts:
        if count.adjusted() > 30:  # beyond any limit, and beyond what Decimal multiplies
            microseconds = Decimal(most + 1)
            break
        microseconds += count * (unit // timedelta(microseconds=1))
    if microseconds > most:
        raise ValueError(f"duration {_shown(shown)} is too long (at most "
                         f"{format_duration(MAX_DURATION)}, 100 years)")
    return timedelta(microseconds=int(microseconds.to_integral_value()))


def _shown(value: object) -> str:
    text = str(value)
    return text if len(text) <= 40 else f"{text[:40]}… ({len(text)} characters)"


def _parse_iso(text: str) -> timedelta:
    match = _ISO.fullmatch(text)
    if not match or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(f"{_shown(text)!r} is not an ISO-8601 duration (e.g. PT1H, P1D)")
    if match.group("mo"):  # P1M: a month (PT1M is a minute)
        raise MonthIsNoDuration(text)
    sizes = {"y": _UNITS["y"], "w": _UNITS["w"], "d": _UNITS["d"],
             "h": _UNITS["h"], "mi": _UNITS["m"], "s": _UNITS["s"]}
    return _sum([(Decimal(v), sizes[k]) for k, v in match.groupdict().items() if v], text)


def _parse_compact(text: str) -> timedelta:
    """`1h30m`, `5 min`; units are read in any case (`5M` is a month: `M` is the one exception)."""
    position, parts = 0, []
    for match in _COMPACT.finditer(text):
        if text[position:match.start()].strip():
            break
        parts.append((Decimal(match.group(1)), unit_of(match.group(2))))
        position = match.end()
    if position == 0 or text[position:].strip():
        raise ValueError(f"{_shown(text)!r} is not a duration (e.g. 300ms, 5m, 1h30m, 30d, PT1H)")
    return _sum(parts, text)


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
