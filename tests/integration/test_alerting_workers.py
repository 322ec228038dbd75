"""Two daemons on one store: no transition queued twice, no notification sent twice, none lost."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from monitor.alerting import Notifiers, deliver_due, process_evaluations
from monitor.demo.webhooks import WebhookReceiver
from monitor.store import open_store
from monitor.store.tables import AlertEventRecord, NotificationRecord
from tests.support.alerting import AVAILABILITY, FAST_BURN, product, report, settings
from tests.support.threads import run_in_threads

DESTINATIONS = 40


def test_two_workers_claiming_concurrently_send_each_notification_once(store_url, clock):
    config = settings()
    with WebhookReceiver() as receiver:
        mesh = product(owner_notify=[{"webhook": receiver.url(f"/d{i}")}
                                     for i in range(DESTINATIONS)])
        engines = [open_store(store_url), open_store(store_url)]
        try:
            process_evaluations(engines[0], [report(mesh, AVAILABILITY, FAST_BURN)], clock(),
                                config)
            claimed = Counter()

            def worker(index: int):
                while True:
                    summary = deliver_due(engines[index], clock(), Notifiers(config),
                                          f"worker-{index}", limit=3)
                    if summary.claimed == 0:
                        return
                    claimed[index] += summary.claimed

            run_in_threads(lambda: worker(0), lambda: worker(1))
        finally:
            for engine in engines:
                engine.dispose()
    paths = Counter(r.path for r in receiver.requests)
    assert paths == Counter({f"/d{i}": 1 for i in range(DESTINATIONS)})
    assert sum(claimed.values()) == DESTINATIONS


def test_two_daemons_processing_the_same_round_record_each_transition_once(store_url, clock):
    if store_url.startswith("sqlite"):
        pytest.skip("several daemons share a PostgreSQL store; SQLite serves one daemon")
    config = settings()
    mesh = product(owner_notify=[{"webhook": "http://127.0.0.1:9/never"}])
    engines = [open_store(store_url), open_store(store_url)]
    try:
        for minute in range(3):  # fire, then two rounds of "still firing"
            at = clock.advance() if minute else clock()
            run_in_threads(*[
                (lambda e=e, at=at: process_evaluations(
                    e, [report(mesh, AVAILABILITY, FAST_BURN)], at, config)) for e in engines])
        with engines[0].connect() as connection:
            events = connection.execute(select(func.count()).select_from(
                AlertEventRecord.__table__)).scalar_one()
            queued = connection.execute(select(func.count()).select_from(
                NotificationRecord.__table__)).scalar_one()
    finally:
        for engine in engines:
            engine.dispose()
    assert (events, queued) == (1, 1)
