"""Memory of `meshwatch run` when 20 HTTP ports answer garbage, beside a few healthy ones.

The hostile stand-ins of the tests (`tests/support/hostile_http.py`: gzip and deflate bombs that
inflate to 200 MB, junk bytes, a lying Content-Length, a 1 MB header, endless and slow bodies,
broken chunked encoding, …) run in a process of their own, and a plain aiohttp server answers the
healthy ports in another. The real daemon (`python -m monitor run`, a temp config and contracts
folder, SQLite store) probes them all for `--seconds`; this script samples the daemon's process
tree and prints its peak RSS (VmHWM summed over the tree, from /proc) and how many probes of the
healthy ports were stored ok, with the error classes the garbage ports were given.
Target: peak RSS ≤ 200 MB, every healthy probe ok.

Run:  .venv/bin/python benchmarks/garbage_ports.py [--seconds 60] [--garbage 20] [--healthy 4]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.support, when run as a script

from monitor.store import open_store  # noqa: E402
from monitor.store.tables import ProbeRecord  # noqa: E402
from tests.support.hostile_http import GARBAGE, serve_forever  # noqa: E402
from tests.support.ports import free_port  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "garbage_ports.txt"
FRESH = {"json_path": "generated_at"}


def serve_healthy(port: int) -> None:
    from aiohttp import web

    async def latest(_request):
        return web.json_response({"generated_at": datetime.now(UTC).isoformat()})

    app = web.Application()
    app.router.add_get("/ok", latest)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def contract(domain: str, name: str, url: str, freshness: bool, interval: str, timeout: str) -> str:
    options = {"name": "api", "type": "http", "url": url, "interval": interval, "timeout": timeout}
    if freshness:
        options["freshness"] = FRESH
    return textwrap.dedent(f"""\
        apiVersion: meshwatch/v1
        kind: DataProduct
        metadata: {{domain: {domain}, name: {name}}}
        owner: {{team: {domain}}}
        ports:
          - {json.dumps(options)}
        objectives:
          - {{name: availability, port: api, indicator: availability, target: 99%}}
        """)


def write_mesh(folder: Path, args, hostile: int, healthy: int) -> None:
    (folder / "contracts").mkdir(parents=True)
    (folder / "meshwatch.yaml").write_text("")
    for i in range(args.garbage):
        behaviour = GARBAGE[i % len(GARBAGE)]
        # the first round of behaviours with a JSON freshness field (the body is needed), the next without
        fresh = (i // len(GARBAGE)) % 2 == 0
        (folder / "contracts" / f"garbage{i:02d}.yaml").write_text(contract(
            "garbage", f"g{i:02d}-{behaviour}", f"http://127.0.0.1:{hostile}/{behaviour}", fresh,
            args.interval, args.timeout))
    for i in range(args.healthy):
        (folder / "contracts" / f"healthy{i:02d}.yaml").write_text(contract(
            "healthy", f"h{i:02d}", f"http://127.0.0.1:{healthy}/ok", True, args.interval, args.timeout))


def tree(pid: int) -> list[int]:
    """`pid` and its descendants, from /proc/PID/task/TID/children."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                pending += [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                continue
    return found


def status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def wait_until_listening(port: int, path: str = "", within: float = 30) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1):
                return
        except OSError:
            time.sleep(0.1)  # waiting for a server this script started
    raise SystemExit(f"nothing answered on 127.0.0.1:{port}{path} within {within:g}s")


def run(args) -> list[str]:
    hostile, healthy, listen = free_port(), free_port(), free_port()
    servers = [multiprocessing.Process(target=serve_forever, args=(hostile,), daemon=True),
               multiprocessing.Process(target=serve_healthy, args=(healthy,), daemon=True)]
    for server in servers:
        server.start()
    wait_until_listening(hostile, "/ok")
    wait_until_listening(healthy, "/ok")
    folder = Path(tempfile.mkdtemp(prefix="meshwatch-garbage-"))
    write_mesh(folder / "config", args, hostile, healthy)
    database = f"sqlite:///{folder / 'meshwatch.db'}"
    env = {**os.environ, "MESHWATCH_DATABASE_URL": database,
           "MESHWATCH_DAEMON__LISTEN": f"127.0.0.1:{listen}"}
    log = (folder / "daemon.log").open("w")
    daemon = subprocess.Popen([sys.executable, "-m", "monitor", "run", "--config", str(folder / "config"),
                               "--log-format", "json"], env=env, stdout=log, stderr=subprocess.STDOUT,
                              cwd=ROOT)
    peak_hwm = peak_rss = 0
    try:
        wait_until_listening(listen, "/healthz")
        began = time.monotonic()
        start_rss = sum(status_kb(pid, "VmRSS") for pid in tree(daemon.pid))
        while time.monotonic() - began < args.seconds and daemon.poll() is None:
            pids = tree(daemon.pid)
            peak_hwm = max(peak_hwm, sum(status_kb(pid, "VmHWM") for pid in pids))
            peak_rss = max(peak_rss, sum(status_kb(pid, "VmRSS") for pid in pids))
            time.sleep(0.2)
        elapsed = time.monotonic() - began
        crashed = daemon.poll()
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=30)
    finally:
        if daemon.poll() is None:
            daemon.kill()
        for server in servers:
            server.terminate()
        log.close()
    engine = open_store(database)
    with engine.connect() as connection:
        rows = connection.execute(
            select(ProbeRecord.product, ProbeRecord.ok, ProbeRecord.error_class, func.count(),
                   func.max(func.length(ProbeRecord.error)))
            .group_by(ProbeRecord.product, ProbeRecord.ok, ProbeRecord.error_class)).all()
    engine.dispose()
    healthy_ok = sum(count for product, ok, _c, count, _l in rows if product.startswith("healthy/") and ok)
    healthy_all = sum(count for product, _ok, _c, count, _l in rows if product.startswith("healthy/"))
    classes: Counter[str] = Counter()
    for product, ok, error_class, count, _length in rows:
        if product.startswith("garbage/"):
            classes[f"{product.split('/', 1)[1].split('-', 1)[1]}→{'ok' if ok else error_class}"] += count
    longest = max((length or 0 for product, *_rest, length in rows if product.startswith("garbage/")),
                  default=0)
    return [
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.garbage} garbage + {args.healthy} healthy HTTP "
        f"ports every {args.interval} (timeout {args.timeout}), {elapsed:.0f} s measured, "
        f"{multiprocessing.cpu_count()} cores" + (f"; THE DAEMON EXITED ({crashed})" if crashed is not None
                                                  else ""),
        f"daemon peak RSS: {peak_hwm / 1024:.0f} MB (VmHWM of its process tree; target ≤ 200 MB); "
        f"highest sampled VmRSS {peak_rss / 1024:.0f} MB, {start_rss / 1024:.0f} MB when it started serving",
        f"healthy ports: {healthy_ok} of {healthy_all} stored probes ok",
        "garbage ports (behaviour→class: probes): "
        + ", ".join(f"{key}: {count}" for key, count in sorted(classes.items())),
        f"longest stored error text of a garbage port: {longest} characters",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--garbage", type=int, default=20)
    parser.add_argument("--healthy", type=int, default=4)
    parser.add_argument("--interval", default="3s")
    parser.add_argument("--timeout", default="2s")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write the result lines")
    args = parser.parse_args()
    lines = run(args)
    print("\n".join(lines))
    args.results.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
