"""What the daemon knows of its own health: rounds, probe runs, scheduling lag, refused reloads."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class SkipReason(StrEnum):
    """Why a scheduled run of a port was not made (or its result not kept): always the daemon's
    own trouble, recorded as a skipped run and never as an event of the product."""

    BEHIND = "behind"  # the run came due while the daemon was too far behind to start it on time
    STILL_RUNNING = "still_running"  # the port's previous run had not finished
    BUSY = "busy"  # max_in_flight probes kept running until the run was past its grace
    WRITES_BEHIND = "writes_behind"  # over WRITE_BACKLOG results were waiting for the store
    OVERLOADED = "overloaded"  # it timed out while the daemon's own event loop was stalled


@dataclass
class Health:
    started_at: datetime
    rounds: int = 0
    last_round_at: datetime | None = None
    last_round_seconds: float | None = None
    probes_run: int = 0
    skipped: Counter[SkipReason] = field(default_factory=Counter)
    last_skipped_at: datetime | None = None
    lag_seconds: deque[float] = field(default_factory=lambda: deque(maxlen=2000))  # recent lags
    lags_recorded: int = 0  # every lag ever recorded, so observers can tell which ones are new

    def record_lag(self, seconds: float) -> None:
        self.lag_seconds.append(seconds)
        self.lags_recorded += 1

    @property
    def missed_runs(self) -> int:
        """Scheduled runs skipped, for any SkipReason."""
        return sum(self.skipped.values())

    def record_skip(self, reason: SkipReason, runs: int = 1) -> None:
        self.skipped[reason] += runs


@dataclass(frozen=True)
class Refusal:
    """A configuration change the daemon did not take: when, and the problems that stopped it."""

    at: datetime
    problems: tuple[str, ...]

    def as_json(self) -> dict:
        return {"at": self.at.isoformat(), "problems": list(self.problems)}
