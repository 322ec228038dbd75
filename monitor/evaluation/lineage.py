"""Which upstream objectives are bad while an objective is evaluated: the probable cause.

An objective's upstream objectives are those of every product it reads from, transitively
(`contract.lineage.upstream`, see monitor.contracts.lineage). At an evaluation those that are
breached or at risk are listed beside it. Their status comes from the same round's evaluations;
an upstream product another worker evaluates (not in the round) is judged by its alerts in the
store instead: a pending or firing alert is `at_risk`, or `breached` when its measured budget
is spent. `since` is when that objective's active alert began (the alert's `since`), None when
no alert is active yet (the first round of a breach, before alerting has run).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from monitor.contracts.lineage import Lineage
from monitor.slo import Status
from monitor.store.alerts import alerts_of_products
from monitor.store.reads import has_alerts
from monitor.store.states import ACTIVE_STATES
from monitor.values.text import iso_time

BAD_STATUSES = (Status.BREACHED, Status.AT_RISK)
ObjectiveKey = tuple[str, str]  # (product id, objective name)


@dataclass(frozen=True)
class UpstreamObjective:
    """One bad objective upstream of another, at an evaluation."""

    product: str
    objective: str
    status: Status
    since: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {"product": self.product, "objective": self.objective,
                "status": self.status.value, "since": iso_time(self.since) if self.since else None}

    def describe(self) -> str:
        """`cart/events freshness breached` (and `since …` is the caller's, in its own clock)."""
        return f"{self.product} {self.objective} {self.status.value.replace('_', ' ')}"


def active_since(alerts: Iterable[Any]) -> dict[ObjectiveKey, datetime]:
    """When each objective's earliest active (pending or firing) alert began."""
    found: dict[ObjectiveKey, datetime] = {}
    active = {state.value for state in ACTIVE_STATES}
    for alert in alerts:
        if alert.state in active and alert.since is not None:
            key = (alert.product, alert.objective)
            found[key] = min(found.get(key, alert.since), alert.since)
    return found


def status_from_alerts(alerts: Iterable[Any]) -> dict[ObjectiveKey, Status]:
    """The status of objectives nobody evaluated this round, as their active alerts tell it."""
    found: dict[ObjectiveKey, Status] = {}
    active = {state.value for state in ACTIVE_STATES}
    for alert in alerts:
        if alert.state not in active:
            continue
        left = (alert.measured or {}).get("error_budget_remaining")
        status = Status.BREACHED if left is not None and left < 0 else Status.AT_RISK
        key = (alert.product, alert.objective)
        found[key] = Status.BREACHED if found.get(key) is Status.BREACHED else status
    return found


def upstream_objectives(lineage: Lineage, product: str, statuses: Mapping[ObjectiveKey, Status],
                        since: Mapping[ObjectiveKey, datetime]) -> tuple[UpstreamObjective, ...]:
    """The bad objectives upstream of `product`: nearest product first, then by objective."""
    ancestors = lineage.ancestors(product)
    order = {source: number for number, source in enumerate(ancestors)}
    bad = [(key, status) for key, status in statuses.items()
           if key[0] in order and status in BAD_STATUSES]
    bad.sort(key=lambda item: (order[item[0][0]], item[0][1]))
    return tuple(UpstreamObjective(p, o, status, since.get((p, o))) for (p, o), status in bad)


def upstream_in_round(connection: Connection, lineage: Lineage,
                      evaluated: Sequence[tuple[str, str, Status]]
                      ) -> dict[str, tuple[UpstreamObjective, ...]]:
    """For each product evaluated (`(product, objective, status)` of a round), its bad upstream
    objectives. Reads the alerts of the upstream products once."""
    products = {product for product, _, _ in evaluated}
    ancestors = {product: lineage.ancestors(product) for product in products}
    wanted = {source for sources in ancestors.values() for source in sources}
    if not wanted:
        return {}
    alerts = alerts_of_products(connection, wanted) if has_alerts(connection) else []
    in_round = {(p, o): status for p, o, status in evaluated}
    elsewhere = {key: status for key, status in status_from_alerts(alerts).items()
                 if key[0] not in products}
    statuses = {**elsewhere, **in_round}
    since = active_since(alerts)
    return {product: found for product in products
            if (found := upstream_objectives(lineage, product, statuses, since))}
