"""Shared parts of the alerting tests: products, consumers, evaluation reports and settings (the
webhook receiver they send to is the demo's, monitor.demo.webhooks)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from monitor.config.settings import Settings
from monitor.contracts.model import (
    Consumer,
    DataProduct,
    Indicator,
    MaintenanceWindow,
    Objective,
    Owner,
)
from monitor.evaluation.mesh import ObjectiveEvaluation
from monitor.slo import Condition, Counts, Evaluation, Status
from monitor.store.tables import NotificationRecord, core_table

FAST_BURN = Condition("fast_burn", "page", timedelta(hours=1), timedelta(minutes=5),
                      Decimal("14.4"))
SLOW_BURN = Condition("slow_burn", "ticket", timedelta(days=3), timedelta(hours=6), Decimal(1))
NO_DATA = Condition("no_data", "ticket")


AVAILABILITY = Objective("api-availability", Indicator.AVAILABILITY, Decimal("0.999"))
FRESHNESS = Objective("lake-freshness", Indicator.FRESHNESS, Decimal("0.99"),
                      threshold=timedelta(hours=1), port="lake")


def product(owner_notify=(), consumers=(), maintenance=(), objectives=(AVAILABILITY, FRESHNESS)
            ) -> DataProduct:
    return DataProduct(domain="checkout", name="orders",
                       owner=Owner("checkout", "checkout-data@contoso.example",
                                   tuple(owner_notify)),
                       objectives=tuple(objectives), consumers=tuple(consumers),
                       maintenance=tuple(MaintenanceWindow(*m) for m in maintenance),
                       start=date(2026, 1, 1))


def consumer(team: str, notify, start=None, end=None, objectives=None, min_severity=None
             ) -> Consumer:
    return Consumer(team=team, contact=f"{team}@contoso.example", notify=tuple(notify),
                    start=start, end=end, objectives=objectives, min_severity=min_severity)


def report(product_: DataProduct, objective: Objective, *conditions: Condition,
           good: int = 950, total: int = 1000, data_age: timedelta | None = None
           ) -> ObjectiveEvaluation:
    counts = Counts(good, total)
    bad = (total - good) / total if total else 0
    budget = 1 - bad / float(1 - objective.target) if total else None
    rates = {timedelta(minutes=5): 50.0, timedelta(hours=1): 50.0, timedelta(hours=6): 8.0}
    status = Status.BREACHED if conditions else Status.OK
    evaluation = Evaluation(status, counts, good / total if total else None, budget, rates,
                            tuple(conditions), data_age)
    return ObjectiveEvaluation(product_, objective, evaluation)


def healthy(product_: DataProduct, objective: Objective) -> ObjectiveEvaluation:
    return report(product_, objective, good=1000, total=1000)


def settings(**alerting) -> Settings:
    channels = alerting.pop("channels", {})
    smtp = alerting.pop("smtp", None)
    # these tests look at one round at a time: an alert resolves in the round its conditions clear
    return Settings(alerting={"retry_backoff": "30s", "keep_firing_for": "0s", **alerting},
                    channels=channels, smtp=smtp)


def outbox(engine) -> list:
    """Every notification of the outbox, in the order they were written."""
    table = core_table(NotificationRecord)
    with engine.connect() as connection:
        return list(connection.execute(table.select().order_by(table.c.id)))
