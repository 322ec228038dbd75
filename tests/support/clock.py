"""A clock the tests move by hand, injected wherever meshwatch asks for the time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    """A clock tests move by hand: `clock()` reads it, `clock.advance(...)` moves it."""

    def __init__(self, start: datetime = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta = timedelta(minutes=1)) -> datetime:
        self.now += delta
        return self.now
