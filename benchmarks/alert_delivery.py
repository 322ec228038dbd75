"""Delay from the evaluation that sees a breach to the notification received by a webhook.

A mesh of N products (one availability objective each, 2 h of 1-minute data) lives in a fresh
store. Each trial breaks one more product (all probes failing for the last 10 minutes), then
times one alerting round as the daemon runs it: evaluate_mesh over every objective →
process_evaluations → deliver_due → the local aiohttp webhook receiver has the message.
Target (issue "Alerting"): ≤ 5 s on loopback. The daemon adds its own wait for the next round
(daemon.evaluation_interval, 30 s by default) on top of this figure.

Run:  .venv/bin/python benchmarks/alert_delivery.py [--products 1000] [--trials 20]
                                                     [--postgres postgresql+psycopg://…/db]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from aiohttp import web

from monitor.alerting import Notifiers, deliver_due, process_evaluations
from monitor.config.settings import Settings
from monitor.contracts.model import DataProduct, Indicator, Objective, Owner, Port
from monitor.evaluation.mesh import evaluate_mesh
from monitor.store import Event, open_store, record_events

RESULTS = Path(__file__).parent / "results" / "alert_delivery.txt"
START = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


class Receiver:
    """A webhook receiver in its own thread; notes when each product's message arrived."""

    def __init__(self):
        self.arrived: dict[str, float] = {}
        self.signal = threading.Condition()
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait(10)

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        runner = web.AppRunner(app, access_log=None)
        self.loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self.signal:
            self.arrived.setdefault(body["product"], time.perf_counter())
            self.signal.notify_all()
        return web.Response(text="ok")

    def wait_for(self, product: str, timeout: float = 30) -> float:
        with self.signal:
            self.signal.wait_for(lambda: product in self.arrived, timeout)
        return self.arrived[product]


def mesh(count: int, url: str) -> list[DataProduct]:
    objective = Objective("availability", Indicator.AVAILABILITY, Decimal("0.999"), port="api")
    return [DataProduct(domain="bench", name=f"p{i:04d}",
                        owner=Owner("bench", "bench@contoso.example", ({"webhook": url},)),
                        ports=(Port("api", "http"),), objectives=(objective,))
            for i in range(count)]


def seed(engine, products: list[DataProduct]) -> None:
    events = [Event(p.id, "availability", START - timedelta(minutes=m), 1, 1)
              for p in products for m in range(1, 121)]
    with engine.begin() as connection:
        record_events(connection, events)


def probe_minute(engine, products: list[DataProduct], at: datetime) -> None:
    """Every product's probe of the last minute succeeded: the mesh stays live, no `no_data`."""
    with engine.begin() as connection:
        record_events(connection, [Event(p.id, "availability", at - timedelta(seconds=30), 1, 1)
                                   for p in products])


def breach(engine, product: DataProduct, at: datetime) -> None:
    with engine.begin() as connection:
        record_events(connection, [Event(product.id, "availability", at - timedelta(minutes=m),
                                         0, 5) for m in range(0, 10)])


def run(url: str, count: int, trials: int) -> dict:
    receiver = Receiver()
    engine = open_store(url)
    products = mesh(count, f"http://127.0.0.1:{receiver.port}/hook")
    seed(engine, products)
    settings = Settings(database_url=url)
    notifiers = Notifiers(settings)
    figures: dict[str, list[float]] = {"evaluate": [], "process": [], "deliver": [], "total": []}
    at = START
    for trial in range(trials):
        at += timedelta(minutes=1)
        victim = products[trial * (count // trials)]
        probe_minute(engine, products, at)
        breach(engine, victim, at)
        began = time.perf_counter()
        with engine.connect() as connection:
            reports = evaluate_mesh(connection, products, at, settings.slo.policy())
        evaluated = time.perf_counter()
        summary = process_evaluations(engine, reports, at, settings)
        processed = time.perf_counter()
        delivery = deliver_due(engine, at, notifiers, "bench")
        delivered = time.perf_counter()
        received = receiver.wait_for(victim.id)
        assert summary.queued >= 1 and delivery.failed == 0, (summary, delivery)
        figures["evaluate"].append(evaluated - began)
        figures["process"].append(processed - evaluated)
        figures["deliver"].append(delivered - processed)
        figures["total"].append(received - began)
    engine.dispose()
    return figures


def describe(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (f"median {statistics.median(values) * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms  "
            f"max {max(values) * 1000:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--postgres", help="also measure on this (empty) PostgreSQL database")
    args = parser.parse_args()
    stores = []
    with tempfile.TemporaryDirectory() as directory:
        stores.append(("SQLite", f"sqlite:///{Path(directory) / 'bench.db'}"))
        if args.postgres:
            stores.append(("PostgreSQL", args.postgres))
        lines = [f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.products} products "
                 f"(one objective each), {args.trials} breaches, webhook on loopback",
                 "breach seen by an evaluation round → notification received (target ≤ 5 s)"]
        for name, url in stores:
            figures = run(url, args.products, args.trials)
            lines.append(f"{name}:")
            for step in ("evaluate", "process", "deliver", "total"):
                label = {"evaluate": "evaluate_mesh (all objectives)",
                         "process": "process_evaluations (state, outbox)",
                         "deliver": "deliver_due (claim, POST, mark sent)",
                         "total": "end to end, evaluation start → received"}[step]
                lines.append(f"  {label:42s} {describe(figures[step])}")
    lines.append("(the daemon's wait for its next round, daemon.evaluation_interval = 30 s by "
                 "default, comes on top)")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
