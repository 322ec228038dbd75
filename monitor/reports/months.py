"""Calendar months in a time zone: the unit of a governance report."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from monitor.values.limits import YEARS


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        match = re.fullmatch(r"(\d{4})-(\d{1,2})", text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ValueError(f"{text!r} is not a month (write YYYY-MM, e.g. 2026-10)")
        if not YEARS[0] <= int(match.group(1)) <= YEARS[1]:
            raise ValueError(f"{text!r} is outside the years meshwatch reports ({YEARS[0]}-{YEARS[1]})")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, at: datetime, zone: ZoneInfo) -> Month:
        local = at.astimezone(zone)
        return cls(local.year, local.month)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) of the month in `zone`, as aware UTC times."""
        following = self.next()
        return (datetime(self.year, self.month, 1, tzinfo=zone).astimezone(UTC),
                datetime(following.year, following.month, 1, tzinfo=zone).astimezone(UTC))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def recent_months(at: datetime, zone: ZoneInfo, count: int = 12) -> list[Month]:
    """The month of `at` and the `count - 1` before it, newest first."""
    months = [Month.containing(at, zone)]
    while len(months) < count:
        months.append(months[-1].previous())
    return months
