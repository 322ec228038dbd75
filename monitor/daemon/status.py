"""What the daemon's HTTP API says of the mesh: each product's objectives as last evaluated, for
badges and `GET /api/v1/status` (docs/api.md).

Any worker may answer a request (`meshwatch run --workers N` shares one listening port), but a
worker evaluates only the products it holds. So a product is answered from the answering
worker's latest evaluation round when that round evaluated it (`source: round`), and any other
product — one another worker holds, or one before this worker's first round — is evaluated
from the store when asked (`source: store`: the same query as a round, over the events the
owning worker wrote), kept for one evaluation interval. Alerts and silences always come from
the store, so every worker gives the same answer.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Row

from monitor.alerting.silences import Silence, active_silences
from monitor.contracts.model import DataProduct
from monitor.daemon.scheduler import Daemon
from monitor.evaluation.mesh import ObjectiveEvaluation, objective_json
from monitor.slo import Status, worst_status
from monitor.store.alerts import alerts_of_products
from monitor.store.states import ACTIVE_STATES
from monitor.values.text import iso_time, iso_time_or_none


class Source(StrEnum):
    ROUND = "round"  # the answering worker's latest evaluation round
    STORE = "store"  # evaluated from the store when asked


@dataclass(frozen=True)
class ProductStatus:
    product: DataProduct
    reports: tuple[ObjectiveEvaluation, ...]
    evaluated_at: datetime
    source: Source

    @property
    def status(self) -> Status:
        return worst_status(r.evaluation.status for r in self.reports)

    def report(self, objective: str) -> ObjectiveEvaluation | None:
        return next((r for r in self.reports if r.objective.name == objective), None)


@dataclass(frozen=True)
class Muting:
    """The store's view of a product's objectives: active alerts and active silences."""

    alerts: dict[tuple[str, str], list[Row]]  # (product, objective) → pending or firing alerts
    silences: list[Silence]

    def silenced_until(self, product: str, objective: str, at: datetime) -> datetime | None:
        ends = [s.ends_at for s in self.silences if s.covers(product, objective, at)]
        return max(ends) if ends else None


class StatusBoard:
    """Answers which status each product has, for every endpoint that shows one."""

    def __init__(self, daemon: Daemon):
        self.daemon = daemon
        self._asked: dict[str, ProductStatus] = {}  # evaluated from the store, by product id
        self._evaluating = asyncio.Lock()  # one evaluation from the store at a time

    async def products(self, ids: Sequence[str]) -> list[ProductStatus]:
        """The status of each product of `ids` (all known to the configuration), in that order."""
        daemon = self.daemon
        latest = daemon.latest
        in_round: dict[str, list[ObjectiveEvaluation]] = defaultdict(list)
        for report in latest.reports:
            in_round[report.product.id].append(report)
        answers: dict[str, ProductStatus] = {}
        for product_id in ids:
            if product_id in in_round and latest.at is not None:
                answers[product_id] = ProductStatus(daemon.products[product_id],
                                                    tuple(in_round[product_id]), latest.at,
                                                    Source.ROUND)
        missing = [i for i in ids if i not in answers]
        if missing:
            answers.update(await self._from_store(missing))
        return [answers[i] for i in ids]

    async def muting(self, ids: Iterable[str], at: datetime) -> Muting:
        def read() -> Muting:
            alerts: dict[tuple[str, str], list[Row]] = defaultdict(list)
            with self.daemon.engine.connect() as connection:
                for row in alerts_of_products(connection, ids):
                    if row.state in ACTIVE_STATES:
                        alerts[(row.product, row.objective)].append(row)
                return Muting(dict(alerts), active_silences(connection, at))

        return await asyncio.to_thread(read)

    async def _from_store(self, ids: list[str]) -> dict[str, ProductStatus]:
        async with self._evaluating:  # a burst of badge requests evaluates a product once
            now = self.daemon.clock()
            keep = self.daemon.settings.daemon.evaluation_interval
            fresh = {i: self._asked[i] for i in ids if i in self._asked
                     and self._asked[i].product == self.daemon.products[i]
                     and now - self._asked[i].evaluated_at < keep}
            stale = [self.daemon.products[i] for i in ids if i not in fresh]
            if stale:
                reports = await asyncio.to_thread(self.daemon.evaluate_products, stale, now)
                by_product: dict[str, list[ObjectiveEvaluation]] = defaultdict(list)
                for report in reports:
                    by_product[report.product.id].append(report)
                for product in stale:
                    fresh[product.id] = self._asked[product.id] = ProductStatus(
                        product, tuple(by_product[product.id]), now, Source.STORE)
            for gone in set(self._asked) - set(self.daemon.products):
                del self._asked[gone]
            return fresh


def status_document(statuses: Sequence[ProductStatus], muting: Muting, at: datetime,
                    worker: str | None) -> dict:
    """`GET /api/v1/status` (docs/api.md): each product with its objectives."""
    return {"at": iso_time(at), "worker": worker,
            "products": [product_json(status, muting, at) for status in statuses]}


def product_json(status: ProductStatus, muting: Muting, at: datetime) -> dict:
    product = status.product
    return {"product": product.id, "domain": product.domain, "name": product.name,
            "owner": product.owner.team, "status": status.status.value,
            "evaluated_at": iso_time(status.evaluated_at), "source": status.source.value,
            "objectives": [objective_status(report, muting, at) for report in status.reports]}


def objective_status(report: ObjectiveEvaluation, muting: Muting, at: datetime) -> dict:
    """One objective: the documented `evaluate --json` fields, and from the store since when it
    is in trouble (its earliest pending or firing alert), those alerts and any silence."""
    key = (report.product.id, report.objective.name)
    alerts = sorted(muting.alerts.get(key, []), key=lambda a: (a.since is None, a.since, a.id))
    since = next((a.since for a in alerts if a.since is not None), None)
    document = objective_json(report)
    del document["product"]  # the product holds it
    return {**document,
            "window_budget_remaining": report.evaluation.window_budget_remaining,
            "since": iso_time_or_none(since),
            "alerts": [{"severity": a.severity, "state": a.state, "condition": a.condition,
                        "conditions": list(a.conditions or [a.condition]),
                        "since": iso_time_or_none(a.since), "fired_at": iso_time_or_none(a.fired_at)}
                       for a in alerts],
            "silenced_until": iso_time_or_none(muting.silenced_until(*key, at))}
