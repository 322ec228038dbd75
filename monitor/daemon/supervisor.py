"""`meshwatch run --workers N`: N worker processes under one parent, so one machine uses all its
cores. The workers are ordinary daemons sharing the mesh through the store's shard leases (and
the listening port, through SO_REUSEPORT); the parent only starts them, forwards SIGTERM, SIGINT
and SIGHUP, restarts a worker that dies (after 1 s, doubling to 30 s while it keeps dying within a
minute of its start) and, at a stop, waits for them (STOP_WITHIN, then SIGKILL).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass

log = logging.getLogger("meshwatch.supervisor")

STOP_WITHIN = 10.0  # seconds the workers have to stop before they are killed
STEADY = 60.0  # a worker that ran this long is restarted at once when it dies
MAX_BACKOFF = 30.0


def worker_count(value: str) -> int:
    """`auto` (one per core this process may use) or a whole number ≥ 1."""
    if value.strip().lower() == "auto":
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                   else os.cpu_count() or 1)
    try:
        count = int(value)
    except ValueError:
        raise ValueError(f"--workers takes a number or auto, not {value!r}") from None
    if count < 1:
        raise ValueError(f"--workers must be at least 1, not {count}")
    return count


@dataclass
class Worker:
    number: int
    process: subprocess.Popen | None = None
    started: float = 0.0
    backoff: float = 1.0
    restart_at: float | None = None
    told: bool = False  # the stop was forwarded to this process


def supervise(command: Sequence[str], count: int) -> int:
    """Run `count` copies of `command` (a worker started with `--worker-of <this pid>`) until a
    signal stops them; 0 when every worker stopped cleanly."""
    stopping = False
    workers = [Worker(number) for number in range(count)]

    def start(worker: Worker) -> None:
        worker.process = subprocess.Popen([*command, "--worker-of", str(os.getpid())])
        worker.started, worker.restart_at, worker.told = time.monotonic(), None, False
        log.info("worker %d started (pid %d)", worker.number, worker.process.pid)

    def forward(signum: int, _frame) -> None:
        nonlocal stopping
        if signum in (signal.SIGTERM, signal.SIGINT):
            stopping = True
        for worker in workers:
            if worker.process is not None and worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM if signum == signal.SIGINT else signum)
                worker.told = worker.told or signum != signal.SIGHUP

    previous = {signum: signal.signal(signum, forward)
                for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    try:
        for worker in workers:
            start(worker)
        log.info("%d worker(s) running under pid %d", count, os.getpid())
        while not stopping:
            time.sleep(0.2)
            for worker in workers:
                _look_after(worker, start, stopping)
        return _stop(workers)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _look_after(worker: Worker, start, stopping: bool) -> None:
    now = time.monotonic()
    if worker.restart_at is not None:
        if now >= worker.restart_at and not stopping:
            start(worker)
        return
    if worker.process is None or stopping:
        return
    code = worker.process.poll()
    if code is None:
        return
    lived = now - worker.started
    wait = 1.0 if lived >= STEADY else worker.backoff  # 1 s, 2 s, 4 s … while it keeps dying
    worker.backoff = 2.0 if lived >= STEADY else min(worker.backoff * 2, MAX_BACKOFF)
    worker.restart_at = now + wait
    log.error("worker %d (pid %d) exited with %s after %.0fs; restarting it in %gs", worker.number,
              worker.process.pid, _exit_text(code), lived, wait)


def _stop(workers: list[Worker]) -> int:
    """Wait for the workers told to stop; 0 when each stopped cleanly (or, still starting, was
    ended by the SIGTERM before it could handle it: it had nothing in flight)."""
    deadline = time.monotonic() + STOP_WITHIN
    running = [(w, w.process) for w in workers if w.process is not None]
    for worker, process in running:
        if not worker.told and process.poll() is None:
            process.send_signal(signal.SIGTERM)  # started after the stop was forwarded
    codes = []
    for _worker, process in running:
        try:
            codes.append(process.wait(timeout=max(0.0, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            log.error("worker pid %d did not stop within %gs: killing it", process.pid, STOP_WITHIN)
            process.kill()
            codes.append(process.wait())
    failed = [code for code in codes if code not in (0, -signal.SIGTERM)]
    log.info("all workers stopped%s", f" ({len(failed)} not cleanly)" if failed else "")
    return 1 if failed else 0


def _exit_text(code: int) -> str:
    return f"signal {signal.Signals(-code).name}" if code < 0 else f"code {code}"
