"""What the daemon knows of its own health: rounds, probe runs, scheduling lag, refused reloads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Health:
    started_at: datetime
    rounds: int = 0
    last_round_at: datetime | None = None
    last_round_seconds: float | None = None
    probes_run: int = 0
    missed_runs: int = 0  # probe runs skipped: the previous run of the port was still going
    lag_seconds: list[float] = field(default_factory=list)  # recent scheduling lags
    lags_recorded: int = 0  # every lag ever recorded, so observers can tell which ones are new

    def record_lag(self, seconds: float) -> None:
        self.lag_seconds.append(seconds)
        self.lags_recorded += 1
        del self.lag_seconds[:-2000]


@dataclass(frozen=True)
class Refusal:
    """A configuration change the daemon did not take: when, and the problems that stopped it."""

    at: datetime
    problems: tuple[str, ...]

    def as_json(self) -> dict:
        return {"at": self.at.isoformat(), "problems": list(self.problems)}
