"""Turn one probe result into the indicator events of the objectives that watch its port. Pure.

- availability: one event per probe; good when the port answered without error.
- latency: one event per successful probe; good when latency <= threshold.
- freshness: one event per probe interval (time slice); good when the data's age <= threshold;
  with a delivery schedule, when its age at the latest deadline <= threshold
  (monitor.slo.schedule), on the clock of the objective's time zone, else `timezone`.
  A failed probe that still knows the newest data (a heartbeat's last success) counts; one that
  knows nothing says nothing: no event (availability counts the failure, and a port that stays
  silent raises the no-data condition).
- error_rate: the requests the source counted (total, failed); a port that counts nothing feeds
  it from its own outcome, one event per probe.
- volume: one event per probe (a time slice, as freshness); good when what the port received in
  its `per` (rows, bytes, blobs, items) lies within the objective's min and max. A probe that
  failed, or could not count (a listing cut short), says nothing: no event.
"""

from __future__ import annotations

from datetime import timedelta

from monitor.contracts.model import DataProduct, Indicator, Objective
from monitor.contracts.results import ProbeResult
from monitor.slo import on_time
from monitor.store.events import Event


def objectives_of_port(product: DataProduct, port: str) -> list[Objective]:
    return [o for o in product.objectives if o.port in (None, port)]


def events_from_result(product: DataProduct, result: ProbeResult, timezone: str = "UTC"
                       ) -> list[Event]:
    """`timezone`: the clock of delivery schedules whose objective names no zone (the
    settings' `timezone`, as evaluate_mesh is given)."""
    events = []
    for objective in objectives_of_port(product, result.port):
        counted = _count(objective, result, timezone)
        if counted is not None:
            good, total = counted
            events.append(Event(product.id, objective.name, result.started_at, good, total))
    return events


def _count(objective: Objective, result: ProbeResult, timezone: str) -> tuple[int, int] | None:
    match objective.indicator:
        case Indicator.AVAILABILITY:
            return int(result.ok), 1
        case Indicator.LATENCY:
            if not result.ok or result.latency is None:
                return None
            return int(result.latency <= _threshold(objective)), 1
        case Indicator.FRESHNESS:
            age = result.data_age
            if age is not None and objective.schedule is not None:
                assert result.newest_data_at is not None  # it has an age
                return int(on_time(result.newest_data_at, result.started_at, _threshold(objective),
                                   objective.schedule, objective.timezone or timezone)), 1
            if age is not None:
                return int(age <= _threshold(objective)), 1
            return (0, 1) if result.ok else None  # reachable but holding no data: stale
        case Indicator.ERROR_RATE:
            if result.ok and result.total is not None:
                failed = min(result.failed or 0, result.total)
                return result.total - failed, result.total
            return int(result.ok), 1
        case Indicator.VOLUME:
            if not result.ok or result.volume is None:
                return None
            return int(within(result.volume.amount, objective)), 1
    return None


def within(amount: int, objective: Objective) -> bool:
    """A volume inside a volume objective's bounds (each inclusive, either absent)."""
    low, high = objective.minimum, objective.maximum
    return (low is None or amount >= low.value) and (high is None or amount <= high.value)


def _threshold(objective: Objective) -> timedelta:
    # a latency or freshness objective always has one: ObjectiveSpec and the standards' loaders set it
    assert objective.threshold is not None, f"objective {objective.name} has no threshold"
    return objective.threshold
