"""Push-style ports: a pipeline reports each run to meshwatch; the probe reads the last reports.

Available while the latest run succeeded and a success arrived within `interval + grace`;
the newest data is the time of the last successful run.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import Field
from sqlalchemy import Engine

from monitor.contracts.model import Port
from monitor.contracts.results import ErrorClass
from monitor.contracts.spec import Duration
from monitor.probes.base import Observation, Probe, ProbeFailure, ProbeOptions
from monitor.store.measurements import latest_heartbeats
from monitor.values.clock import Clock, utc_now
from monitor.values.durations import format_duration, human_duration


class HeartbeatOptions(ProbeOptions):
    token: str = Field(min_length=8, description="bearer token the pipeline sends (use ${ENV})")
    grace: Duration = timedelta(minutes=5)


class HeartbeatProbe(Probe):
    kind = "heartbeat"
    samples = False  # the pipeline reports each run
    Options = HeartbeatOptions
    options: HeartbeatOptions
    needs_store = True

    def __init__(self, product: str, port: Port, options: HeartbeatOptions,
                 clock: Clock = utc_now, *, engine: Engine):
        super().__init__(product, port, options, clock)
        self.engine = engine

    async def check(self) -> Observation:
        latest, success = await asyncio.to_thread(self._read)
        now = self.clock()
        if latest is None:
            raise ProbeFailure(ErrorClass.BAD_PAYLOAD, "no heartbeat received yet")
        seen = Observation(newest_data_at=success.received_at if success else None,
                           details={"run_id": latest.run_id})
        if not latest.success:
            raise ProbeFailure(ErrorClass.BAD_PAYLOAD,
                               f"the last run reported failure: {latest.message or 'no message'}",
                               seen)
        due = self.port.interval + self.options.grace
        if now - latest.received_at > due:
            raise ProbeFailure(ErrorClass.TIMEOUT,
                               f"no heartbeat for {human_duration(now - latest.received_at)} "
                               f"(expected every {format_duration(self.port.interval)} + "
                               f"{format_duration(self.options.grace)} grace)", seen)
        return seen

    def _read(self):
        with self.engine.connect() as connection:
            return latest_heartbeats(connection, self.product, self.port.name)
