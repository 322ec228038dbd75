"""`meshwatch check`: probe every port once, store the results, evaluate — for CI gates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from monitor.config.loading import Config
from monitor.contracts.results import ProbeResult
from monitor.daemon.scheduler import Daemon
from monitor.evaluation.mesh import ObjectiveEvaluation


async def check_once(config: Config, engine: Engine, probe_context: dict[str, dict] | None = None
                     ) -> tuple[list[ProbeResult], list[ObjectiveEvaluation], datetime]:
    daemon = Daemon(config, engine, probe_context=probe_context)
    daemon._apply(config)
    try:
        results = await daemon.measure_all()
        reports = await daemon.evaluate_round()
    finally:
        for probe in daemon.probes.values():
            await probe.close()
    return results, reports, daemon.health.last_round_at or daemon.clock()


def probe_json(result: ProbeResult) -> dict:
    return {"product": result.product, "port": result.port, "ok": result.ok,
            "latency_ms": None if result.latency_ms is None else round(result.latency_ms, 3),
            "newest_data_at": result.newest_data_at.isoformat() if result.newest_data_at else None,
            "error_class": str(result.error_class) if result.error_class else None,
            "error": result.error}
