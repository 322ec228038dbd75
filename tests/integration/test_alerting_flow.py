"""Alerts end to end through a real webhook receiver: evaluation reports → outbox → delivery."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from monitor.alerting import (
    Notifiers,
    add_silence,
    alert_overview,
    deliver_due,
    expire_silence,
    process_evaluations,
)
from monitor.demo.webhooks import WebhookReceiver
from monitor.store import open_store
from monitor.store.tables import AlertRecord, NotificationRecord
from tests.support.alerting import (
    AVAILABILITY,
    FAST_BURN,
    FRESHNESS,
    NO_DATA,
    SLOW_BURN,
    consumer,
    healthy,
    product,
    report,
    settings,
)


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def engine(tmp_path):
    engine = open_store(f"sqlite:///{tmp_path / 'alerts.db'}")
    yield engine
    engine.dispose()


def run_round(engine, reports, at, config, worker="worker-1"):
    summary = process_evaluations(engine, reports, at, config)
    delivery = deliver_due(engine, at, Notifiers(config), worker)
    return summary, delivery


def owner_and_consumer(receiver, **consumer_terms):
    return product(owner_notify=[{"webhook": receiver.url("/owner")}],
                   consumers=[consumer("marketing", [{"webhook": receiver.url("/marketing")}],
                                       **consumer_terms)])


def outbox(engine) -> list:
    with engine.connect() as connection:
        return connection.execute(select(NotificationRecord.__table__)
                                  .order_by(NotificationRecord.__table__.c.id)).all()


def test_one_breach_sends_one_firing_and_one_resolved_notification_per_destination(
        store, receiver, clock):
    mesh = owner_and_consumer(receiver)
    config = settings()
    run_round(store, [report(mesh, AVAILABILITY, FAST_BURN)], clock(), config)
    for _ in range(3):  # still breaching: nothing new before the repeat interval
        run_round(store, [report(mesh, AVAILABILITY, FAST_BURN)], clock.advance(), config)
    run_round(store, [healthy(mesh, AVAILABILITY)], clock.advance(), config)
    run_round(store, [healthy(mesh, AVAILABILITY)], clock.advance(), config)

    for path in ("/owner", "/marketing"):
        statuses = [r.json["status"] for r in receiver.at(path)]
        assert statuses == ["firing", "resolved"], path
    firing = receiver.at("/owner")[0].json
    assert firing["version"] == "1"
    assert (firing["product"], firing["objective"], firing["condition"], firing["severity"]) == \
        ("checkout/orders", "api-availability", "fast_burn", "page")
    assert firing["promised"]["target"] == pytest.approx(0.999)
    assert firing["promised"]["window"] == "30d"
    assert firing["promised"]["burn_rate_threshold"] == pytest.approx(14.4)
    assert firing["measured"]["compliance"] == pytest.approx(0.95)
    assert firing["measured"]["burn_rate"] == pytest.approx(50.0)
    assert firing["since"] == "2026-11-02T12:00:00Z"
    assert firing["dashboard_url"] == "http://localhost:8501/product?product=checkout/orders"
    assert firing["owner"] == {"team": "checkout", "contact": "checkout-data@contoso.example"}
    resolved = receiver.at("/owner")[1].json
    assert resolved["measured"]["compliance"] == pytest.approx(1.0)
    with store.connect() as connection:
        [alert] = alert_overview(connection, clock())
    assert alert["state"] == "resolved"
    assert [h["kind"] for h in alert["history"]] == ["firing", "resolved"]
    assert alert["history"][0]["measured"]["compliance"] == pytest.approx(0.95)
    assert {tuple(t["recipients"]) for t in alert["history"][0]["told"]} == \
        {("owner checkout",), ("consumer marketing",)}
    assert [d["status"] for d in alert["deliveries"]] == ["sent"] * 4


def test_conditions_of_one_product_that_fire_together_arrive_as_one_message(engine, receiver,
                                                                          clock):
    mesh = owner_and_consumer(receiver)
    run_round(engine, [report(mesh, AVAILABILITY, FAST_BURN, SLOW_BURN),
                       report(mesh, FRESHNESS, NO_DATA)], clock(), settings())

    [message] = receiver.at("/owner")
    # the availability ticket (slow_burn) fired with its page: part of the page's incident
    assert [(a["objective"], a["severity"], a["conditions"]) for a in message.json["alerts"]] == [
        ("api-availability", "page", ["fast_burn"]), ("lake-freshness", "ticket", ["no_data"])]
    assert message.json["condition"] == "fast_burn"  # the most severe one leads
    with engine.connect() as connection:
        ticket = next(a for a in alert_overview(connection, clock())
                      if (a["objective"], a["severity"]) == ("api-availability", "ticket"))
    assert ticket["state"] == "firing"
    assert ticket["history"][0]["muted_by"] == "inhibited: the page alert of api-availability is firing"


def test_a_firing_alert_is_repeated_after_the_repeat_interval(engine, receiver, clock):
    mesh = owner_and_consumer(receiver)
    config = settings(repeat_interval="1h")
    run_round(engine, [report(mesh, AVAILABILITY, FAST_BURN)], clock(), config)
    run_round(engine, [report(mesh, AVAILABILITY, FAST_BURN)], clock.advance(timedelta(minutes=59)),
              config)
    assert len(receiver.at("/owner")) == 1
    run_round(engine, [report(mesh, AVAILABILITY, FAST_BURN)], clock.advance(), config)
    run_round(engine, [report(mesh, AVAILABILITY, FAST_BURN)], clock.advance(), config)

    messages = [r.json for r in receiver.at("/owner")]
    assert [(m["status"], m["reminder"]) for m in messages] == [("firing", False),
                                                               ("firing", True)]
    assert messages[1]["since"] == "2026-11-02T12:00:00Z"


def test_a_condition_must_hold_for_the_for_duration_before_it_fires(engine, receiver, clock):
    mesh = owner_and_consumer(receiver)
    config = settings(**{"for": "5m"})
    run_round(engine, [report(mesh, AVAILABILITY, FAST_BURN)], clock(), config)
    run_round(engine, [healthy(mesh, AVAILABILITY)], clock.advance(), config)  # cancelled
    run_round(engine, [report(mesh, AVAILABILITY, FAST_BURN)], clock.advance(), config)
    run_round(engine, [report(mesh, AVAILABILITY, FAST_BURN)], clock.advance(timedelta(minutes=4)),
              config)
    assert receiver.requests == []
    run_round(engine, [report(mesh, AVAILABILITY, FAST_BURN)], clock.advance(), config)

    [message] = receiver.at("/owner")
    assert message.json["since"] == "2026-11-02T12:02:00Z"  # when it started to hold


def test_a_silence_mutes_notifications_but_the_alert_still_fires(engine, receiver, clock):
    mesh = owner_and_consumer(receiver)
    config = settings()
    silence = add_silence(engine, mesh.id, None, clock(), timedelta(hours=2), "deploying")
    run_round(engine, [report(mesh, AVAILABILITY, FAST_BURN)], clock.advance(), config)

    assert receiver.requests == []
    with engine.connect() as connection:
        [alert] = alert_overview(connection, clock())
    assert alert["state"] == "firing"
    assert {d["status"] for d in alert["deliveries"]} == {"muted"}
    assert alert["deliveries"][0]["muted_by"] == f"silence {silence.id}: deploying"

    expire_silence(engine, silence.id, clock.advance())
    run_round(engine, [report(mesh, AVAILABILITY, FAST_BURN)], clock.advance(), config)
    assert [(r.json["status"], r.json["since"]) for r in receiver.at("/owner")] == [
        ("firing", "2026-11-02T12:01:00Z")]  # told once the silence is over


def test_a_silence_on_one_objective_leaves_the_others_audible(engine, receiver, clock):
    mesh = owner_and_consumer(receiver)
    add_silence(engine, mesh.id, "api-availability", clock(), timedelta(hours=2), "known issue")
    run_round(engine, [report(mesh, AVAILABILITY, FAST_BURN), report(mesh, FRESHNESS, NO_DATA)],
              clock.advance(), settings())

    [message] = receiver.at("/owner")
    assert [a["objective"] for a in message.json["alerts"]] == ["lake-freshness"]


def test_a_maintenance_window_mutes_notifications_without_losing_the_resolution(engine, receiver,
                                                                                clock):
    start = clock() - timedelta(days=7, minutes=30)  # weekly, in progress until 12:30
    mesh = product(owner_notify=[{"webhook": receiver.url("/owner")}],
                   maintenance=[(start, timedelta(hours=1), timedelta(days=7))])
    config = settings()
    run_round(engine, [report(mesh, AVAILABILITY, FAST_BURN)], clock(), config)
    assert receiver.requests == []
    assert [n.status for n in outbox(engine)] == ["muted"]
    assert outbox(engine)[0].muted_by.startswith("maintenance 2026-10-26 11:30–12:30 UTC, every week")

    run_round(engine, [report(mesh, AVAILABILITY, FAST_BURN)], clock.advance(timedelta(minutes=31)),
              config)  # maintenance over, still firing: now the owner hears it
    run_round(engine, [healthy(mesh, AVAILABILITY)], clock.advance(), config)
    assert [r.json["status"] for r in receiver.at("/owner")] == ["firing", "resolved"]


def test_a_consumer_outside_its_agreement_dates_is_not_notified(engine, receiver, clock):
    today = clock().date()
    mesh = product(owner_notify=[{"webhook": receiver.url("/owner")}], consumers=[
        consumer("ended", [{"webhook": receiver.url("/ended")}], end=today),
        consumer("future", [{"webhook": receiver.url("/future")}], start=today + timedelta(days=1)),
        consumer("current", [{"webhook": receiver.url("/current")}], start=date(2026, 1, 1),
                 end=today + timedelta(days=1))])
    run_round(engine, [report(mesh, AVAILABILITY, FAST_BURN)], clock(), settings())

    assert sorted(r.path for r in receiver.requests) == ["/current", "/owner"]


def test_a_consumer_hears_only_its_objectives_at_or_above_its_severity(engine, receiver, clock):
    mesh = product(owner_notify=[{"webhook": receiver.url("/owner")}], consumers=[
        consumer("freshness-only", [{"webhook": receiver.url("/fresh")}],
                 objectives=("lake-freshness",)),
        consumer("pages-only", [{"webhook": receiver.url("/pages")}], min_severity="page")])
    run_round(engine, [report(mesh, AVAILABILITY, FAST_BURN, SLOW_BURN),
                       report(mesh, FRESHNESS, NO_DATA)], clock(), settings())

    def alerts(path):
        [message] = receiver.at(path)
        return [(a["objective"], a["condition"]) for a in message.json["alerts"]]

    assert len(alerts("/owner")) == 2  # the availability ticket is inhibited by its page
    assert alerts("/fresh") == [("lake-freshness", "no_data")]
    assert alerts("/pages") == [("api-availability", "fast_burn")]


def test_one_destination_shared_by_owner_and_consumer_gets_one_message(engine, receiver, clock):
    shared = {"webhook": receiver.url("/shared")}
    mesh = product(owner_notify=[shared], consumers=[consumer("marketing", [shared])])
    run_round(engine, [report(mesh, AVAILABILITY, FAST_BURN)], clock(), settings())

    assert len(receiver.at("/shared")) == 1
    assert outbox(engine)[0].recipients == ["owner checkout", "consumer marketing"]


def test_the_same_round_processed_twice_queues_each_notification_once(engine, receiver, clock):
    mesh = owner_and_consumer(receiver)
    reports = [report(mesh, AVAILABILITY, FAST_BURN)]
    process_evaluations(engine, reports, clock(), settings())
    process_evaluations(engine, reports, clock(), settings())
    deliver_due(engine, clock(), Notifiers(settings()), "w")

    assert len(receiver.requests) == 2


def test_the_outbox_survives_a_crash_between_write_and_send(store_url, receiver, clock):
    mesh = owner_and_consumer(receiver)
    first = open_store(store_url)
    process_evaluations(first, [report(mesh, AVAILABILITY, FAST_BURN)], clock(), settings())
    first.dispose()  # the daemon dies before its delivery loop runs
    assert receiver.requests == []

    second = open_store(store_url)
    try:
        deliver_due(second, clock.advance(timedelta(seconds=5)), Notifiers(settings()), "restarted")
        deliver_due(second, clock.advance(timedelta(minutes=10)), Notifiers(settings()), "again")
    finally:
        second.dispose()
    assert sorted(r.path for r in receiver.requests) == ["/marketing", "/owner"]


def test_a_worker_that_died_mid_send_leaves_its_claim_until_the_lease_runs_out(engine, receiver,
                                                                               clock):
    from monitor.alerting.outbox import CLAIM_LEASE, claim_due

    mesh = owner_and_consumer(receiver)
    process_evaluations(engine, [report(mesh, AVAILABILITY, FAST_BURN)], clock(), settings())
    assert CLAIM_LEASE.total_seconds() <= 30
    assert len(claim_due(engine, clock(), "doomed", "token-of-the-dead")) == 2  # then it crashed
    claimed_at = clock()
    assert deliver_due(engine, clock.advance(CLAIM_LEASE), Notifiers(settings()), "survivor"
                       ).claimed == 0  # the lease holds to its last second

    clock.advance(timedelta(seconds=1))
    assert clock() - claimed_at == CLAIM_LEASE + timedelta(seconds=1)
    summary = deliver_due(engine, clock(), Notifiers(settings()), "survivor")
    assert (summary.claimed, summary.sent) == (2, 2)
    assert len(receiver.requests) == 2
    assert {n.attempts for n in outbox(engine)} == {2}


def test_the_outbox_is_delivered_a_slice_at_a_time_up_to_the_limit_of_one_call(
        engine, receiver, clock):
    from monitor.alerting.outbox import MAX_PARALLEL

    mesh = product(owner_notify=[{"webhook": receiver.url(f"/owner-{n}")} for n in range(20)])
    process_evaluations(engine, [report(mesh, AVAILABILITY, FAST_BURN)], clock(), settings())
    first = deliver_due(engine, clock(), Notifiers(settings()), "w", limit=12)
    assert (first.claimed, first.sent) == (12, 12)
    rest = deliver_due(engine, clock(), Notifiers(settings()), "w")
    assert (rest.claimed, rest.sent) == (8, 8)
    assert len(receiver.requests) == 20 and MAX_PARALLEL == 8
    assert len({n.claimed_by for n in outbox(engine)}) == 1


def test_a_failing_destination_is_retried_with_backoff_then_marked_failed(engine, receiver, clock):
    mesh = product(owner_notify=[{"webhook": receiver.url("/owner")}])
    receiver.statuses.extend([500, 503, 404])
    config = settings(retry_backoff="30s")
    notifiers = Notifiers(config)
    process_evaluations(engine, [report(mesh, AVAILABILITY, FAST_BURN)], clock(), config)

    assert deliver_due(engine, clock(), notifiers, "w").retrying == 1
    assert deliver_due(engine, clock.advance(timedelta(seconds=29)), notifiers, "w").claimed == 0
    assert deliver_due(engine, clock.advance(timedelta(seconds=1)), notifiers, "w").retrying == 1
    [row] = outbox(engine)
    assert (row.status, row.attempts, row.last_error) == ("pending", 2,
                                                         "HTTP 503 Service Unavailable: nope")
    assert row.next_attempt_at == clock() + timedelta(seconds=60)  # doubled
    assert deliver_due(engine, clock.advance(timedelta(seconds=59)), notifiers, "w").claimed == 0
    assert deliver_due(engine, clock.advance(timedelta(seconds=1)), notifiers, "w").failed == 1

    [row] = outbox(engine)
    assert (row.status, row.attempts, row.last_error) == ("failed", 3, "HTTP 404 Not Found: nope")
    assert len(receiver.requests) == 3
    assert deliver_due(engine, clock.advance(timedelta(hours=2)), notifiers, "w").claimed == 0


def test_a_destination_that_keeps_failing_is_given_up_after_max_attempts(engine, receiver, clock):
    mesh = product(owner_notify=[{"webhook": receiver.url("/owner")}])
    receiver.statuses.extend([500] * 5)
    config = settings(max_attempts=2)
    process_evaluations(engine, [report(mesh, AVAILABILITY, FAST_BURN)], clock(), config)
    deliver_due(engine, clock(), Notifiers(config), "w")
    deliver_due(engine, clock.advance(timedelta(minutes=1)), Notifiers(config), "w")

    [row] = outbox(engine)
    assert (row.status, row.attempts) == ("failed", 2)
    assert row.last_error.startswith("HTTP 500")


def test_an_unknown_channel_or_unset_secret_fails_at_once_with_a_reason(engine, clock):
    mesh = product(owner_notify=[{"channel": "nowhere"}, {"webhook": "${HOOK_URL_NOT_SET}"}])
    process_evaluations(engine, [report(mesh, AVAILABILITY, FAST_BURN)], clock(), settings())
    summary = deliver_due(engine, clock(), Notifiers(settings(), environ={}), "w")

    assert summary.failed == 2
    errors = {n.destination: n.last_error for n in outbox(engine)}
    assert errors["channel:nowhere"] == "no channel named 'nowhere' in meshwatch.yaml"
    assert "environment variable HOOK_URL_NOT_SET is not set" in errors["webhook:${HOOK_URL_NOT_SET}"]


def test_a_webhook_channel_signs_its_body_and_its_secret_is_never_stored(engine, receiver, clock):
    import hashlib
    import hmac

    secret = "s3cr3t-value-42"
    environ = {"HOOK_SECRET": secret, "HOOK_TOKEN": "token-value-77"}
    config = settings(channels={"team-hook": {
        "type": "webhook", "url": receiver.url("/signed"), "secret": "${HOOK_SECRET}",
        "headers": {"Authorization": "Bearer ${HOOK_TOKEN}"}}})
    mesh = product(owner_notify=[{"channel": "team-hook"}])
    process_evaluations(engine, [report(mesh, AVAILABILITY, FAST_BURN)], clock(), config)
    deliver_due(engine, clock(), Notifiers(config, environ), "w")

    [request] = receiver.requests
    expected = "sha256=" + hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Meshwatch-Signature"] == expected
    assert request.headers["Authorization"] == "Bearer token-value-77"
    assert request.headers["X-Meshwatch-Delivery"] == str(outbox(engine)[0].id)
    stored = json.dumps([dict(r._mapping) for r in outbox(engine)], default=str)
    assert secret not in stored and "token-value-77" not in stored
    with engine.connect() as connection:
        alerts = json.dumps(alert_overview(connection, clock()))
        rows = json.dumps([dict(r._mapping) for r in connection.execute(
            select(AlertRecord.__table__))], default=str)
    assert secret not in alerts + rows


def test_the_daemon_hook_records_the_round_and_sends_what_it_queued(engine, receiver, clock):
    from monitor.alerting import AlertingService

    alerting = AlertingService(engine, settings(), worker_id="daemon-1")
    mesh = owner_and_consumer(receiver)
    summary = alerting.after_evaluation([report(mesh, AVAILABILITY, FAST_BURN)], clock())

    assert summary.transitions == {"firing": 1}
    assert len(receiver.requests) == 2
    assert {n.claimed_by for n in outbox(engine)} == {"daemon-1"}
    assert alerting.deliver(clock.advance()).claimed == 0


def test_a_freshness_breach_reports_the_age_the_evaluation_judged(engine, receiver, clock):
    from monitor.slo import Condition

    mesh = owner_and_consumer(receiver)
    with engine.begin() as connection:  # inside the caller's transaction this time
        process_evaluations(connection, [report(mesh, FRESHNESS,
                                                Condition("freshness_breach", "page"),
                                                data_age=timedelta(hours=2))],
                            clock(), settings())
    deliver_due(engine, clock(), Notifiers(settings()), "w")

    message = receiver.at("/owner")[0].json
    assert message["condition"] == "freshness_breach"
    assert message["measured"]["freshness_age_seconds"] == 7200
    assert message["promised"]["threshold"] == "1h"
