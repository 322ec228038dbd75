"""`meshwatch check`: probe every port once, store the results, evaluate — for CI gates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from monitor.config.loading import Config
from monitor.contracts.results import ProbeResult
from monitor.daemon.buffer import MeasurementBuffer
from monitor.daemon.scheduler import Daemon
from monitor.evaluation.mesh import ObjectiveEvaluation
from monitor.store import StoreUnavailable
from monitor.values.secrets import remember_inside, safe_text


class ResultsNotStored(StoreUnavailable):
    """The check measured, but the store did not take every result: the check fails (exit 3),
    and what was measured and evaluated is still carried here to be shown."""

    def __init__(self, message: str, results: list[ProbeResult],
                 reports: list[ObjectiveEvaluation], at: datetime):
        super().__init__(message)
        self.results, self.reports, self.at = results, reports, at


async def check_once(config: Config, engine: Engine, probe_context: dict[str, dict] | None = None
                     ) -> tuple[list[ProbeResult], list[ObjectiveEvaluation], datetime]:
    """Probe every port once, write the results, evaluate. ResultsNotStored when any result
    could not be written."""
    remember_inside(config.settings.database_url)  # a store's error never shows its password
    daemon = Daemon(config, engine, probe_context=probe_context)
    daemon._apply(config)
    try:
        results = await daemon.measure_all()
        reports = await daemon.evaluate_round()  # writes what is buffered first
    finally:
        for probe in daemon.probes.values():
            await probe.close()
    at = daemon.health.last_round_at or daemon.clock()
    problem = not_stored(daemon.buffer, len(results))
    if problem is not None:
        raise ResultsNotStored(problem, results, reports, at)
    return results, reports, at


def not_stored(buffer: MeasurementBuffer, measured: int) -> str | None:
    """How many of the `measured` results the buffer could not write, and why; None when all
    were written."""
    missing = len(buffer) + len(buffer.quarantine) + buffer.rejected + buffer.dropped
    if not missing:
        return None
    reasons = [buffer.last_error] if buffer.last_error else []
    reasons += [q.error for q in buffer.quarantine] + [buffer.last_rejection or ""]
    distinct = list(dict.fromkeys(reason for reason in reasons if reason))
    why = "; ".join(distinct[:3]) + (f" (and {len(distinct) - 3} more)" if len(distinct) > 3 else "")
    return safe_text(f"{missing} of {measured} result(s) not stored: {why or 'unknown'}")


def probe_json(result: ProbeResult) -> dict:
    return {"product": result.product, "port": result.port, "ok": result.ok,
            "latency_ms": None if result.latency_ms is None else round(result.latency_ms, 3),
            "newest_data_at": result.newest_data_at.isoformat() if result.newest_data_at else None,
            "error_class": str(result.error_class) if result.error_class else None,
            "error": result.error, "schema_mismatch": result.details.get("schema_mismatch")}
