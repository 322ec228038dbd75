"""This worker's share of the mesh: which shards it holds, renewed through the store.

Every `RENEW` the worker refreshes its row in `worker` (with its load), reads the live workers
(seen within `TTL`), and wants exactly the shards that rendezvous hashing gives it among them. It
renews the leases it holds and wants, gives up those it holds and no longer wants (so a worker
that joins gets its share within one renewal), and takes those it wants whose lease is free or
expired. A worker killed with -9 stops renewing: within `TTL` it is no longer live, its leases
expire, and the others take its shards at their next renewal (≤ TTL + RENEW, then the next due
run of each port). A worker that wants shards another still holds renews again after UNSETTLED,
so a joining worker gets its share one renewal of the holder later. A stored run is unique per
(port, slot), so a hand-over never stores a run twice.

When the store cannot be reached the worker keeps what it holds (the buffer keeps its results)
and says so; it only gives up shards the store says it lost.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import socket
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from monitor.store.engine import store_error_text
from monitor.store.leases import (
    SHARDS,
    acquire,
    ensure_shards,
    forget_workers,
    live_workers,
    release,
    renew,
    see_worker,
    shard_of,
)
from monitor.store.tables import WorkerRecord
from monitor.values.clock import Clock, utc_now

log = logging.getLogger("meshwatch.workers")

TTL = timedelta(seconds=15)  # a lease (and a worker's liveness) lasts this long unless renewed
RENEW = timedelta(seconds=5)  # how often a worker renews; well under TTL
UNSETTLED = timedelta(seconds=1)  # how soon it renews again while it wants shards others hold
FORGET = timedelta(hours=1)  # rows of workers not seen this long are deleted


def rendezvous(shard: int, workers: Collection[str]) -> str | None:
    """The worker that should own `shard`: the highest hash of (worker, shard). When a worker
    joins or leaves, only the shards it wins or held move."""
    def weight(worker: str) -> bytes:
        return hashlib.blake2b(f"{worker}\0{shard}".encode(), digest_size=8).digest()
    return max(workers, key=weight, default=None)


@dataclass
class Change:
    gained: set[int] = field(default_factory=set)
    lost: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.gained or self.lost)


class Leases:
    """The shards this worker holds (shard → epoch), kept up to date by `renew_now`."""

    def __init__(self, engine: Engine, clock: Clock = utc_now, worker_id: str | None = None,
                 ttl: timedelta = TTL):
        self.engine = engine
        self.clock = clock
        self.ttl = ttl
        host = socket.gethostname()
        self.worker = WorkerRecord(id=worker_id or f"{host}:{os.getpid()}:{secrets.token_hex(3)}",
                                   host=host, pid=os.getpid(), started_at=clock(), seen_at=clock())
        self.held: dict[int, int] = {}
        self.acquired_at: dict[int, datetime] = {}
        self.renewed_at: datetime | None = None
        self.peers: list[WorkerRecord] = []  # the live workers seen at the last renewal
        self.last_error: str | None = None
        self.settled = False  # it holds exactly the shards it wants (else: renew again soon)

    @property
    def id(self) -> str:
        return self.worker.id

    def owns(self, product: str) -> bool:
        return shard_of(product) in self.held

    def renew_now(self, load: dict | None = None) -> Change:
        """One renewal (see the module's docstring); what changed. Never raises."""
        now = self.clock()
        before = set(self.held)
        try:
            with self.engine.begin() as connection:
                ensure_shards(connection)
                self.worker.seen_at = now
                self.worker.load = load
                see_worker(connection, self.worker)
                peers = live_workers(connection, now - self.ttl)
                names = [w.id for w in peers] or [self.id]
                wanted = {s for s in range(SHARDS) if rendezvous(s, names) == self.id}
                held = renew(connection, self.id, wanted & set(self.held), now + self.ttl)
                release(connection, self.id, set(self.held) - wanted)
                for shard in sorted(wanted - set(held)):
                    epoch = acquire(connection, self.id, shard, now, now + self.ttl)
                    if epoch is not None:
                        held[shard] = epoch
                        self.acquired_at[shard] = now
                forget_workers(connection, seen_before=now - FORGET)
        except SQLAlchemyError as error:
            if self.last_error is None:
                log.error("cannot renew shard leases: %s; keeping the %d shard(s) held",
                          store_error_text(error), len(self.held))
            self.last_error = store_error_text(error)
            return Change()
        if self.last_error is not None:
            log.info("shard leases renewed again")
        self.last_error = None
        self.held, self.peers, self.renewed_at = held, peers, now
        self.settled = set(held) == wanted
        for shard in set(self.acquired_at) - set(held):
            del self.acquired_at[shard]
        change = Change(set(held) - before, before - set(held))
        if change:
            log.info("worker %s holds %d of %d shard(s) (+%d −%d) among %d live worker(s)", self.id,
                     len(held), SHARDS, len(change.gained), len(change.lost), len(peers))
        return change

    def release_all(self) -> None:
        """Give every shard up and leave (a clean stop): the others take over at their next renewal."""
        try:
            with self.engine.begin() as connection:
                release(connection, self.id, list(self.held))
                forget_workers(connection, [self.id])
        except SQLAlchemyError as error:
            log.warning("could not release shard leases at stop (they expire within %ds): %s",
                        int(self.ttl.total_seconds()), store_error_text(error))
        self.held = {}

    def document(self) -> dict:
        """This worker's part of /healthz."""
        now = self.clock()
        ages = [(now - at).total_seconds() for at in self.acquired_at.values()]
        return {"id": self.id, "shards": sorted(self.held), "of_shards": SHARDS,
                "lease_renewed_seconds_ago": None if self.renewed_at is None
                else round((now - self.renewed_at).total_seconds(), 3),
                "oldest_lease_seconds": round(max(ages), 3) if ages else None,
                "lease_error": self.last_error, "settled": self.settled,
                "mesh": _totals(self.peers),
                "workers": [{"id": w.id, "host": w.host, "pid": w.pid,
                             "seen_at": w.seen_at.isoformat(), "load": w.load} for w in self.peers]}


def _totals(workers: list[WorkerRecord]) -> dict:
    """The live workers' loads added up: the whole mesh's figures, whichever worker answers."""
    totals = {"workers": len(workers)}
    for name in ("products", "ports", "probes_run", "skipped_runs", "in_flight"):
        totals[name] = sum(int((w.load or {}).get(name) or 0) for w in workers)
    return totals
