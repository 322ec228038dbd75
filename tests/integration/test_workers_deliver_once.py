"""Real worker processes on one PostgreSQL store deliver the monthly report once and answer the
same status (issues 10 and 13): `meshwatch run --workers 2` (a supervisor and its 2 children on
one listening port) beside a third, plain `meshwatch run`, on a store that holds last month's
measurements. A real webhook receiver gets the month's report exactly once — at the workers'
start, after more rounds of every worker, and after a child killed with -9 is restarted by the
supervisor and checks again at its start — and only one worker's log says it queued it.
GET /api/v1/status on the shared port, answered by either child, covers every product with the
same statuses: the products another worker holds are evaluated from the store (`source:
store`), its own come from its round. Then SIGTERM stops everything cleanly.

The process helpers are tests/support/workers.py's; tests/integration/test_reports_delivered.py
proves the same delivery with engines in one process."""

from __future__ import annotations

import json
import signal
import textwrap
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psutil
import pytest
from sqlalchemy import create_engine, text

from monitor.daemon.reports import SETTLE, due_month, report_key
from monitor.demo.webhooks import Received, WebhookReceiver
from monitor.reports.months import Month
from monitor.store import Event, open_store, record_events
from monitor.store.leases import SHARDS, shard_of
from tests.support.workers import CountingServer, Meshwatch, Processes, wait_for, write_mesh

pytestmark = pytest.mark.postgres

PRODUCTS = 12
OBJECTIVE = "api0-availability"  # write_mesh's objective of each product's port
HOOK = "/governance"
# zones 14 h apart: at any moment one of them is at least an hour from its next month
ZONES = ("UTC", "Pacific/Kiritimati")


def a_zone_far_from_a_month_end(now: datetime) -> str:
    """A zone whose due month cannot change while the test runs (its month is not about to end)."""
    for zone in ZONES:
        _, end = Month.containing(now - SETTLE, ZoneInfo(zone)).bounds(ZoneInfo(zone))
        if end - (now - SETTLE) > timedelta(hours=1):
            return zone
    raise AssertionError(f"no zone of {ZONES} is an hour from a month's end at {now}")


def fill_the_store(url: str, products: list[str], month: Month, zone: str, now: datetime) -> None:
    """Good availability events every 10 minutes from the start of `month` (in `zone`) until a
    minute ago: `month` has measurements to report, and every objective's window holds events
    whichever worker evaluates it."""
    start, _ = month.bounds(ZoneInfo(zone))
    events, at = [], start + timedelta(minutes=5)
    while at < now - timedelta(minutes=1):
        events += [Event(product, OBJECTIVE, at, 1, 1) for product in products]
        at += timedelta(minutes=10)
    engine = open_store(url)
    try:
        with engine.begin() as connection:
            record_events(connection, events)
    finally:
        engine.dispose()


def configure(directory: Path, url: str, zone: str, hook: str) -> None:
    (directory / "meshwatch.yaml").write_text(textwrap.dedent(f"""\
        database_url: {url}
        timezone: {zone}
        daemon: {{evaluation_interval: 2s}}
        reports: {{monthly: {{to: [{{webhook: '{hook}'}}], format: md}}}}
        """))


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as hooks:
        yield hooks


@pytest.fixture
def mesh_server(tmp_path) -> Iterator[tuple[CountingServer, Processes]]:
    """The HTTP server the mesh's ports are at, and the `meshwatch run` processes on the mesh
    (killed, whatever happened, before the server stops)."""
    server = CountingServer().start()
    started = Processes(tmp_path / "config", tmp_path)
    try:
        yield server, started
    finally:
        started.kill_all()
        server.stop()


# ---- what the processes answer ------------------------------------------------------------
def get(worker: Meshwatch, path: str) -> tuple[int, str, bytes] | None:
    """(status, content type, body) of a GET on the worker's listening port; None when it does
    not answer (yet)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{worker.listen}{path}", timeout=10) as answer:
            return answer.status, answer.headers.get_content_type(), answer.read()
    except OSError:
        return None


def pid_of(worker_id: str) -> int:
    """The pid in a worker id (`host:pid:random`, monitor/daemon/leases.py)."""
    return int(worker_id.rsplit(":", 2)[1])


def answers_from(shared: Meshwatch, pids: set[int], condition, tries: int = 40) -> dict[int, dict]:
    """/healthz on the shared port, asked until each pid of `pids` answered once with a document
    for which `condition` holds (each connection goes to whichever child the kernel picks)."""
    found: dict[int, dict] = {}
    for _ in range(tries):
        document = shared.health()
        if document and document.get("worker") and (pid := pid_of(document["worker"]["id"])) in pids \
                and condition(document):
            found[pid] = document
        if set(found) == pids:
            break
    return found if set(found) == pids else {}


def children_of(supervisor: Meshwatch, count: int) -> set[int] | None:
    pids = {child.pid for child in supervisor.children()}
    return pids if len(pids) == count else None


def reports(receiver: WebhookReceiver) -> list[Received]:
    return [r for r in receiver.at(HOOK) if isinstance(r.json, dict) and r.json.get("type") == "report"]


def outbox_rows(url: str) -> list[tuple[str, str, int]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(
                "SELECT group_key, status, attempts FROM notification ORDER BY id"))]
    finally:
        engine.dispose()


def each_worker_rounds_on(supervisor: Meshwatch, plain: Meshwatch, children: set[int],
                          beyond: dict[int, int]) -> dict[int, int]:
    """Wait until every worker (the children, through the shared port, and the plain one) has
    evaluated at least one more round than `beyond` says (0 for a pid not in it): each round
    hands what is due to the outbox's delivery. The rounds each has done now, by pid."""
    def more(document: dict) -> bool:
        return document["rounds"] > beyond.get(pid_of(document["worker"]["id"]), 0)

    seen = wait_for(lambda: answers_from(supervisor, children, more), 60,
                    f"a further round of the children {sorted(children)}")
    mine = wait_for(lambda: (d := plain.health()) and d.get("worker") and more(d) and d, 60,
                    "a further round of the plain worker")
    return {pid: d["rounds"] for pid, d in seen.items()} | {plain.pid: mine["rounds"]}


def assert_one_report_of(month: Month, receiver: WebhookReceiver, url: str, when: str) -> None:
    got = reports(receiver)
    assert [r.json["month"] for r in got] == [str(month)], f"{when}: {len(got)} report(s)"
    assert len(receiver.at(HOOK)) == 1, f"{when}: posts other than the report"
    assert outbox_rows(url) == [(report_key(month), "sent", 1)], when


# ---- the status API --------------------------------------------------------------------------
def status_documents(supervisor: Meshwatch, children: set[int], tries: int = 40) -> list[dict]:
    """GET /api/v1/status on the shared port, every answer, until each child gave at least one."""
    def answered() -> list[dict] | None:
        documents: list[dict] = []
        for _ in range(tries):
            answer = get(supervisor, "/api/v1/status")
            assert answer is not None and answer[:2] == (200, "application/json"), answer
            documents.append(json.loads(answer[2]))
            if {pid_of(d["worker"]) for d in documents} >= children:
                return documents
        return None

    return wait_for(answered, 30, f"/api/v1/status answered by each child {sorted(children)}")


def settled_shards(supervisor: Meshwatch, plain: Meshwatch, children: set[int]) -> dict[str, set[int]]:
    """Each worker's shards once the 3 hold all 64 between them, each exactly those it wants."""
    def settled(document: dict) -> bool:
        worker = document["worker"]
        return worker["settled"] and worker["mesh"]["workers"] == 3

    def divided() -> dict[str, set[int]] | None:
        documents = [*answers_from(supervisor, children, settled).values()]
        mine = plain.health()
        if len(documents) != len(children) or not mine or not mine.get("worker") or not settled(mine):
            return None
        shards = {d["worker"]["id"]: set(d["worker"]["shards"]) for d in [*documents, mine]}
        held = [s for each in shards.values() for s in each]
        return shards if sorted(held) == list(range(SHARDS)) else None

    return wait_for(divided, 60, "the 3 workers dividing the 64 shards")


def assert_the_status_is_the_same_from_any_worker(supervisor: Meshwatch, plain: Meshwatch,
                                                  children: set[int], products: list[str]) -> None:
    shards = settled_shards(supervisor, plain, children)
    # the round running when the shards settled may have begun before: wait for the one after
    rounds = each_worker_rounds_on(supervisor, plain, children, {})
    rounds = each_worker_rounds_on(supervisor, plain, children, rounds)
    each_worker_rounds_on(supervisor, plain, children, rounds)
    documents = status_documents(supervisor, children)

    statuses: dict[str, set[tuple]] = {product: set() for product in products}
    sources: set[str] = set()
    for document in documents:
        listed = [p["product"] for p in document["products"]]
        assert listed == products, f"worker {document['worker']} lists {listed}"
        held = shards[document["worker"]]
        for entry in document["products"]:
            expected = "round" if shard_of(entry["product"]) in held else "store"
            assert entry["source"] == expected, (document["worker"], entry["product"], entry["source"],
                                                 sorted(held))
            sources.add(entry["source"])
            statuses[entry["product"]].add((entry["status"], tuple(
                (o["objective"], o["status"]) for o in entry["objectives"])))
    assert sources == {"round", "store"}, f"sources seen: {sources}"
    assert statuses == {product: {("ok", ((OBJECTIVE, "ok"),))} for product in products}

    for product in products[:3]:
        answer = get(supervisor, f"/badge/{product}.svg")
        assert answer is not None, f"no answer for the badge of {product}"
        status, content_type, body = answer
        assert (status, content_type) == (200, "image/svg+xml")
        assert body.startswith(b"<svg") and f"<title>{product}: ok</title>".encode() in body


# ---- the test ----------------------------------------------------------------------------------
def test_workers_deliver_the_monthly_report_once_and_answer_the_same_status(
        tmp_path, mesh_server, receiver, postgres_url):
    server, processes = mesh_server
    database = postgres_url
    now = datetime.now(UTC)
    zone = a_zone_far_from_a_month_end(now)
    month = due_month(now, zone)
    config = tmp_path / "config"
    write_mesh(config, server, database, PRODUCTS, interval="5s", timeout="2s")
    configure(config, database, zone, receiver.url(HOOK))
    products = sorted(f"workers/p{n:03d}" for n in range(PRODUCTS))
    fill_the_store(database, products, month, zone, now)

    supervisor = processes.start("--workers", "2")
    children = wait_for(lambda: children_of(supervisor, 2), 30, "the 2 children of the supervisor")
    plain = processes.start()  # beside the children just started: their start checks meet

    # every worker checked at its start and delivered in its first round: one report
    wait_for(lambda: reports(receiver), 60, f"the report of {month}")
    rounds = each_worker_rounds_on(supervisor, plain, children, {})
    rounds = each_worker_rounds_on(supervisor, plain, children, rounds)
    assert_one_report_of(month, receiver, database, "after the first rounds of the 3 workers")
    report = reports(receiver)[0].json
    assert (report["report"], report["timezone"], report["format"]) == ("uptime", zone, "md")
    assert all(product in report["content"] for product in products)

    assert_the_status_is_the_same_from_any_worker(supervisor, plain, children, products)

    # a child killed with -9: the supervisor starts another, which checks again at its start
    victim = min(children)
    psutil.Process(victim).send_signal(signal.SIGKILL)
    replaced = wait_for(lambda: (pids - children) if (pids := children_of(supervisor, 2))
                        and victim not in pids else None, 30, "a child in place of the killed one")
    children = (children - {victim}) | replaced
    rounds = each_worker_rounds_on(supervisor, plain, children, rounds)
    each_worker_rounds_on(supervisor, plain, children, rounds)
    assert_one_report_of(month, receiver, database, "after a child was killed and restarted")

    for started in (supervisor, plain):
        started.process.send_signal(signal.SIGTERM)
    for started in (supervisor, plain):
        code = started.process.wait(30)
        stderr = started.stderr()
        assert code == 0, stderr[-3000:]
        assert "Traceback" not in stderr, stderr[-3000:]
    assert not [pid for pid in children if psutil.pid_exists(pid)
                and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert_one_report_of(month, receiver, database, "after the stop")
    queued = [line for started in (supervisor, plain) for line in started.log_lines()
              if line.get("message", "").startswith(f"uptime report of {month} queued for")]
    assert len(queued) == 1, queued  # one worker queued it; the others found its row
