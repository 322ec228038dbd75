"""Several `meshwatch run` processes share one mesh through the store (issue 10): real worker
processes on the local PostgreSQL, probes counted at a real HTTP server. Two or three separate
workers probe every port once per interval between them; a worker killed with -9 is covered
within 45 s and no run or event is stored twice; `--workers 3` restarts a killed child and stops
cleanly; three workers start at once on a fresh database; SIGTERM under load stops cleanly and
no request follows "stopped"."""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Iterator
from datetime import datetime

import psutil
import pytest
from sqlalchemy import create_engine, text

from tests.support.postgres import postgres_database
from tests.support.workers import (
    CountingServer,
    Meshwatch,
    Processes,
    counts_in,
    shortest_gaps,
    wait_for,
    write_mesh,
)

pytestmark = pytest.mark.postgres

SHARDS = 64
PRODUCTS = 36
INTERVAL = 2.0  # seconds, the ports' interval
WINDOW = 20.0  # seconds over which the requests per path are counted


@pytest.fixture
def server() -> Iterator[CountingServer]:
    counting = CountingServer().start()
    yield counting
    counting.stop()


@pytest.fixture
def database() -> Iterator[str]:
    yield from postgres_database()


@pytest.fixture
def mesh(tmp_path, server, database) -> list[str]:
    return write_mesh(tmp_path / "config", server, database, PRODUCTS)


@pytest.fixture
def processes(tmp_path) -> Iterator[Processes]:
    started = Processes(tmp_path / "config", tmp_path)
    try:
        yield started
    finally:
        started.kill_all()


def settled(workers: list[Meshwatch], ports: int) -> list[dict] | None:
    """Each worker's /healthz once the shards are divided: every worker answers and holds some,
    together they hold all 64 and no shard twice, and they schedule all `ports` between them."""
    documents = [d for worker in workers if (d := worker.health()) and d.get("worker")]
    if len(documents) < len(workers):
        return None
    shards = [set(d["worker"]["shards"]) for d in documents]
    if sum(map(len, shards)) != SHARDS or set().union(*shards) != set(range(SHARDS)):
        return None
    if any(not held for held in shards) or sum(d["ports"] for d in documents) != ports:
        return None
    return documents


def assert_probed_once_per_interval(server: CountingServer, paths: list[str], start: float) -> None:
    """Over WINDOW seconds from `start`, every path got WINDOW/INTERVAL requests (±1 for the
    edges) and never two within one interval."""
    time.sleep(max(0.0, start + WINDOW - time.time()))  # the window itself: requests need real time
    arrivals = server.arrivals()
    counts = counts_in(arrivals, paths, start, start + WINDOW)
    expected = WINDOW / INTERVAL
    wrong = {path: count for path, count in counts.items() if abs(count - expected) > 1}
    assert not wrong, f"requests per path over {WINDOW:g}s, expected {expected:g}±1: {wrong}"
    doubled = {path: round(gap, 3) for path, gap in shortest_gaps(arrivals, paths, start, start + WINDOW)
               .items() if gap < INTERVAL / 2}
    assert not doubled, f"paths asked twice within one {INTERVAL:g}s interval (shortest gap): {doubled}"


def assert_each_lists_every_live_worker(workers: list[Meshwatch]) -> None:
    documents = [d for worker in workers if (d := worker.health())]
    assert len(documents) == len(workers), "every worker answers /healthz"
    ids = {d["worker"]["id"] for d in documents}
    listed = [{w["id"] for w in d["worker"]["workers"]} for d in documents]
    assert listed == [ids] * len(workers), f"live workers {ids}, listed {listed}"
    pids = [{w["pid"] for w in d["worker"]["workers"]} for d in documents]
    assert pids == [{worker.pid for worker in workers}] * len(workers)


@pytest.mark.parametrize("count", [2, 3])
def test_separate_workers_share_the_probes_once_per_interval(count, server, mesh, processes):
    workers = [processes.start() for _ in range(count)]
    wait_for(lambda: settled(workers, len(mesh)), 45, f"{count} workers dividing the 64 shards")
    assert_probed_once_per_interval(server, mesh, time.time() + 0.5)
    assert_each_lists_every_live_worker(workers)


def test_a_killed_worker_is_covered_within_45s_and_nothing_is_stored_twice(server, mesh, processes,
                                                                            database):
    workers = [processes.start() for _ in range(3)]
    documents = wait_for(lambda: settled(workers, len(mesh)), 45, "3 workers dividing the 64 shards")
    victim = max(range(3), key=lambda n: documents[n]["ports"])  # the one with the most ports
    workers[victim].process.send_signal(signal.SIGKILL)
    workers[victim].process.wait(10)
    killed_at = time.time()

    def every_path_probed_again() -> bool:
        arrivals = server.arrivals()
        return all(any(t > killed_at + 1 for t in arrivals.get(path, [])) for path in mesh)

    wait_for(every_path_probed_again, 45 - (time.time() - killed_at), "every port probed again after kill -9")
    survivors = [worker for n, worker in enumerate(workers) if n != victim]
    wait_for(lambda: settled(survivors, len(mesh)), 30, "the 2 survivors holding all 64 shards")
    assert_probed_once_per_interval(server, mesh, time.time() + 0.5)

    for worker in survivors:  # a clean stop writes what each buffered
        worker.process.send_signal(signal.SIGTERM)
    for worker in survivors:
        assert worker.process.wait(15) == 0, worker.stderr()[-3000:]
    engine = create_engine(database)
    try:
        with engine.connect() as connection:
            rows, runs, with_slot = connection.execute(text(
                "SELECT count(*), count(DISTINCT (product, port, slot)), count(slot) "
                "FROM probe_result")).one()
            events = connection.execute(text(
                "SELECT coalesce(sum(m.total), 0) FROM event_minute m JOIN series s ON s.id = m.series_id "
                "WHERE s.objective LIKE '%-availability'")).scalar()
    finally:
        engine.dispose()
    assert rows > 0
    assert rows == runs, f"{rows} probe results stored for {runs} distinct runs"
    assert events == with_slot, f"{events} availability events for {with_slot} stored runs"


def _message(line: dict) -> str:
    return line.get("message", line.get("raw", ""))


def test_a_supervisor_runs_restarts_and_stops_its_workers(server, mesh, processes):
    supervisor = processes.start("--workers", "3")
    first = wait_for(lambda: {c.pid for c in supervisor.children()} if len(supervisor.children()) == 3
                     else None, 30, "3 children of the supervisor")

    def lists(pids: set[int]) -> dict | None:
        document = supervisor.health()  # from whichever worker the kernel hands the connection
        if document is None or document.get("worker") is None:
            return None
        live = {w["pid"] for w in document["worker"]["workers"]}
        return document if pids <= live else None

    document = wait_for(lambda: lists(first), 30, "/healthz on the shared port listing the 3 children")
    assert {w["pid"] for w in document["worker"]["workers"]} == first

    victim = min(first)
    psutil.Process(victim).send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    restarted = wait_for(lambda: (pids - first) if len(pids := {c.pid for c in supervisor.children()}) == 3
                         and pids - first else None, 10, "a new child in place of the killed one")
    assert time.monotonic() - killed_at <= 10
    assert len(restarted) == 1
    wait_for(lambda: lists(restarted), 30, "the restarted child among the live workers")

    stop_cleanly(supervisor)
    messages = [_message(line) for line in supervisor.log_lines()]
    assert sum(m.startswith("stopped;") for m in messages) == 3, messages[-20:]
    assert messages[-1].startswith("all workers stopped"), messages[-20:]
    assert not [pid for pid in (first | restarted) - {victim} if psutil.pid_exists(pid)
                and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]


def stop_cleanly(started) -> None:
    """SIGTERM: exit 0 within 10 s, no traceback and no CancelledError on stderr."""
    started.process.send_signal(signal.SIGTERM)
    sent_at = time.monotonic()
    code = started.process.wait(15)
    took = time.monotonic() - sent_at
    stderr = started.stderr()
    assert code == 0, stderr[-3000:]
    assert took <= 10, f"it took {took:.1f}s to stop"
    assert "Traceback" not in stderr and "CancelledError" not in stderr, stderr[-3000:]


def test_three_workers_started_at_once_on_a_fresh_database_all_come_up(server, mesh, processes):
    workers = [processes.start() for _ in range(3)]
    wait_for(lambda: all(w.health() for w in workers) or any(w.process.poll() is not None for w in workers),
             60, "/healthz of the 3 workers")
    exited = {w.pid: (w.process.returncode, w.stderr()[-2000:]) for w in workers
              if w.process.poll() is not None}
    assert not exited, exited
    assert all(w.health() for w in workers)


def test_sigterm_under_load_stops_cleanly_and_no_request_follows(tmp_path, processes, database):
    server = CountingServer(slow_for=0.5).start()
    try:
        paths = write_mesh(tmp_path / "config", server, database, products=30, ports_per_product=10,
                           interval="1s", timeout="1s", prefix="/slow/p")
        worker = processes.start()
        wait_for(lambda: (d := worker.health()) and d["ports"] == len(paths), 60, "300 ports scheduled")
        wait_for(lambda: len(server.arrivals()) == len(paths), 30, "every path asked for")
        time.sleep(2)  # a few rounds of 300 slow probes: the load the stop must cope with
        stop_cleanly(worker)
        lines = worker.log_lines()
        last = lines[-1]
        assert re.fullmatch(r"stopped; \d+ measurement\(s\) written at stop", _message(last)), lines[-5:]
        stopped_at = datetime.fromisoformat(last["time"]).timestamp()
        seen = server.requests()
        time.sleep(1)  # nothing may still be on its way
        late = [(path, t - stopped_at) for path, times in server.arrivals().items() for t in times
                if t > stopped_at]
        assert not late, f"requests after 'stopped': {late[:10]}"
        assert server.requests() == seen
    finally:
        server.stop()
