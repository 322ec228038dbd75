"""meshwatch beside its peer (Prometheus + blackbox_exporter) probing the same N nginx targets.

One nginx (Debian's, its own config in a temp dir, one worker process) serves `/orders/<n>` with
`{"generated_at": "<now>"}` and counts every request in `stub_status`. Phase 1 runs the real
`meshwatch run` (a temp config folder: N products, one HTTP port each with an availability and a
freshness objective, SQLite store) for `--seconds` after a warm-up; phase 2 runs Prometheus
scraping blackbox_exporter's `http_2xx` module for the same N URLs. For each side: probes/s counted
at nginx (stub_status read before and after the window, its own reads subtracted), CPU seconds per
1,000 probes of the whole process tree (psutil, user + system, every process seen in the window),
peak RSS per process. For meshwatch also `/healthz` at the end, how SIGTERM went (exit code,
seconds, tracebacks in its log), and afterwards the objectives `meshwatch evaluate --json` reports
breached and the alerts that ever fired — every target is healthy, so any breach is false.
Targets (issue 10): ≥ 2,500 probes/s with --workers auto, ≤ 0.4 CPU-s per 1,000 probes, scheduling
lag p99 ≤ 1 s, ≤ 200 MB RSS per worker, zero false breaches at 2.5× overload.

Needs: apt-get install nginx prometheus prometheus-blackbox-exporter (installs nothing itself).

Run:  .venv/bin/python benchmarks/peer_throughput.py --targets 1000 --seconds 30 [--workers auto]
      [--interval 1] [--warmup 5] [--revision HEAD] [--wait-quiet 600] [--keep]

--revision REV measures `monitor/` as committed at REV (exported into the temp dir, ahead of the
editable install on PYTHONPATH) instead of the working tree, which may hold others' work in progress;
--wait-quiet waits for a shared machine to calm down first. The "machine" line tells how much of
each window's CPU went to other processes: a busy neighbour makes both sides look worse.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results" / "peer_throughput.txt"
MESHWATCH = ROOT / ".venv" / "bin" / "meshwatch"
BINARIES = {"nginx": "nginx", "prometheus": "prometheus",
            "blackbox_exporter": "prometheus-blackbox-exporter"}
INSTALL = "apt-get install nginx prometheus prometheus-blackbox-exporter"
PROBE_TIMEOUT = 2.0  # seconds, both sides (cut to the interval where the config demands it)
SLICE = 5.0  # seconds: the window's rate is also shown per slice
STOP_WITHIN = 30.0  # seconds a SIGTERM'd child gets before it is killed


class ChildDied(Exception):
    """A process this script started exited before it was asked to."""


@dataclass
class Child:
    """A process started in its own process group, its stderr (and stdout) in a file."""

    name: str
    process: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join("    " + line for line in text[-lines:]) or "    (empty)"

    def check(self) -> None:
        if not self.alive():
            raise ChildDied(f"{self.name} exited early with code {self.process.returncode}; "
                            f"the end of its log ({self.log}):\n{self.tail()}")

    def kill_group(self) -> None:
        """SIGTERM the whole process group, then SIGKILL what is left of it."""
        for sent in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sent)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)


@dataclass
class Tree:
    """CPU and RSS of process trees, sampled: a process's CPU counts from its first sample (its
    value at the window's start, or 0 if it was born inside the window) to its last."""

    roots: list[psutil.Process]
    start_cpu: dict[int, float] = field(default_factory=dict)
    last_cpu: dict[int, float] = field(default_factory=dict)
    peak_rss: dict[int, int] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)

    def processes(self) -> list[psutil.Process]:
        found = []
        for root in self.roots:
            try:
                found += [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
        return found

    def sample(self, first: bool = False) -> None:
        for process in self.processes():
            try:
                with process.oneshot():
                    times = process.cpu_times()
                    rss = process.memory_info().rss
                    name = process.name()
            except psutil.NoSuchProcess:
                continue
            cpu = times.user + times.system
            if first:
                self.start_cpu[process.pid] = cpu
            self.start_cpu.setdefault(process.pid, 0.0)
            self.last_cpu[process.pid] = cpu
            self.peak_rss[process.pid] = max(self.peak_rss.get(process.pid, 0), rss)
            self.names[process.pid] = name

    def cpu_seconds(self) -> float:
        return sum(self.last_cpu[pid] - self.start_cpu[pid] for pid in self.last_cpu)

    def rss_mb(self) -> list[tuple[str, float]]:
        return sorted(((self.names[pid], rss / 2**20) for pid, rss in self.peak_rss.items()),
                      key=lambda item: -item[1])


@dataclass
class Window:
    probes: int
    seconds: float
    cpu_seconds: float
    rss_mb: list[tuple[str, float]]
    slices: list[float]  # probes/s in each slice of SLICE seconds, to show a rate that sags or collapses
    nginx_cpu_seconds: float
    machine_busy_seconds: float  # CPU time of every process on the machine, the other engineers' too

    @property
    def rate(self) -> float:
        return self.probes / self.seconds

    @property
    def cpu_per_1000(self) -> float:
        return self.cpu_seconds / self.probes * 1000 if self.probes else float("nan")


class Nginx:
    """The targets, and the request counter every probe is counted by."""

    def __init__(self, folder: Path, children: list[Child]) -> None:
        self.folder = folder
        self.port = free_port()
        self.reads = 0
        (folder / "logs").mkdir()
        config = folder / "nginx.conf"
        config.write_text(textwrap.dedent(f"""\
            daemon off;
            master_process on;
            worker_processes 1;
            worker_rlimit_nofile 20000;
            pid {folder}/nginx.pid;
            error_log {folder}/logs/error.log warn;
            events {{ worker_connections 16000; }}
            http {{
                access_log off;
                client_body_temp_path {folder}/client_body;
                proxy_temp_path {folder}/proxy;
                fastcgi_temp_path {folder}/fastcgi;
                uwsgi_temp_path {folder}/uwsgi;
                scgi_temp_path {folder}/scgi;
                keepalive_requests 1000000;
                server {{
                    listen 127.0.0.1:{self.port} backlog=4096;
                    location /orders/ {{
                        default_type application/json;
                        return 200 '{{"generated_at": "$time_iso8601"}}';
                    }}
                    location = /nginx_status {{ stub_status; }}
                }}
            }}
            """))
        self.child = start("nginx", [binary("nginx"), "-e", str(folder / "logs" / "error.log"),
                                     "-p", str(folder), "-c", str(config)], folder, children)
        wait_for(self.child, f"http://127.0.0.1:{self.port}/orders/0", within=15)

    def url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.port}/orders/{n}"

    def requests(self) -> int:
        """The server's request counter; this read itself is one of them, and is counted in `reads`."""
        self.child.check()
        self.reads += 1
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/nginx_status", timeout=5) as answer:
            text = answer.read().decode()
        # "server accepts handled requests\n A H R"
        return int(text.splitlines()[2].split()[2])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def binary(name: str) -> str:
    path = shutil.which(BINARIES[name], path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    if path is None:
        raise SystemExit(f"{BINARIES[name]} is not installed; this benchmark needs: {INSTALL}")
    return path


def start(name: str, command: list[str], folder: Path, children: list[Child],
          env: dict[str, str] | None = None) -> Child:
    log = folder / "logs" / f"{name}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output,
                                   stderr=subprocess.STDOUT, env=env, cwd=folder,
                                   start_new_session=True)
    child = Child(name, process, log)
    children.append(child)
    return child


def wait_for(child: Child, url: str, within: float) -> dict | None:
    """Until `url` answers (any HTTP status); its JSON body if it has one."""
    deadline = time.monotonic() + within
    while True:
        child.check()
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                body = answer.read()
        except urllib.error.HTTPError as error:
            body = error.read()
        except OSError:
            if time.monotonic() > deadline:
                raise ChildDied(f"{child.name} did not answer {url} within {within:g} s; "
                                f"the end of its log:\n{child.tail()}") from None
            time.sleep(0.2)  # waiting for a server this script started
            continue
        try:
            return json.loads(body)
        except ValueError:
            return None


def wait_until_ok(child: Child, url: str, within: float) -> None:
    deadline = time.monotonic() + within
    while True:
        child.check()
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:  # HTTPError (e.g. 503 while starting) included
            if time.monotonic() > deadline:
                raise ChildDied(f"{child.name}: {url} not ready within {within:g} s; "
                                f"the end of its log:\n{child.tail()}") from None
            time.sleep(0.2)  # waiting for a server this script started


def pause(seconds: float, children: list[Child]) -> None:
    """Sleep, failing fast when a child dies."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        for child in children:
            child.check()
        time.sleep(min(1.0, left))


def busy_seconds() -> float:
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def wait_for_quiet(within: float, cores: float = 0.4, calm: int = 3) -> float:
    """Up to `within` seconds until the machine's other load stays under `cores` for `calm` samples of
    5 s in a row (on a shared machine a neighbour's tests distort every figure); the last load seen."""
    deadline, quiet = time.monotonic() + within, 0
    while True:
        before = busy_seconds()
        time.sleep(5)
        load = (busy_seconds() - before) / 5
        quiet = quiet + 1 if load < cores else 0
        if quiet >= calm or time.monotonic() > deadline:
            return load
        if not quiet:
            print(f"machine busy ({load:.2f} cores by other processes); waiting for it to calm down…",
                  file=sys.stderr)


def measure(nginx: Nginx, roots: list[Child], seconds: float) -> Window:
    tree = Tree([psutil.Process(child.process.pid) for child in roots])
    target = Tree([psutil.Process(nginx.child.process.pid)])
    print(f"measuring {seconds:g} s from {datetime.now(UTC):%H:%M:%S} UTC…", file=sys.stderr)
    reads, before = nginx.reads, nginx.requests()
    tree.sample(first=True)
    target.sample(first=True)
    machine = busy_seconds()
    began = time.monotonic()
    marks = [(began, before)]
    while (left := began + seconds - time.monotonic()) > 0:
        time.sleep(min(1.0, left))
        for child in [*roots, nginx.child]:
            child.check()
        tree.sample()
        target.sample()
        if time.monotonic() - marks[-1][0] >= SLICE - 0.01 and began + seconds - time.monotonic() > 1:
            marks.append((time.monotonic(), nginx.requests()))
    tree.sample()
    target.sample()
    machine = busy_seconds() - machine
    marks.append((time.monotonic(), nginx.requests()))
    elapsed = marks[-1][0] - began
    # The counter counts a read when it is made: the first read is in `before`, every later one
    # (the last included) in the difference.
    probes = marks[-1][1] - before - (nginx.reads - reads - 1)
    slices = [(b - a - 1) / (t - s) for (s, a), (t, b) in zip(marks, marks[1:], strict=False)]
    return Window(probes, elapsed, tree.cpu_seconds(), tree.rss_mb(), slices, target.cpu_seconds(),
                  machine)


def duration(seconds: float) -> str:
    return f"{seconds:g}s" if float(seconds).is_integer() else f"{round(seconds * 1000)}ms"


def write_mesh(folder: Path, args, nginx: Nginx) -> tuple[Path, Path, int]:
    config = folder / "mesh"
    (config / "contracts").mkdir(parents=True)
    database, listen = folder / "meshwatch.db", free_port()
    (config / "meshwatch.yaml").write_text(textwrap.dedent(f"""\
        database_url: sqlite:///{database}
        daemon:
          listen: 127.0.0.1:{listen}
        """))
    timeout = duration(min(PROBE_TIMEOUT, args.interval))  # a port's timeout may not exceed its interval
    for n in range(args.targets):
        port = {"name": "api", "type": "http", "url": nginx.url(n), "interval": duration(args.interval),
                "timeout": timeout, "freshness": {"json_path": "generated_at"}}
        (config / "contracts" / f"p{n:05d}.yaml").write_text(textwrap.dedent(f"""\
            apiVersion: meshwatch/v1
            kind: DataProduct
            metadata: {{domain: bench, name: p{n:05d}}}
            owner: {{team: bench}}
            ports:
              - {json.dumps(port)}
            objectives:
              - {{name: api-availability, port: api, indicator: availability, target: 99%}}
              - {{name: api-freshness, port: api, indicator: freshness, threshold: 5m, target: 99%}}
            """))
    return config, database, listen


def has_workers_flag(env: dict[str, str]) -> bool:
    help_text = subprocess.run([str(MESHWATCH), "run", "--help"], capture_output=True, text=True,
                               cwd=ROOT, env=env, timeout=60)
    return "--workers" in help_text.stdout


def meshwatch_env(source: Path | None) -> dict[str, str]:
    """The environment without MESHWATCH_* settings (they would override the temp config's), with
    `source` (a folder holding an exported `monitor/`) ahead of the editable install."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MESHWATCH_")}
    if source is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(source), env.get("PYTHONPATH")]))
    return env


def git(*command: str) -> str:
    return subprocess.run(["git", *command], capture_output=True, text=True, cwd=ROOT,
                          check=True).stdout.strip()


def export(revision: str, folder: Path) -> tuple[Path, str]:
    """`monitor/` as committed at `revision`, in `folder`: a run measures that commit, not the
    working tree other engineers are editing."""
    source = folder / "source"
    source.mkdir()
    archive = subprocess.run(["git", "archive", revision, "monitor"], capture_output=True, cwd=ROOT)
    if archive.returncode != 0:
        raise SystemExit(f"git archive {revision}: {archive.stderr.decode(errors='replace').strip()}")
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive.stdout, check=True)
    return source, f"{revision} = {git('rev-parse', '--short', revision)} (exported)"


def working_tree() -> str:
    changed = git("status", "--porcelain", "--", "monitor")
    return f"working tree at {git('rev-parse', '--short', 'HEAD')}" + (
        " + uncommitted changes in monitor/" if changed else "")


def health_documents(child: Child, url: str, within: float = 10) -> list[dict]:
    """`/healthz` of every live worker: workers share the port, so a new connection may reach any of
    them; asked again until each worker the leases list has answered (or `within` seconds)."""
    documents: dict[str, dict] = {}
    deadline = time.monotonic() + within
    while True:
        document = wait_for(child, url, within=within) or {}
        worker = document.get("worker") or {}
        documents[str(worker.get("id", ""))] = document
        if len(documents) >= len(worker.get("workers") or [None]) or time.monotonic() > deadline:
            return list(documents.values())
        time.sleep(0.05)  # asking a server this script started


def settled(daemon: Child, url: str, targets: int, several: bool) -> bool:
    """Every port scheduled, summed over the workers (when /healthz says how many); with several
    workers, each child of the parent answering with a share of them (the shards balanced)."""
    documents = health_documents(daemon, url, within=120)  # workers may take a while to start
    # counted after an answer: a parent answers nothing itself and may not have started its workers
    expected = max(1, len(psutil.Process(daemon.process.pid).children())) if several else 1
    ports = [document.get("ports", targets) for document in documents]
    return len(documents) >= expected and sum(ports) >= targets and (not several or all(ports))


def combined(documents: list[dict]) -> dict:
    """One `/healthz` for all workers: counts and counts by reason summed, lags and times the
    largest, a status ok only when every worker's is."""
    whole: dict = {"workers_answered": len(documents)}
    for key in dict.fromkeys(key for document in documents for key in document):
        values = [document[key] for document in documents if document.get(key) is not None]
        if not values:
            whole[key] = None
        elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            whole[key] = max(values) if re.search(r"lag|seconds", key) else sum(values)
        elif all(isinstance(v, dict) for v in values) and all(
                isinstance(n, int | float) for v in values for n in v.values()):
            whole[key] = {name: sum(v.get(name, 0) for v in values) for v in values for name in v}
        elif key == "status":
            whole[key] = "ok" if all(v == "ok" for v in values) else "degraded"
        elif all(isinstance(v, str) for v in values):
            whole[key] = max(values)
        else:
            whole[key] = values[0] if len(values) == 1 else values
    return whole


@dataclass
class MeshwatchRun:
    window: Window
    health: dict
    processes: int
    exit_code: int | None
    exit_seconds: float
    tracebacks: int
    cancelled: int
    after_stopped: list[str]
    statuses: dict[str, int]
    alerts_fired: int


def run_meshwatch(folder: Path, args, nginx: Nginx, workers: str | None, env: dict[str, str],
                  children: list[Child]) -> MeshwatchRun:
    config, database, listen = write_mesh(folder, args, nginx)
    command = [str(MESHWATCH), "run", "--config", str(config)]
    if workers is not None:
        command += ["--workers", workers]
    daemon = start("meshwatch", command, folder, children, env=env)
    healthz = f"http://127.0.0.1:{listen}/healthz"
    deadline = time.monotonic() + 120
    while not settled(daemon, healthz, args.targets, several=workers is not None):
        if time.monotonic() > deadline:
            raise ChildDied(f"meshwatch has not scheduled {args.targets} ports within 120 s:\n"
                            f"{daemon.tail()}")
        time.sleep(0.5)  # waiting for a server this script started
    pause(args.warmup, [nginx.child, daemon])
    window = measure(nginx, [daemon], args.seconds)
    processes = len(window.rss_mb)
    health = combined(health_documents(daemon, healthz))
    began = time.monotonic()
    daemon.process.send_signal(signal.SIGTERM)
    try:
        exit_code: int | None = daemon.process.wait(timeout=STOP_WITHIN)
    except subprocess.TimeoutExpired:
        exit_code = None
    exit_seconds = time.monotonic() - began
    daemon.kill_group()  # workers a parent left behind, or a daemon that did not stop
    log = daemon.log.read_text(errors="replace")
    lines = log.splitlines()
    # after the last "stopped" line: a worker's or the parent's of all workers
    stopped = [i for i, line in enumerate(lines) if re.search(r"\bstopped\b", line)]
    after_stopped = [line for line in lines[stopped[-1] + 1:] if line.strip()] if stopped else []
    evaluated = subprocess.run([str(MESHWATCH), "evaluate", "--json", "--config", str(config)],
                               capture_output=True, text=True, cwd=ROOT, env=env, timeout=900)
    if evaluated.returncode != 0:
        raise ChildDied(f"meshwatch evaluate exited {evaluated.returncode}:\n{evaluated.stderr[-2000:]}")
    statuses: dict[str, int] = {}
    for objective in json.loads(evaluated.stdout)["objectives"]:
        statuses[objective["status"]] = statuses.get(objective["status"], 0) + 1
    with sqlite3.connect(database) as connection:
        fired = connection.execute("SELECT count(*) FROM alert WHERE fired_at IS NOT NULL")
        alerts_fired = fired.fetchone()[0]
    return MeshwatchRun(window, health, processes, exit_code, exit_seconds, log.count("Traceback"),
                        log.count("CancelledError"), after_stopped, statuses, alerts_fired)


@dataclass
class PeerRun:
    window: Window
    good: float | None  # the window's probes blackbox_exporter reported successful
    total: float | None  # … and all it reported
    scrape_failures: float | None  # scrapes of the window Prometheus reported down


def query(port: int, expression: str, at: float | None = None) -> float | None:
    """One number from Prometheus's instant query API (at a Unix time, default now), None when it
    has none."""
    parameters = {"query": expression} | ({"time": f"{at:.3f}"} if at is not None else {})
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode(parameters)
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - our own server
            result = json.load(answer)["data"]["result"]
    except (OSError, ValueError, KeyError):
        return None
    return float(result[0]["value"][1]) if result else None


def run_peer(folder: Path, args, nginx: Nginx, children: list[Child]) -> PeerRun:
    blackbox_port, prometheus_port = free_port(), free_port()
    (folder / "blackbox.yml").write_text(textwrap.dedent(f"""\
        modules:
          http_2xx:
            prober: http
            timeout: {duration(PROBE_TIMEOUT)}
            http:
              preferred_ip_protocol: ip4
        """))
    scrape = {
        "global": {"scrape_interval": duration(args.interval),
                   "scrape_timeout": duration(min(PROBE_TIMEOUT, args.interval))},
        "scrape_configs": [{
            "job_name": "blackbox", "metrics_path": "/probe", "params": {"module": ["http_2xx"]},
            "static_configs": [{"targets": [nginx.url(n) for n in range(args.targets)]}],
            "relabel_configs": [
                {"source_labels": ["__address__"], "target_label": "__param_target"},
                {"source_labels": ["__param_target"], "target_label": "instance"},
                {"target_label": "__address__", "replacement": f"127.0.0.1:{blackbox_port}"}]}]}
    (folder / "prometheus.yml").write_text(json.dumps(scrape))  # JSON is YAML
    blackbox = start("blackbox_exporter", [
        binary("blackbox_exporter"), f"--config.file={folder / 'blackbox.yml'}",
        f"--web.listen-address=127.0.0.1:{blackbox_port}"], folder, children)
    wait_for(blackbox, f"http://127.0.0.1:{blackbox_port}/metrics", within=30)
    prometheus = start("prometheus", [
        binary("prometheus"), f"--config.file={folder / 'prometheus.yml'}",
        f"--storage.tsdb.path={folder / 'tsdb'}", f"--web.listen-address=127.0.0.1:{prometheus_port}",
        "--log.level=warn"], folder, children)
    wait_until_ok(prometheus, f"http://127.0.0.1:{prometheus_port}/-/ready", within=60)
    deadline = time.monotonic() + 60
    while query(prometheus_port, "count(up)") != args.targets:  # every target scraped once
        prometheus.check()
        blackbox.check()
        if time.monotonic() > deadline:
            raise ChildDied(f"prometheus has not scraped all {args.targets} targets within 60 s:\n"
                            f"{prometheus.tail()}")
        time.sleep(0.5)  # waiting for a server this script started
    pause(args.warmup, [nginx.child, blackbox, prometheus])
    window = measure(nginx, [prometheus, blackbox], args.seconds)
    end, span = time.time(), f"{round(window.seconds)}s"  # the same range for every query

    good = query(prometheus_port, f"sum(sum_over_time(probe_success[{span}]))", end)
    total = query(prometheus_port, f"sum(count_over_time(probe_success[{span}]))", end)
    down = query(prometheus_port, f"sum(count_over_time(up[{span}])) - sum(sum_over_time(up[{span}]))", end)
    for child in (prometheus, blackbox):
        child.kill_group()
    return PeerRun(window, good, total, down)


def mark(met: bool) -> str:
    return "met" if met else "NOT MET"


def rss_text(rss: list[tuple[str, float]]) -> str:
    if not rss:
        return "n/a"
    shown = ", ".join(f"{name} {mb:.0f} MB" for name, mb in rss[:6])
    more = f", … ({len(rss)} processes)" if len(rss) > 6 else ""
    return f"{shown}{more}; tree {sum(mb for _n, mb in rss):.0f} MB"


def figure(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def side(name: str, window: Window, scheduled: float) -> str:
    return (f"{name}: {window.probes:,} probes in {window.seconds:.1f} s = {window.rate:,.0f}/s "
            f"({window.rate / scheduled:.2f} of scheduled; per {SLICE:g} s: "
            f"{' '.join(f'{rate:,.0f}' for rate in window.slices)}); {window.cpu_seconds:.1f} CPU-s = "
            f"{window.cpu_per_1000:.2f} CPU-s per 1,000 probes ({window.cpu_seconds / window.seconds:.2f} "
            f"cores); peak RSS {rss_text(window.rss_mb)}")


def machine(name: str, window: Window) -> str:
    """How busy the machine was: a neighbour's load makes every figure of the window worse."""
    cores = window.machine_busy_seconds / window.seconds
    others = (window.machine_busy_seconds - window.cpu_seconds - window.nginx_cpu_seconds) / window.seconds
    mine, target = window.cpu_seconds / window.seconds, window.nginx_cpu_seconds / window.seconds
    return (f"{cores:.2f} of {psutil.cpu_count()} cores busy in {name}'s window: {mine:.2f} {name}, "
            f"{target:.2f} nginx, {max(others, 0):.2f} everything else")


def report(args, workers: str | None, workers_note: str, measured: str, mesh: MeshwatchRun,
           peer: PeerRun) -> list[str]:
    scheduled = args.targets / args.interval
    ours, theirs = mesh.window, peer.window
    health = mesh.health
    lag = health.get("scheduling_lag_p99_seconds")
    skipped = {key: value for key, value in health.items()
               if re.search(r"skip|miss|stretch|overload|dropped|late", key)}
    breached = mesh.statuses.get("breached", 0)
    worst_rss = max((mb for _n, mb in ours.rss_mb), default=float("nan"))
    stop = (f"exit code {mesh.exit_code} after {mesh.exit_seconds:.1f} s" if mesh.exit_code is not None
            else f"still running {STOP_WITHIN:g} s after SIGTERM (killed)")
    overload = " (this run's scheduled rate is the 2.5× overload)" if scheduled >= 2500 else (
        " (judged at 2.5× overload, i.e. --targets 2500; shown for this run)")
    lines = [
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.targets:,} targets every {args.interval:g} s "
        f"({scheduled:,.0f} probes/s scheduled), {args.seconds} s measured after {args.warmup:g} s warm-up, "
        f"workers: {workers or 'none given'}{workers_note}, {psutil.cpu_count()} cores; meshwatch {measured}",
        side("meshwatch", ours, scheduled),
        side("peer (prometheus + blackbox_exporter)", theirs, scheduled),
        "machine: " + machine("meshwatch", ours) + "; " + machine("peer", theirs),
        f"peer's own view of the window: {figure(peer.good, ',.0f')} of {figure(peer.total, ',.0f')} "
        f"probes successful, scrapes down {figure(peer.scrape_failures, ',.0f')}",
        f"ratios meshwatch ÷ peer: CPU per 1,000 probes {ours.cpu_per_1000 / theirs.cpu_per_1000:.2f}, "
        f"probes/s {ours.rate / theirs.rate if theirs.rate else float('nan'):.2f}",
        f"meshwatch /healthz at the end ({health.get('workers_answered', 1)} worker(s) answered; "
        "counts summed, lag the largest): scheduling lag p99 "
        f"{'n/a' if lag is None else f'{lag * 1000:,.0f} ms'}; "
        + ", ".join(f"{key} {value}" for key, value in skipped.items())
        + f"; status {health.get('status')}, probes_run {health.get('probes_run')}, "
          f"in_flight {health.get('in_flight')}, buffered {health.get('buffered_measurements')}, "
          f"rounds {health.get('rounds')}",
        "meshwatch objectives after the run (evaluate --json): "
        + ", ".join(f"{status} {count:,}" for status, count in sorted(mesh.statuses.items()))
        + f"; false breaches {breached:,}; alerts ever fired {mesh.alerts_fired:,}",
        f"meshwatch SIGTERM: {stop}; log: {mesh.tracebacks:,} 'Traceback', {mesh.cancelled:,} "
        f"'CancelledError', {len(mesh.after_stopped):,} line(s) after 'stopped'"
        + (f" (first: {mesh.after_stopped[0][:160]!r})" if mesh.after_stopped else ""),
        "targets (issue 10, 2 cores):",
        f"  ≥ 2,500 probes/s with --workers auto: {mark(ours.rate >= 2500 and workers == 'auto')} "
        f"({ours.rate:,.0f}/s, workers {workers or 'none given'}{workers_note})",
        f"  ≤ 0.4 CPU-s per 1,000 probes: {mark(ours.cpu_per_1000 <= 0.4)} ({ours.cpu_per_1000:.2f})",
        f"  scheduling lag p99 ≤ 1 s: {mark(lag is not None and lag <= 1)} "
        f"({'n/a' if lag is None else f'{lag:.2f} s'})",
        f"  ≤ 200 MB RSS per worker: {mark(worst_rss <= 200)} (largest process {worst_rss:.0f} MB, "
        f"{mesh.processes} process(es))",
        f"  zero false breaches at 2.5× overload: {mark(breached == 0 and mesh.alerts_fired == 0)} "
        f"({breached:,} breached, {mesh.alerts_fired:,} alerts fired){overload}",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--workers", default=None, help="passed to meshwatch run --workers (N or auto)")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--results", type=Path, default=RESULTS, help="the file the block is appended to")
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                        help="first wait up to SECONDS for the machine's other load to fall under 0.4 cores")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (configs, logs)")
    parser.add_argument("--revision", default=None,
                        help="measure monitor/ as committed at REV (e.g. HEAD), not the working tree")
    args = parser.parse_args()
    for name in BINARIES:
        binary(name)
    if not MESHWATCH.exists():
        raise SystemExit(f"{MESHWATCH} not found: install the project into .venv first")
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # children inherit it: thousands of sockets
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` cleans up
    folder = Path(tempfile.mkdtemp(prefix="meshwatch-peer-"))
    children: list[Child] = []
    try:
        source, measured = export(args.revision, folder) if args.revision else (None, working_tree())
        env = meshwatch_env(source)
        workers, workers_note = args.workers, ""
        if workers is not None and not has_workers_flag(env):
            workers = None
            workers_note = f" ({args.workers} asked; meshwatch run has no --workers yet: one process)"
        if args.wait_quiet:
            wait_for_quiet(args.wait_quiet)
        nginx = Nginx(folder, children)
        print(f"nginx on 127.0.0.1:{nginx.port}; meshwatch ({measured}) with {args.targets:,} targets…",
              file=sys.stderr)
        mesh = run_meshwatch(folder, args, nginx, workers, env, children)
        if args.wait_quiet:
            wait_for_quiet(args.wait_quiet)
        print("peer: prometheus + blackbox_exporter…", file=sys.stderr)
        peer = run_peer(folder, args, nginx, children)
        lines = report(args, workers, workers_note, measured, mesh, peer)
    except ChildDied as error:
        raise SystemExit(f"benchmark aborted: {error}") from None
    except KeyboardInterrupt:
        raise SystemExit("interrupted: every child stopped, the temp dir removed (unless --keep)") from None
    finally:
        for child in reversed(children):
            child.kill_group()
        if args.keep:
            print(f"kept {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print("\n".join(lines))
    with args.results.open("a") as results:
        results.write("\n".join(lines) + "\n\n")


if __name__ == "__main__":
    main()
