"""Lineage-aware alerts through a real store (SQLite and PostgreSQL) and a real webhook receiver.

Cart's events (`cart/events`) feed Checkout's orders (`checkout/orders`, `lineage: {upstream:
[cart/events]}`). Cart's owner hears `/cart`; Checkout's owner `/checkout`; Marketing consumes the
orders with `{webhook: …/marketing, inhibit_when_upstream: true}`: it holds Checkout's pages while
an alert of Cart's fires at the same severity or above.

Each row of the table is a sequence of rounds, one minute apart: what holds on Cart's
availability and on Checkout's availability in that round. Each round runs what the daemon runs
(`evaluate_mesh`'s lineage step `with_upstream`, `process_evaluations`, `deliver_due`). The row
says what each destination heard, as `(round, status)`, and which notifications the outbox keeps
held (muted, `held: …`) — never lost, never delivered.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from monitor.alerting import Notifiers, deliver_due, process_evaluations
from monitor.alerting.messages import Message, text
from monitor.contracts.lineage import Lineage
from monitor.demo.webhooks import WebhookReceiver
from monitor.evaluation.mesh import with_upstream
from monitor.store.tables import AlertEventRecord, AlertRecord, NotificationRecord
from tests.support.alerting import AVAILABILITY, FAST_BURN, SLOW_BURN, consumer, product, report, settings

HELD = "held: upstream cart/events api-availability (page) firing"
NEVER_TOLD = "held: never told that it fired (an upstream alert was firing)"
PAGE, TICKET, OK = (FAST_BURN,), (SLOW_BURN,), ()

# key: what people should hear. rounds: (Cart holds, Checkout holds). heard: path → [(round, status)]
SCENARIOS = {
    "the upstream fires first: the held consumer hears of the downstream page only when the "
    "upstream resolves, and then of its resolution": {
        "rounds": [(PAGE, OK), (PAGE, PAGE), (PAGE, PAGE), (OK, PAGE), (OK, OK)],
        "heard": {"/cart": [(0, "firing"), (3, "resolved")],
                  "/checkout": [(1, "firing"), (4, "resolved")],
                  "/marketing": [(3, "firing"), (4, "resolved")]},
        "held": [(1, "firing", HELD)],
    },
    "both fire in one round and the downstream resolves first: the held consumer is told "
    "nothing, the firing and the resolution are kept as held": {
        "rounds": [(PAGE, PAGE), (PAGE, OK), (OK, OK)],
        "heard": {"/cart": [(0, "firing"), (2, "resolved")],
                  "/checkout": [(0, "firing"), (1, "resolved")],
                  "/marketing": []},
        "held": [(0, "firing", HELD), (1, "resolved", NEVER_TOLD)],
    },
    "the downstream fires before the upstream: the consumer was told at once, so it hears the "
    "resolution too": {
        "rounds": [(OK, PAGE), (PAGE, PAGE), (PAGE, OK), (OK, OK)],
        "heard": {"/cart": [(1, "firing"), (3, "resolved")],
                  "/checkout": [(0, "firing"), (2, "resolved")],
                  "/marketing": [(0, "firing"), (2, "resolved")]},
        "held": [],
    },
    "an upstream ticket does not hold a downstream page": {
        "rounds": [(TICKET, OK), (TICKET, PAGE), (TICKET, OK)],
        "heard": {"/cart": [(0, "firing")],
                  "/checkout": [(1, "firing"), (2, "resolved")],
                  "/marketing": [(1, "firing"), (2, "resolved")]},
        "held": [],
    },
}


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def engine(store):
    """The store, once on SQLite and once on PostgreSQL (tests/conftest.py)."""
    return store


def mesh(receiver):
    cart = replace(product(owner_notify=[{"webhook": receiver.url("/cart")}],
                           objectives=[AVAILABILITY]), domain="cart", name="events")
    orders = replace(product(
        owner_notify=[{"webhook": receiver.url("/checkout")}],
        consumers=[consumer("marketing", [{"webhook": receiver.url("/marketing"),
                                           "inhibit_when_upstream": "true"}])],
        objectives=[AVAILABILITY]), upstream=("cart/events",))
    return cart, orders


def run_round(engine, products, holds, at, config):
    reports = [report(p, AVAILABILITY, *conditions) for p, conditions in zip(products, holds,
                                                                             strict=True)]
    with engine.connect() as connection:
        reports = with_upstream(connection, reports, Lineage.of(products))
    summary = process_evaluations(engine, reports, at, config)
    deliver_due(engine, at, Notifiers(config), "worker-1")
    return summary


def outbox(engine):
    with engine.connect() as connection:
        table = NotificationRecord.__table__
        return connection.execute(select(table).order_by(table.c.id)).all()


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=list(SCENARIOS))
def test_lineage_scenario(scenario, engine, receiver, clock):
    products = mesh(receiver)
    config = settings()
    start = clock()
    for number, holds in enumerate(scenario["rounds"]):
        run_round(engine, products, holds, start + number * timedelta(minutes=1), config)

    def round_of(iso: str) -> int:
        return (datetime.fromisoformat(iso) - start) // timedelta(minutes=1)

    heard = {path: [(round_of(r.json["at"]), r.json["status"]) for r in receiver.at(path)]
             for path in scenario["heard"]}
    assert heard == scenario["heard"]
    # the first firing a destination hears is no reminder, held back first or not
    for path in scenario["heard"]:
        firing = [r.json for r in receiver.at(path) if r.json["status"] == "firing"]
        assert not firing or firing[0]["reminder"] is False, (path, firing[0])
    held = [(round_of(row.payload["at"]), row.payload["status"], row.muted_by)
            for row in outbox(engine) if row.status == "muted"]
    assert held == scenario["held"]
    assert all(row.destination.endswith("/marketing") for row in outbox(engine)
               if row.status == "muted")


def test_a_downstream_page_names_its_upstream_cause_and_the_history_says_who_was_held(
        engine, receiver, clock):
    products = mesh(receiver)
    config = settings()
    start = clock()
    run_round(engine, products, (PAGE, OK), start, config)
    summary = run_round(engine, products, (PAGE, PAGE), start + timedelta(minutes=2), config)
    assert (summary.queued, summary.muted, summary.held) == (1, 1, 1)

    [page] = receiver.at("/checkout")
    upstream = [{"product": "cart/events", "objective": "api-availability", "status": "breached",
                 "since": "2026-11-02T12:00:00Z"}]
    assert page.json["upstream"] == upstream
    assert page.json["alerts"][0]["upstream"] == upstream
    message = Message.from_payload(outbox(engine)[1].payload)
    assert ("  probably caused upstream: cart/events api-availability breached since "
            "2026-11-02 12:00 UTC") in text(message).splitlines()
    [cart] = receiver.at("/cart")
    assert cart.json["upstream"] == []

    with engine.connect() as connection:
        alerts, events = AlertRecord.__table__, AlertEventRecord.__table__
        [firing] = connection.execute(select(events).join(alerts, alerts.c.id == events.c.alert_id)
                                      .where(alerts.c.product == "checkout/orders",
                                             events.c.kind == "firing")).all()
    told = {entry["destination"]: entry for entry in firing.told}
    marketing = told[f"webhook:{receiver.url('/marketing')}"]
    assert (marketing["muted"], marketing["held_by"]) == (True, HELD)
    assert told[f"webhook:{receiver.url('/checkout')}"]["muted"] is False
