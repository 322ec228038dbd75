"""Probe throughput, scheduling lag and memory of the daemon with 1,000 HTTP ports.

A local HTTP server (its own process) answers every probe; the real daemon (APScheduler jobs,
bounded in-flight probes, batched SQLite writes, evaluation rounds) probes 1,000 ports every
second. Targets (DESIGN.md §8): ≥ 1,000 probes/s sustained, p99 lag ≤ 1 s, RSS ≤ 200 MB.

Run:  .venv/bin/python benchmarks/probe_throughput.py [--ports 1000] [--interval 1] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import resource
import socket
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from monitor.config.loading import Config
from monitor.config.settings import Settings
from monitor.contracts import Registry
from monitor.contracts.model import DataProduct, Indicator, Objective, Owner, Port
from monitor.daemon.logs import setup_logging
from monitor.daemon.scheduler import Daemon
from monitor.store import open_store

RESULTS = Path(__file__).parent / "results" / "probe_throughput.txt"


def serve(port: int) -> None:
    from aiohttp import web

    async def latest(_request):
        return web.json_response({"generated_at": datetime.now(UTC).isoformat()})

    app = web.Application()
    app.router.add_get("/orders/{n}", latest)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def mesh(ports: int, server: int, interval: float) -> dict[str, DataProduct]:
    products = {}
    for i in range(ports):
        port = Port("api", "http", interval=timedelta(seconds=interval),
                    timeout=timedelta(seconds=min(interval, 2)),
                    options={"url": f"http://127.0.0.1:{server}/orders/{i}",
                             "freshness": {"json_path": "generated_at"}})
        product = DataProduct(
            domain="bench", name=f"p{i:04d}", owner=Owner("bench"), ports=(port,),
            objectives=(Objective("availability", Indicator.AVAILABILITY, Decimal("0.999")),
                        Objective("latency", Indicator.LATENCY, Decimal("0.99"),
                                  threshold=timedelta(milliseconds=300))))
        products[product.id] = product
    return products


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def run(args) -> list[str]:
    server = free_port()
    process = multiprocessing.Process(target=serve, args=(server,), daemon=True)
    process.start()
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", server), timeout=0.1).close()
            break
        except OSError:
            await asyncio.sleep(0.1)
    folder = tempfile.mkdtemp()
    settings = Settings(database_url=f"sqlite:///{folder}/bench.db")
    engine = open_store(settings.database_url)
    products = mesh(args.ports, server, args.interval)
    config = Config(Path(folder), settings, Registry(products=products), [])
    daemon = Daemon(config, engine)
    await daemon.start()
    warmup = max(3.0, args.interval * 2)
    await asyncio.sleep(warmup)
    daemon.health.lag_seconds.clear()
    first, began = daemon.health.probes_run, time.perf_counter()
    missed_before = daemon.health.missed_runs
    peak_rss = rss_mb()
    lags: list[float] = []
    while time.perf_counter() - began < args.seconds:
        await asyncio.sleep(1)
        lags += daemon.health.lag_seconds
        daemon.health.lag_seconds.clear()
        peak_rss = max(peak_rss, rss_mb())
    probes = daemon.health.probes_run - first
    elapsed = time.perf_counter() - began
    failures = sum(1 for key in daemon._failing)
    await daemon.stop()
    process.terminate()
    lags.sort()
    p50 = lags[len(lags) // 2] if lags else float("nan")
    p99 = lags[int(len(lags) * 0.99)] if lags else float("nan")
    rate = probes / elapsed
    wanted = args.ports / args.interval
    return [
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.ports} HTTP ports every "
        f"{args.interval:g} s, {args.seconds} s measured after {warmup:g} s warm-up, "
        f"{multiprocessing.cpu_count()} cores",
        f"probes: {probes:,} in {elapsed:.1f} s = {rate:,.0f}/s "
        f"({rate / wanted:.2f} of the {wanted:,.0f}/s scheduled; target ≥ 1,000/s)",
        f"scheduling lag: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms (target p99 ≤ 1 s)",
        f"runs skipped (previous run of the port still going): "
        f"{daemon.health.missed_runs - missed_before:,}; ports failing at the end: {failures}",
        f"daemon RSS: peak {peak_rss:.0f} MB (target ≤ 200 MB); max RSS of the process "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB",
        f"evaluation rounds: {daemon.health.rounds}, last took "
        f"{(daemon.health.last_round_seconds or 0):.2f} s",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--seconds", type=int, default=30)
    args = parser.parse_args()
    setup_logging("text", logging.WARNING)
    lines = asyncio.run(run(args))
    print("\n".join(lines))
    RESULTS.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
