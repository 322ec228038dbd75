"""Alert scenarios end to end, as the daemon runs them, with an injected clock.

Each scenario is a row of a table whose key says, in a sentence, what people should hear. A row
gives a data product (its owner notifies one webhook path, a consumer another), a port probed
every `interval`, and the phases of what its probes see. Phases without `every` are history:
already in the store when the daemon starts (written through the daemon's `MeasurementBuffer`
in one flush). The daemon then runs through the other phases: each probe starts `PROBE_AT`
into its interval and its result reaches the buffer `PROBE_TAKES` later; every `every`, from
`EVALUATE_AT` into the phase, the daemon flushes the buffer, `evaluate_mesh`es the product with
the `slo:` policy of `Settings()` and its start as `monitoring_since`, `process_evaluations` and
`deliver_due` — the same calls `Daemon._evaluate` and `AlertingService.after_evaluation` make.
Evaluating at :07 of a minute whose probe comes at :20 is the case of a window that would be
empty before this minute's probe.

What each destination heard is read back from a real webhook receiver, one short tuple per
message: `(status, severity, conditions)` — `status` is `firing`, `reminder` or `resolved`, and
`conditions` those listed in the alert. A message of several alerts lists `severity, conditions`
for each; the alert of an objective other than the product's first is named `objective severity`.
A row also says when the owner heard each message (`"recovery+16m27s"`: that long after the phase
`recovery` began), and every row checks that a resolution comes in the first round at least
`alerting.keep_firing_for` after the alert's conditions were seen clear (and none held since),
that no alert is announced firing or resolved twice, and that a destination gets one message per
status and round.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from monitor.alerting import Notifiers, deliver_due, process_evaluations
from monitor.alerting.messages import Message, text
from monitor.config.settings import Settings
from monitor.contracts.model import (
    DataProduct,
    Indicator,
    MaintenanceWindow,
    Objective,
    Owner,
    Port,
)
from monitor.contracts.results import ErrorClass, ProbeResult
from monitor.daemon.buffer import MeasurementBuffer
from monitor.demo.webhooks import WebhookReceiver
from monitor.evaluation.mesh import evaluate_mesh
from monitor.store import Event, record_events
from monitor.store.tables import NotificationRecord
from monitor.values.durations import format_duration, parse_duration
from tests.support.alerting import consumer

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
SECOND, MINUTE, HOUR, DAY = (timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1),
                             timedelta(days=1))
PROBE_AT = 20 * SECOND  # into each interval of the port
PROBE_TAKES = timedelta(milliseconds=400)
EVALUATE_AT = 7 * SECOND  # into each live phase, then every `every`
PORT = "api"

Outcome = Callable[[int, datetime], dict[str, Any]]  # (probe number in the phase, its start)


# ── what the probes see ─────────────────────────────────────────────────────────────────────

def up(number: int, at: datetime) -> dict[str, Any]:
    return {"ok": True, "latency": timedelta(milliseconds=120)}


def down(number: int, at: datetime) -> dict[str, Any]:
    return {"ok": False, "error_class": ErrorClass.HTTP_STATUS, "error": "HTTP 503"}


def flapping(number: int, at: datetime) -> dict[str, Any]:
    return (up if number % 2 == 0 else down)(number, at)


def one_bad_in(every: int) -> Outcome:
    """Every `every`-th probe fails (the last of each run of `every`)."""
    return lambda number, at: (down if number % every == every - 1 else up)(number, at)


def bad_at(*numbers: int) -> Outcome:
    return lambda number, at: (down if number in numbers else up)(number, at)


def fresh(number: int, at: datetime) -> dict[str, Any]:
    """A table that lands a new partition every minute: its newest row is 30 s old."""
    return {"ok": True, "newest_data_at": at - 30 * SECOND}


def paused_landing(last: datetime, pause: timedelta) -> Outcome:
    """New data lands continuously (30 s old when probed), except that after the partition of
    `last` the next one only lands `pause` later."""
    def seen(number: int, at: datetime) -> dict[str, Any]:
        stalled = last <= at < last + pause
        return {"ok": True, "newest_data_at": last if stalled else at - 30 * SECOND}
    return seen


def slow_and_failing(every: int) -> Outcome:
    """Every `every`-th probe fails; the others answer, but in 1.5 s."""
    def seen(number: int, at: datetime) -> dict[str, Any]:
        if number % every == every - 1:
            return down(number, at)
        return {"ok": True, "latency": timedelta(milliseconds=1500)}
    return seen


# ── the daemon, driven by an injected clock ─────────────────────────────────────────────────

@dataclass(frozen=True)
class Phase:
    name: str
    length: timedelta
    probe: Outcome
    every: timedelta | None = None  # evaluated every …; None: history, in the store at start


@dataclass(frozen=True)
class Scenario:
    objectives: tuple[Objective, ...]
    interval: timedelta
    phases: tuple[Phase, ...]
    owner: list[tuple]
    consumer: list[tuple]
    times: list[str | None]  # when the owner heard each message: "phase+16m27s" (None: see why)
    consumer_terms: dict[str, Any] = field(default_factory=dict)
    maintenance: tuple[MaintenanceWindow, ...] = ()
    maintenance_counts_in_slo: bool = True
    alerting: dict[str, Any] = field(default_factory=dict)  # settings other than the defaults


@dataclass
class Run:
    began: dict[str, datetime]  # when each live phase began
    messages: dict[str, list[dict]]  # the webhook documents each path received
    heard: dict[str, list[tuple]]  # the same, as short tuples
    holding: list[tuple[datetime, dict[tuple[str, str], frozenset[str]]]]  # per round
    rounds: int


def short(message: dict, main_objective: str) -> tuple:
    """`("firing", "page", ("fast_burn", "sustained_burn"))`: status, then each alert's severity
    (prefixed with its objective when that is not the product's first) and conditions."""
    parts: list[Any] = ["reminder" if message["reminder"] else message["status"]]
    for alert in message["alerts"]:
        label = alert["severity"] if alert["objective"] == main_objective else \
            f"{alert['objective']} {alert['severity']}"
        parts += [label, tuple(alert["conditions"])]
    return tuple(parts)


def data_product(scenario: Scenario, receiver: WebhookReceiver) -> DataProduct:
    return DataProduct(
        domain="checkout", name="orders",
        owner=Owner("checkout", "checkout-data@contoso.example",
                    ({"webhook": receiver.url("/owner")},)),
        ports=(Port(PORT, "http", interval=scenario.interval),),
        objectives=scenario.objectives,
        consumers=(consumer("marketing", [{"webhook": receiver.url("/consumer")}],
                            **scenario.consumer_terms),),
        maintenance=scenario.maintenance,
        maintenance_counts_in_slo=scenario.maintenance_counts_in_slo,
        start=date(2026, 1, 1))


def run(store, receiver: WebhookReceiver, scenario: Scenario) -> Run:
    settings = Settings(alerting=scenario.alerting)
    product = data_product(scenario, receiver)
    buffer = MeasurementBuffer(store)
    buffer.products = {product.id: product}
    notifiers, policy = Notifiers(settings), settings.slo.policy()
    history = [p for p in scenario.phases if p.every is None]
    live = scenario.phases[len(history):]
    assert live and all(p.every is not None for p in live), "history phases come first"
    assert all(p.length % scenario.interval == timedelta(0) for p in scenario.phases)
    start = T0 - sum((p.length for p in history), timedelta(0))
    for phase in history:
        for number, at in enumerate(_probe_times(start, phase, scenario.interval)):
            buffer.add(ProbeResult(product.id, PORT, "http", at, **phase.probe(number, at)))
        start += phase.length
    assert buffer.flush().error is None
    monitoring_since = T0  # the daemon starts now: nothing is claimed missing before it probed
    began, holding, rounds = {}, [], 0
    for phase in live:
        began[phase.name] = start
        steps: list[tuple[datetime, ProbeResult | None]] = [
            (at + PROBE_TAKES, ProbeResult(product.id, PORT, "http", at, **phase.probe(number, at)))
            for number, at in enumerate(_probe_times(start, phase, scenario.interval))]
        at = start + EVALUATE_AT
        while at < start + phase.length:
            steps.append((at, None))
            at += phase.every
        for at, probed in sorted(steps, key=lambda step: (step[0], step[1] is None)):
            if probed is not None:  # the probe's result reaches the buffer
                buffer.add(probed)
                continue
            # a round, as Daemon._evaluate and AlertingService.after_evaluation run it
            assert buffer.flush().error is None
            with store.connect() as connection:
                reports = evaluate_mesh(connection, [product], at, policy, monitoring_since)
            process_evaluations(store, reports, at, settings)
            assert deliver_due(store, at, notifiers, "scenario").errors == []
            held: dict[tuple[str, str], set[str]] = {}
            for report in reports:
                for condition in report.evaluation.conditions:
                    held.setdefault((report.objective.name, condition.severity), set()).add(
                        condition.name)
            holding.append((at, {key: frozenset(names) for key, names in held.items()}))
            rounds += 1
        start += phase.length
    main = scenario.objectives[0].name
    messages = {path: [r.json for r in receiver.at(path)] for path in ("/owner", "/consumer")}
    return Run(began, messages,
               {path: [short(m, main) for m in found] for path, found in messages.items()},
               holding, rounds)


def _probe_times(start: datetime, phase: Phase, interval: timedelta) -> list[datetime]:
    return [start + k * interval + PROBE_AT for k in range(phase.length // interval)]


def when(run_: Run, text: str) -> datetime:
    """`"recovery+16m27s"`: that long after the phase `recovery` began."""
    phase, _, offset = text.partition("+")
    return run_.began[phase] + parse_duration(offset)


def offset(run_: Run, at: datetime) -> str:
    """The inverse of `when`, from the latest phase begun by `at` (for failure messages)."""
    name, began = max(((n, b) for n, b in run_.began.items() if b <= at), key=lambda nb: nb[1])
    return f"{name}+{format_duration(at - began)}"


def heard_at(run_: Run, path: str) -> list[datetime]:
    return [datetime.fromisoformat(m["at"]) for m in run_.messages[path]]


def assert_resolved_only_after_keep_firing_for(run_: Run, keep_firing_for: timedelta) -> None:
    """Every resolution comes in the first round at least keep_firing_for after the alert's
    conditions were first seen clear, and none of them held in between."""
    for message in run_.messages["/owner"]:
        if message["status"] != "resolved":
            continue
        resolved = datetime.fromisoformat(message["at"])
        for alert in message["alerts"]:
            key = (alert["objective"], alert["severity"])
            before = [(at, held.get(key, frozenset())) for at, held in run_.holding
                      if at <= resolved]
            last_held = max(at for at, held in before if held)
            clear = min(at for at, _ in before if at > last_held)
            assert resolved - clear >= keep_firing_for, (key, offset(run_, resolved))
            previous = max(at for at, _ in before if at < resolved)
            assert previous - clear < keep_firing_for, f"{key} resolved late"


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


# ── the scenarios ───────────────────────────────────────────────────────────────────────────

def availability(window: timedelta, target: str = "0.99") -> Objective:
    return Objective("api-availability", Indicator.AVAILABILITY, Decimal(target), window=window,
                     port=PORT)


LATENCY = Objective("api-latency", Indicator.LATENCY, Decimal("0.99"), window=7 * DAY,
                    threshold=SECOND, port=PORT)
FRESHNESS = Objective("lake-freshness", Indicator.FRESHNESS, Decimal("0.99"), window=DAY,
                      threshold=5 * MINUTE, port=PORT)
MAINTENANCE = MaintenanceWindow(T0 + 10 * MINUTE, 20 * MINUTE)  # 12:10–12:30, inside "maintenance"
LAST_LANDING = T0 + 10 * MINUTE + 40 * SECOND  # 40 s into the phase "blip"

PAGED = ("firing", "page", ("fast_burn", "sustained_burn"))
SUSTAINED_PAGE = ("firing", "page", ("sustained_burn",))
PAGE_RESOLVED = ("resolved", "page", ("sustained_burn",))  # sustained_burn is the last to clear
TICKET = ("firing", "ticket", ("slow_burn",))
TICKET_RESOLVED = ("resolved", "ticket", ("slow_burn",))
REMINDED = ("reminder", "ticket", ("slow_burn",))


def steady_outage(outage_every: timedelta, recovery: timedelta, recovery_every: timedelta
                  ) -> tuple[Phase, ...]:
    """An hour of outage already stored, 10 more minutes of it, a recovery, 30 quiet minutes."""
    return (Phase("stored outage", HOUR, down),
            Phase("outage", 10 * MINUTE, down, outage_every),
            Phase("recovery", recovery, up, recovery_every),
            Phase("quiet", 30 * MINUTE, up, MINUTE))


SCENARIOS: dict[str, Scenario] = {
    # 7 d scales the rules to fast 14m/2m (the 1.2 m short window is raised to two intervals),
    # sustained 84m/7m, slow 1008m/84m. The last bad probe is at 12:09:20; the 7-minute short
    # window is clear once the 12:16:20 probe is in (the round at 12:16:27), so the page resolves
    # in the round at 12:26:27. slow_burn (ticket) holds for 84 minutes after the outage but
    # only the page spoke: it stays silent, also in the 30 quiet minutes after the resolution.
    "A steady outage of a 99% / 7d objective on a 1-minute port pages once and resolves once, "
    "keep_firing_for after its conditions clear": Scenario(
        (availability(7 * DAY),), MINUTE,
        steady_outage(5 * SECOND, 20 * MINUTE, 20 * SECOND),
        owner=[PAGED, PAGE_RESOLVED], consumer=[PAGED, PAGE_RESOLVED],
        times=["outage+7s", "recovery+16m27s"]),
    # 30 d on a 5-minute port: fast 1h/10m, sustained 6h/30m. The last bad probe (12:05:20) leaves
    # the 30-minute short window when the 12:35:20 probe moves its end past it.
    "A steady outage of a 99% / 30d objective on a 5-minute port pages once and resolves once":
    Scenario(
        (availability(30 * DAY),), 5 * MINUTE,
        steady_outage(30 * SECOND, 40 * MINUTE, 30 * SECOND),
        owner=[PAGED, PAGE_RESOLVED], consumer=[PAGED, PAGE_RESOLVED],
        times=["outage+7s", "recovery+35m37s"]),
    # 7 d on a 5-minute port: fast_burn's 14-minute long window holds at most 3 probes, fewer
    # than slo.min_events (10), so only sustained_burn (84m/10m) can page.
    "A steady outage of a 99% / 7d objective on a 5-minute port pages once (sustained_burn) and "
    "resolves once": Scenario(
        (availability(7 * DAY),), 5 * MINUTE,
        steady_outage(30 * SECOND, 20 * MINUTE, 30 * SECOND),
        owner=[SUSTAINED_PAGE, PAGE_RESOLVED], consumer=[SUSTAINED_PAGE, PAGE_RESOLVED],
        times=["outage+7s", "recovery+15m37s"]),
    # 30 d on a 1-minute port: sustained_burn needs 2 bad probes in its 30-minute short window,
    # so it clears 29 minutes after the last bad one (the 12:38:20 probe, round 12:38:37).
    "A steady outage of a 99% / 30d objective on a 1-minute port pages once and resolves once":
    Scenario(
        (availability(30 * DAY),), MINUTE,
        steady_outage(30 * SECOND, 40 * MINUTE, 30 * SECOND),
        owner=[PAGED, PAGE_RESOLVED], consumer=[PAGED, PAGE_RESOLVED],
        times=["outage+7s", "recovery+38m37s"]),
    # The last partition lands at 12:10:40 and the next at 12:17:10: the data is older than 5m
    # for 90 s (12:15:40–12:17:10). The 12:16:20 probe counts one stale slice, enough for
    # sustained_burn (12m/2m on a 1 d window) to join the page; it is the last to clear
    # (12:18:22), so the page resolves at 12:28:22. When the page fires is asserted in
    # test_freshness_breach_holds_only_once_the_data_is_older_than_the_threshold.
    "A 90-second freshness blip pages once and resolves once": Scenario(
        (FRESHNESS,), MINUTE,
        (Phase("stored", HOUR, fresh), Phase("before", 10 * MINUTE, fresh, MINUTE),
         Phase("blip", 20 * MINUTE, paused_landing(LAST_LANDING, 6 * MINUTE + 30 * SECOND),
               15 * SECOND),
         Phase("after", 10 * MINUTE, fresh, MINUTE)),
        owner=[("firing", "page", ("freshness_breach",)), PAGE_RESOLVED],
        consumer=[("firing", "page", ("freshness_breach",)), PAGE_RESOLVED],
        times=[None, "blip+18m22s"]),
    # Half the probes fail for two hours after a good day: fast_burn holds from the third bad
    # probe (3 of 14 > 14.4 %), sustained_burn joins later (an update, no message); the page
    # stays firing through every good probe and resolves once, after the 7-minute short window
    # is clear (the 14:06:20 probe) and keep_firing_for.
    "A target that flaps on every probe for two hours pages at most once and resolves at most "
    "once": Scenario(
        (availability(7 * DAY),), MINUTE,
        (Phase("stored", DAY, up), Phase("flapping", 2 * HOUR, flapping, 75 * SECOND),
         Phase("recovery", 30 * MINUTE, up, 75 * SECOND)),
        owner=[("firing", "page", ("fast_burn",)), PAGE_RESOLVED],
        consumer=[("firing", "page", ("fast_burn",)), PAGE_RESOLVED],
        times=["flapping+6m22s", "recovery+16m22s"]),
    # 1 probe in 20 fails: slow_burn needs 11 bad probes in its 1008-minute window (the 11th is
    # at 12:19:20). Then 1 in 4 fails: at 12:32:20 the 14-minute window holds 3 bad probes and the
    # 84-minute one 6, so fast_burn and sustained_burn open a page (the ticket, inhibited, stays
    # quiet). After the last bad probe (12:52:20) the page resolves at 13:10:07; slow_burn's
    # 84-minute short window keeps the ticket until 14:16:22, and it was told, so its
    # resolution is sent at 14:26:22.
    "A slow leak that escalates files a ticket, then pages, then resolves both": Scenario(
        (availability(7 * DAY),), MINUTE,
        (Phase("stored", DAY, up), Phase("stored leak", 200 * MINUTE, one_bad_in(20)),
         Phase("leak", 25 * MINUTE, one_bad_in(20), 75 * SECOND),
         Phase("escalation", 30 * MINUTE, one_bad_in(4), 30 * SECOND),
         Phase("recovery", 100 * MINUTE, up, 75 * SECOND)),
        owner=[TICKET, PAGED, PAGE_RESOLVED, TICKET_RESOLVED],
        consumer=[TICKET, PAGED, PAGE_RESOLVED, TICKET_RESOLVED],
        times=["leak+20m07s", "escalation+7m37s", "recovery+15m07s", "recovery+91m22s"]),
    # The same leak, and the API also gets slow (1.5 s > 1 s) while it fails more: the latency
    # objective pages first (3 slow probes in 14 minutes). The consumer hears pages only, and
    # only of api-availability; the owner hears everything.
    "A consumer of pages of api-availability hears only that page in the slow leak": Scenario(
        (availability(7 * DAY), LATENCY), MINUTE,
        (Phase("stored", DAY, up), Phase("stored leak", 200 * MINUTE, one_bad_in(20)),
         Phase("leak", 25 * MINUTE, one_bad_in(20), 75 * SECOND),
         Phase("escalation", 30 * MINUTE, slow_and_failing(4), 30 * SECOND),
         Phase("recovery", 30 * MINUTE, up, 75 * SECOND)),
        consumer_terms={"min_severity": "page", "objectives": ("api-availability",)},
        owner=[TICKET, ("firing", "api-latency page", ("fast_burn",)), PAGED, PAGE_RESOLVED,
               ("resolved", "api-latency page", ("sustained_burn",))],
        consumer=[PAGED, PAGE_RESOLVED],
        times=["leak+20m07s", "escalation+2m37s", "escalation+7m37s", "recovery+15m07s",
               "recovery+16m22s"]),
    # One bad probe of the first four is 1 of the 43 200 events a 30-day window expects (not
    # 1 of 4), and fewer than slo.min_events are in any window at first.
    "A new objective whose second probe fails says nothing": Scenario(
        (availability(30 * DAY),), MINUTE,
        (Phase("first probes", 4 * MINUTE, bad_at(1), 15 * SECOND),
         Phase("after", 26 * MINUTE, up, MINUTE)),
        owner=[], consumer=[], times=[]),
    # Excluded maintenance 12:10–12:30 with the API down exactly then: its probes are left out
    # of the figures and conditions, so nothing holds, during the window or after it.
    "An outage inside an excluded maintenance window says nothing, during it or after it":
    Scenario(
        (availability(7 * DAY),), MINUTE,
        (Phase("stored", DAY, up), Phase("before", 10 * MINUTE, up, MINUTE),
         Phase("maintenance", 20 * MINUTE, down, 30 * SECOND),
         Phase("after", 20 * MINUTE, up, 30 * SECOND)),
        maintenance=(MAINTENANCE,), maintenance_counts_in_slo=False,
        owner=[], consumer=[], times=[]),
    # The API stays down 15 minutes past the window: only probes outside it count, so
    # sustained_burn holds from the 6th of them (6 of the 84 the window expects, > 6 %), at
    # 12:35:20; fast_burn joins when 10 are outside (slo.min_events).
    "An outage that outlasts an excluded maintenance window pages once, after the window":
    Scenario(
        (availability(7 * DAY),), MINUTE,
        (Phase("stored", DAY, up), Phase("before", 10 * MINUTE, up, MINUTE),
         Phase("maintenance", 20 * MINUTE, down, 30 * SECOND),
         Phase("outage continues", 15 * MINUTE, down, 15 * SECOND),
         Phase("recovery", 20 * MINUTE, up, 30 * SECOND)),
        maintenance=(MAINTENANCE,), maintenance_counts_in_slo=False,
        owner=[SUSTAINED_PAGE, PAGE_RESOLVED], consumer=[SUSTAINED_PAGE, PAGE_RESOLVED],
        times=["outage continues+5m22s", "recovery+16m37s"]),
    # The page spoke for the ticket (slow_burn) while it fired; when the page ends (12:27:07)
    # nothing is said for the ticket, which still holds (its 84-minute short window). It is
    # reminded repeat_interval (30m) after the last round the page spoke for it (12:26:07 →
    # 12:56:07) and again 30m later; people were told, so its resolution (the 13:33:20 probe
    # clears it, keep_firing_for later: 13:44:07) is sent too.
    "A ticket that outlasts its page is announced a ticket_repeat_interval after the page "
    "stopped speaking for it, reminded after another, then resolved": Scenario(
        (availability(7 * DAY),), MINUTE,
        (Phase("stored outage", HOUR, down), Phase("outage", 10 * MINUTE, down, MINUTE),
         Phase("recovery", 20 * MINUTE, up, MINUTE), Phase("tail", 80 * MINUTE, up, 2 * MINUTE)),
        alerting={"ticket_repeat_interval": "30m"},
        owner=[PAGED, PAGE_RESOLVED, TICKET, REMINDED, TICKET_RESOLVED],
        consumer=[PAGED, PAGE_RESOLVED, TICKET, REMINDED, TICKET_RESOLVED],
        times=["outage+7s", "recovery+17m07s", "tail+26m07s", "tail+56m07s", "tail+74m07s"]),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS.values()), ids=list(SCENARIOS))
def test_alert_scenario(store, receiver, scenario):
    happened = run(store, receiver, scenario)
    assert happened.heard["/owner"] == scenario.owner
    assert happened.heard["/consumer"] == scenario.consumer
    owner_times = heard_at(happened, "/owner")
    expected = [when(happened, t) if t else at for t, at in zip(scenario.times, owner_times,
                                                                strict=True)]
    assert [offset(happened, at) for at in owner_times] == \
        [offset(happened, at) for at in expected]
    assert set(heard_at(happened, "/consumer")) <= set(owner_times)  # told in the same rounds
    for path, documents in happened.messages.items():
        rounds = [(m["at"], m["status"]) for m in documents]
        assert len(rounds) == len(set(rounds)), f"{path}: one message per status and round"
        for kind in ("firing", "resolved"):  # no flapping: each alert announced once at most
            alerts = [(a["objective"], a["severity"]) for m in documents for a in m["alerts"]
                      if m["status"] == kind and not m["reminder"]]
            assert len(alerts) == len(set(alerts)), f"{path}: {kind} twice"
    settings = Settings(alerting=scenario.alerting)
    assert_resolved_only_after_keep_firing_for(happened, settings.alerting.keep_firing_for)
    if scenario.maintenance:
        window_end = scenario.maintenance[0].start + scenario.maintenance[0].duration
        assert all(at >= window_end for at in owner_times)


# ── what a person reads ─────────────────────────────────────────────────────────────────────

def outbox_message(store, destination: str) -> Message:
    table = NotificationRecord.__table__
    with store.connect() as connection:
        payload = connection.execute(
            select(table.c.payload).where(table.c.destination == destination,
                                          table.c.status == "sent").order_by(table.c.id)
        ).scalars().first()
    return Message.from_payload(payload)


def stored_good_days(store, product: str, objective: str, days: int, before: datetime) -> None:
    """`days` of good probes every minute before `before`, written as hourly totals (the same
    window sums as 60 events a minute apart, without writing 40 000 probe results)."""
    with store.begin() as connection:
        record_events(connection, [Event(product, objective, before - k * HOUR - 30 * SECOND,
                                         60, 60) for k in range(days * 24)])


PAGE_AFTER_AN_HOUR = Scenario(
    (availability(30 * DAY),), MINUTE,
    (Phase("stored outage", HOUR, down), Phase("outage", MINUTE, down, MINUTE)),
    owner=[PAGED], consumer=[PAGED], times=["outage+7s"])


def test_the_page_states_the_promise_the_measure_since_when_and_when_the_budget_is_gone(
        store, receiver):
    # 29 good days, then an hour of outage of a 99 % / 30 d objective: 60 bad of 41 820 events
    stored_good_days(store, "checkout/orders", "api-availability", 29, T0 - HOUR)
    happened = run(store, receiver, PAGE_AFTER_AN_HOUR)
    assert happened.heard["/owner"] == [PAGED]
    words = text(outbox_message(store, "webhook:" + receiver.url("/owner")))

    assert "[FIRING] checkout/orders: api-availability fast_burn (page)" in words
    assert "api-availability: page alert firing (fast_burn, sustained_burn), " \
        "since 2026-11-02 12:00 UTC" in words
    assert "promised: availability for 99% over 30d; pages at 2% of the 30-day budget in 1h " \
        "(burn rate 14.4 over 1h and 5m)" in words
    # 1 − 60/41 820/1 % = 85.7 % left of the events so far; of a full window's 43 200 probes
    # 1 − 60/432 = 86.1 %, which at burn rate 100 lasts 30 d × 0.861 / 100 = 6h 12m
    assert "measured: compliance 99.857%, error budget left 85.7%, burn rate 100.00 " \
        "(short window 100.00), at this rate the budget is gone in 6h 12m, " \
        "41760/41820 good events" in words
    assert "Owner: checkout <checkout-data@contoso.example>" in words
    assert "Dashboard: http://localhost:8501/product?product=checkout/orders" in words
    assert not re.search(r"\d+\s?ms\b", words)  # no milliseconds counted out
    assert not re.search(r"\d+:\d\d:\d\d", words)  # no 6:10:03
    document = happened.messages["/owner"][0]
    assert document["promised"]["budget_share"] == pytest.approx(0.02)
    assert document["measured"]["budget_lasts_seconds"] == pytest.approx(
        30 * 86400 * (1 - 60 / 43200 / 0.01) / 100)


# ── found by this table, fixed: the age judged, a young objective's budget ──────────────────

def test_freshness_breach_holds_only_once_the_data_is_older_than_the_threshold(store):
    lake = DataProduct(domain="checkout", name="lake", owner=Owner("checkout"),
                       ports=(Port(PORT, "http"),), objectives=(FRESHNESS,),
                       start=date(2026, 1, 1))
    buffer = MeasurementBuffer(store)
    buffer.products = {lake.id: lake}
    probed = datetime(2026, 11, 2, 12, 4, 20, tzinfo=UTC)
    buffer.add(ProbeResult(lake.id, PORT, "http", probed, ok=True,
                           newest_data_at=datetime(2026, 11, 2, 11, 59, 50, tzinfo=UTC)))
    assert buffer.flush().error is None
    with store.connect() as connection:
        [report] = evaluate_mesh(connection, [lake], probed + 10 * SECOND)
    assert report.evaluation.data_age == 4 * MINUTE + 40 * SECOND
    assert "freshness_breach" not in {c.name for c in report.evaluation.conditions}


def test_a_young_objective_is_not_told_its_budget_is_spent_while_budget_exhausted_does_not_hold(
        store, receiver):
    happened = run(store, receiver, PAGE_AFTER_AN_HOUR)
    assert happened.heard["/owner"] == [PAGED]
    assert not any("budget_exhausted" in held for _, holding in happened.holding
                   for held in holding.values())
    document = happened.messages["/owner"][0]
    words = text(outbox_message(store, "webhook:" + receiver.url("/owner")))
    assert "the budget is spent" not in words
    assert document["measured"]["error_budget_remaining"] < 0  # the standard definition stays
    assert document["measured"]["window_budget_remaining"] == pytest.approx(1 - 60 / 432)
    assert "of a full window's" in words
