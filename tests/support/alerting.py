"""Shared parts of the alerting tests: a real webhook receiver, products and evaluation reports."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from aiohttp import web

from monitor.config.settings import Settings
from monitor.contracts.model import (
    Consumer,
    DataProduct,
    Indicator,
    MaintenanceWindow,
    Objective,
    Owner,
)
from monitor.evaluation.mesh import ObjectiveReport
from monitor.slo import Condition, Counts, Evaluation, Status

FAST_BURN = Condition("fast_burn", "page", timedelta(hours=1), timedelta(minutes=5),
                      Decimal("14.4"))
SLOW_BURN = Condition("slow_burn", "ticket", timedelta(days=3), timedelta(hours=6), Decimal(1))
NO_DATA = Condition("no_data", "ticket")


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    json: object


@dataclass
class WebhookReceiver:
    """A real aiohttp server on loopback that records every POST and answers as told."""

    requests: list[Received] = field(default_factory=list)
    statuses: deque = field(default_factory=deque)  # answers to give, then 200
    port: int = 0

    def __enter__(self) -> WebhookReceiver:
        self._loop = asyncio.new_event_loop()
        started = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(started,), daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("the webhook receiver did not start")
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _run(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        started.set()
        self._loop.run_forever()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            parsed = await request.json()
        except ValueError:
            parsed = None
        self.requests.append(Received(request.path, dict(request.headers), body, parsed))
        status = self.statuses.popleft() if self.statuses else 200
        return web.Response(status=status, text="ok" if status < 400 else "nope")

    def at(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]


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
           ) -> ObjectiveReport:
    counts = Counts(good, total)
    bad = (total - good) / total if total else 0
    budget = 1 - bad / float(1 - objective.target) if total else None
    rates = {timedelta(minutes=5): 50.0, timedelta(hours=1): 50.0, timedelta(hours=6): 8.0}
    status = Status.BREACHED if conditions else Status.OK
    evaluation = Evaluation(status, counts, good / total if total else None, budget, rates,
                            tuple(conditions), data_age)
    return ObjectiveReport(product_, objective, evaluation)


def healthy(product_: DataProduct, objective: Objective) -> ObjectiveReport:
    return report(product_, objective, good=1000, total=1000)


def settings(**alerting) -> Settings:
    channels = alerting.pop("channels", {})
    smtp = alerting.pop("smtp", None)
    # these tests look at one round at a time: an alert resolves in the round its conditions clear
    return Settings(alerting={"retry_backoff": "30s", "keep_firing_for": "0s", **alerting},
                    channels=channels, smtp=smtp)
