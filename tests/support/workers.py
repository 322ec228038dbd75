"""For worker tests: an HTTP server that notes when each path was asked for, a mesh of HTTP
ports written to a configuration directory, and `meshwatch run` processes that are always
killed at the end (with their children), their stderr kept in a file."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
from aiohttp import web

from tests.support.ports import free_port
from tests.support.repository import ROOT


class CountingServer:
    """Answers every GET at once (paths under /slow/ after `slow_for` seconds) and notes the
    wall-clock time each request arrived, per path."""

    def __init__(self, slow_for: float = 0.5):
        self.port = free_port()
        self.slow_for = slow_for
        self._arrivals: dict[str, list[float]] = defaultdict(list)
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    async def _answer(self, request: web.Request) -> web.Response:
        with self._lock:
            self._arrivals[request.path].append(time.time())
        if request.path.startswith("/slow/"):
            await asyncio.sleep(self.slow_for)
        return web.json_response({"ok": True})

    def start(self) -> CountingServer:
        self._thread.start()
        app = web.Application()
        app.router.add_get("/{path:.*}", self._answer)
        self._runner = web.AppRunner(app, access_log=None)
        asyncio.run_coroutine_threadsafe(self._runner.setup(), self._loop).result(10)
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, backlog=1024)
        asyncio.run_coroutine_threadsafe(site.start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def arrivals(self) -> dict[str, list[float]]:
        """Every path asked for, with the times its requests arrived (oldest first)."""
        with self._lock:
            return {path: list(times) for path, times in self._arrivals.items()}

    def requests(self) -> int:
        with self._lock:
            return sum(len(times) for times in self._arrivals.values())


def write_mesh(directory: Path, server: CountingServer, database_url: str, products: int,
               ports_per_product: int = 1, interval: str = "2s", timeout: str = "1s",
               prefix: str = "/p") -> list[str]:
    """`products` contracts of HTTP ports on `server`, each port at its own path, with an
    availability objective on each; the paths, one per port."""
    (directory / "contracts").mkdir(parents=True, exist_ok=True)
    (directory / "meshwatch.yaml").write_text(f"database_url: {database_url}\n")
    paths = []
    for n in range(products):
        ports, objectives = [], []
        for p in range(ports_per_product):
            path = f"{prefix}{n:03d}/{p}"
            paths.append(path)
            ports.append(json.dumps({"name": f"api{p}", "type": "http", "url": server.url(path),
                                     "interval": interval, "timeout": timeout}))
            objectives.append(json.dumps({"name": f"api{p}-availability", "port": f"api{p}",
                                          "indicator": "availability", "target": "99%"}))
        (directory / "contracts" / f"p{n:03d}.yaml").write_text(textwrap.dedent("""\
            apiVersion: meshwatch/v1
            kind: DataProduct
            metadata: {domain: workers, name: p%03d}
            owner: {team: workers}
            ports:
            %s
            objectives:
            %s
            """) % (n, "\n".join(f"  - {port}" for port in ports),
                    "\n".join(f"  - {objective}" for objective in objectives)))
    return paths


class Meshwatch:
    """One `meshwatch run` process (a worker, or with `--workers N` a supervisor), its stderr
    in a file, its /healthz on its own listening port."""

    def __init__(self, config: Path, logs: Path, *args: str):
        self.listen = free_port()
        self.logs = logs
        env = {key: value for key, value in os.environ.items() if not key.startswith("MESHWATCH_")}
        env["MESHWATCH_DAEMON__LISTEN"] = f"127.0.0.1:{self.listen}"
        self._stderr = logs.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "--config", str(config), "--log-format", "json",
             *args], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self._stderr)

    @property
    def pid(self) -> int:
        return self.process.pid

    def health(self) -> dict | None:
        """/healthz, or None when it does not answer (yet)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.listen}/healthz", timeout=2) as answer:
                return json.loads(answer.read())
        except (OSError, ValueError):
            return None

    def children(self) -> list[psutil.Process]:
        try:
            return [child for child in psutil.Process(self.pid).children() if child.is_running()
                    and child.status() != psutil.STATUS_ZOMBIE]
        except psutil.NoSuchProcess:
            return []

    def log_lines(self) -> list[dict[str, Any]]:
        """Its stderr, a dict per line (a line that is not JSON: {"raw": line})."""
        self._stderr.flush()
        lines = []
        for line in self.logs.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                entry = None
            lines.append(entry if isinstance(entry, dict) else {"raw": line})
        return lines

    def stderr(self) -> str:
        self._stderr.flush()
        return self.logs.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL this process and everything it started, and reap it."""
        try:
            family = [psutil.Process(self.pid), *psutil.Process(self.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            family = []
        for member in family:
            with contextlib.suppress(psutil.NoSuchProcess):
                member.send_signal(signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(10)
        psutil.wait_procs(family, timeout=10)
        self._stderr.close()


class Processes:
    """Every `meshwatch run` a test started, killed at teardown whatever happened."""

    def __init__(self, config: Path, folder: Path):
        self.config = config
        self.folder = folder
        self.started: list[Meshwatch] = []

    def start(self, *args: str) -> Meshwatch:
        process = Meshwatch(self.config, self.folder / f"meshwatch-{len(self.started)}.log", *args)
        self.started.append(process)
        return process

    def kill_all(self) -> None:
        for process in self.started:
            process.kill()


def wait_for(condition: Callable[[], Any], within: float, what: str, every: float = 0.2) -> Any:
    """Poll `condition` until it returns something truthy (returned), or fail after `within` s."""
    deadline = time.monotonic() + within
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within:g}s")
        time.sleep(every)  # polling a condition of processes this test started


def counts_in(arrivals: dict[str, list[float]], paths: list[str], start: float, end: float
              ) -> dict[str, int]:
    """Requests per path that arrived in [start, end)."""
    return {path: sum(start <= t < end for t in arrivals.get(path, [])) for path in paths}


def shortest_gaps(arrivals: dict[str, list[float]], paths: list[str], start: float, end: float
                  ) -> dict[str, float]:
    """Per path, the shortest time between two requests that arrived in [start, end)."""
    gaps = {}
    for path in paths:
        times = [t for t in arrivals.get(path, []) if start <= t < end]
        gaps[path] = min((b - a for a, b in zip(times, times[1:], strict=False)), default=float("inf"))
    return gaps
