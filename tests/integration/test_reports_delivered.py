"""The monthly uptime report delivered (issue 13, item 4): queued in the outbox once the month
ended in the settings' time zone, once per destination across workers and restarts, sent as an
email attachment (a real aiosmtpd server) or inline in a webhook (a real aiohttp receiver), and
retried while a destination fails. The data is tests/support/report_mesh.py's October 2025."""

from __future__ import annotations

import asyncio
import textwrap
from collections import Counter
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, text
from typer.testing import CliRunner

from monitor.alerting import Notifiers, deliver_due, failed_deliveries
from monitor.alerting.messages import AlertItem, Message
from monitor.alerting.notifiers.webhook import webhook_payload
from monitor.cli.app import app
from monitor.config.loading import load_config
from monitor.daemon.reports import MonthlyReports, due_month
from monitor.daemon.runner import serve
from monitor.demo.webhooks import WebhookReceiver
from monitor.reports.months import Month
from monitor.store import open_store
from monitor.store.tables import NotificationRecord
from tests.support.clock import FakeClock
from tests.support.ports import free_port
from tests.support.postgres import postgres_database
from tests.support.report_mesh import fill_october, write_config
from tests.support.threads import run_in_threads

OCTOBER = Month(2025, 10)
# the first check after October ended in UTC (and SETTLE, the 15 minutes its last probes get)
UTC_FIRST = datetime(2025, 11, 1, 0, 20, tzinfo=UTC)
# 1 Nov 00:20 in Amsterdam (CET, UTC+1) is still 31 Oct in UTC
AMSTERDAM_FIRST = datetime(2025, 10, 31, 23, 20, tzinfo=UTC)


class Mailbox:
    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql",
                                                                 marks=pytest.mark.postgres)])
def october_store(request, tmp_path_factory):
    """A store with October 2025's measurements, once per database; each test empties the outbox."""
    def sqlite_file():
        yield f"sqlite:///{tmp_path_factory.mktemp('store') / 'meshwatch.db'}"

    urls = sqlite_file() if request.param == "sqlite" else postgres_database()
    url = next(urls)
    engine = open_store(url)
    fill_october(engine)
    engine.dispose()
    yield url
    urls.close()


@pytest.fixture
def store_url(october_store):  # conftest's `store` opens this one
    engine = open_store(october_store)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM notification"))
    engine.dispose()
    return october_store


@pytest.fixture
def mailbox():
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


@pytest.fixture
def receiver():
    with WebhookReceiver() as receiver:
        yield receiver


def configure(directory: Path, store_url: str, reports: str, timezone: str = "UTC",
              channels: str = "{}", smtp_port: int = 9, extra: str = ""):
    """The report mesh's contracts with `reports:` (YAML text of its value) in meshwatch.yaml."""
    write_config(directory, store_url)
    (directory / "meshwatch.yaml").write_text(textwrap.dedent(f"""\
        database_url: {store_url}
        timezone: {timezone}
        alerting: {{retry_backoff: 30s, max_attempts: 4}}
        smtp: {{host: 127.0.0.1, port: {smtp_port}, from_address: meshwatch@contoso.example}}
        channels: {channels}
        reports: {reports}
        """) + extra)
    config = load_config(directory)
    assert config.problems == [], config.problems
    return config


def printed_report(directory: Path, month: str, format: str) -> str:
    """What `meshwatch report uptime` prints for the month in the format."""
    result = CliRunner().invoke(app, ["report", "uptime", "--month", month, "--format", format,
                                      "--config", str(directory)])
    assert result.exit_code == 0, result.output
    return result.stdout


def rows(engine) -> list:
    with engine.connect() as connection:
        return list(connection.execute(select(NotificationRecord.__table__)
                                       .order_by(NotificationRecord.__table__.c.id)))


@pytest.mark.parametrize("format", ["html", "csv", "md"])
def test_the_month_that_ended_is_emailed_as_the_attachment_report_uptime_prints(
        store, store_url, mailbox, tmp_path, format):
    box, smtp_port = mailbox
    config = configure(tmp_path, store_url, f"{{monthly: {{to: [{{email: governance@contoso.example}}], "
                                            f"format: {format}}}}}", smtp_port=smtp_port)

    queued = MonthlyReports(store).queue_due(config, UTC_FIRST)
    summary = deliver_due(store, UTC_FIRST, Notifiers(config.settings), "worker-1")

    assert queued == ["email:governance@contoso.example"] and summary.sent == 1
    [(envelope, mail)] = box.messages
    assert envelope.rcpt_tos == ["governance@contoso.example"]
    assert mail["Subject"] == "[REPORT] meshwatch uptime report 2025-10 (UTC)"
    body = mail.get_body(("plain",)).get_content()
    assert "The uptime report of 2025-10 (UTC) is attached" in body
    assert "3 product(s); objectives: 3 met, 1 missed, 1 without data." in body
    assert "- checkout/orders api-availability: 99.899% of 99.9%" in body  # the one missed
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == f"meshwatch-uptime-2025-10.{format}"
    assert attachment.get_content_type() == {"html": "text/html", "csv": "text/csv",
                                             "md": "text/markdown"}[format]
    assert attachment.get_content() == printed_report(tmp_path, "2025-10", format)
    [row] = rows(store)
    assert (row.group_key, row.destination, row.status) == (
        "report:uptime|2025-10", "email:governance@contoso.example", "sent")


def test_a_webhook_gets_the_report_inline_marked_as_a_report(store, store_url, receiver,
                                                             tmp_path):
    config = configure(tmp_path, store_url, "{monthly: {to: [{channel: governance}], format: csv}}",
                       channels=f"{{governance: {{type: webhook, url: '{receiver.url('/gov')}', "
                                f"secret: s3cret}}}}")

    MonthlyReports(store).queue_due(config, UTC_FIRST)
    assert deliver_due(store, UTC_FIRST, Notifiers(config.settings), "worker-1").sent == 1

    [request] = receiver.at("/gov")
    payload = request.json
    assert {key: payload[key] for key in ("version", "type", "report", "month", "timezone",
                                          "format", "media_type", "filename")} == {
        "version": "1", "type": "report", "report": "uptime", "month": "2025-10",
        "timezone": "UTC", "format": "csv", "media_type": "text/csv",
        "filename": "meshwatch-uptime-2025-10.csv"}
    assert payload["content"] == printed_report(tmp_path, "2025-10", "csv")
    assert payload["summary"].startswith("3 product(s); objectives: 3 met, 1 missed")
    headers = {name.lower(): value for name, value in request.headers.items()}
    assert payload["delivery_id"] == headers["x-meshwatch-delivery"] == headers["webhook-id"]
    assert headers["webhook-signature"].startswith("v1,")  # signed as alerts are


def test_an_alert_webhook_payload_says_it_is_an_alert_and_keeps_its_fields():
    item = AlertItem(objective="api-availability", indicator="availability", condition="fast_burn",
                     severity="page", since="2025-11-02T12:00:00Z", measured={}, promised={})
    payload = webhook_payload(Message(status="firing", product="checkout/orders",
                                      at="2025-11-02T12:00:00Z", owner={}, dashboard_url="",
                                      alerts=(item,)))
    assert payload["type"] == "alert" and payload["status"] == "firing"
    assert payload["objective"] == "api-availability" and len(payload["alerts"]) == 1


def test_the_first_of_the_month_in_amsterdam_is_not_the_first_in_utc(store, store_url,
                                                                     tmp_path):
    reports = "{monthly: {to: [{email: governance@contoso.example}]}}"
    amsterdam = configure(tmp_path / "amsterdam", store_url, reports, timezone="Europe/Amsterdam")
    utc = configure(tmp_path / "utc", store_url, reports)
    jobs = MonthlyReports(store)

    assert due_month(AMSTERDAM_FIRST - timedelta(minutes=10), "Europe/Amsterdam") == Month(2025, 9)
    assert due_month(AMSTERDAM_FIRST, "Europe/Amsterdam") == OCTOBER
    assert due_month(AMSTERDAM_FIRST, "UTC") == Month(2025, 9)  # still 31 Oct 23:20 in UTC
    assert jobs.queue_due(amsterdam, AMSTERDAM_FIRST) == ["email:governance@contoso.example"]
    [row] = rows(store)
    assert row.group_key == "report:uptime|2025-10"
    assert row.payload["timezone"] == "Europe/Amsterdam"
    assert row.payload["content"] == printed_report(tmp_path / "amsterdam", "2025-10", "html")

    with store.begin() as connection:
        connection.execute(text("DELETE FROM notification"))
    jobs.queue_due(utc, AMSTERDAM_FIRST)  # UTC's September: its one probe (30 Sep 22:30 UTC)
    assert [r.group_key for r in rows(store)] == ["report:uptime|2025-09"]
    assert jobs.queue_due(utc, UTC_FIRST - timedelta(minutes=10)) == []  # settling
    assert jobs.queue_due(utc, UTC_FIRST) == ["email:governance@contoso.example"]
    assert [r.group_key for r in rows(store)] == ["report:uptime|2025-09", "report:uptime|2025-10"]


def test_two_workers_and_a_restart_deliver_the_report_once_per_destination(
        store_url, receiver, tmp_path):
    destinations = [f"{{webhook: '{receiver.url(f'/d{i}')}'}}" for i in range(6)]
    config = configure(tmp_path, store_url,
                       f"{{monthly: {{to: [{', '.join(destinations)}], format: md}}}}")
    engines = [open_store(store_url), open_store(store_url)]
    try:
        run_in_threads(*[(lambda e=e: MonthlyReports(e).queue_due(config, UTC_FIRST))
                         for e in engines])
        run_in_threads(*[(lambda e=e, n=n: deliver_due(e, UTC_FIRST, Notifiers(config.settings),
                                                       f"worker-{n}"))
                         for n, e in enumerate(engines)])
        # a restart later in the month: a new process, the same store, the job run again
        later = UTC_FIRST + timedelta(days=3)
        restarted = open_store(store_url)
        assert MonthlyReports(restarted).queue_due(config, later) == []
        assert deliver_due(restarted, later, Notifiers(config.settings), "worker-3").claimed == 0
        restarted.dispose()
    finally:
        for engine in engines:
            engine.dispose()

    assert Counter(r.path for r in receiver.requests) == Counter({f"/d{i}": 1 for i in range(6)})
    assert {r.json["content"] for r in receiver.requests} == {
        printed_report(tmp_path, "2025-10", "md")}


def test_a_failing_destination_is_retried_then_delivered_once(store, store_url, receiver,
                                                              tmp_path):
    config = configure(tmp_path, store_url, f"{{monthly: {{to: [{{webhook: '{receiver.url('/gov')}'}}]}}}}")
    receiver.statuses.extend([503, 503])
    clock = FakeClock(UTC_FIRST)
    notifiers = Notifiers(config.settings)

    MonthlyReports(store).queue_due(config, clock())
    first = deliver_due(store, clock(), notifiers, "worker-1")
    again_too_soon = deliver_due(store, clock.advance(timedelta(seconds=10)), notifiers, "worker-1")
    second = deliver_due(store, clock.advance(timedelta(seconds=30)), notifiers, "worker-1")
    third = deliver_due(store, clock.advance(timedelta(seconds=60)), notifiers, "worker-1")
    after = deliver_due(store, clock.advance(timedelta(hours=1)), notifiers, "worker-1")

    assert (first.retrying, again_too_soon.claimed, second.retrying, third.sent, after.claimed) == (
        1, 0, 1, 1, 0)
    assert "HTTP 503" in first.errors[0]
    assert [r.json["type"] for r in receiver.at("/gov")] == ["report"] * 3  # 503, 503, then 200
    [row] = rows(store)
    assert (row.status, row.attempts) == ("sent", 3)
    assert MonthlyReports(store).queue_due(config, clock()) == []


def test_a_month_nothing_was_measured_in_is_not_reported(store, store_url, tmp_path):
    config = configure(tmp_path, store_url, "{monthly: {to: [{email: governance@contoso.example}]}}")
    # August 2025: the store holds nothing before 30 Sep
    assert MonthlyReports(store).queue_due(config, datetime(2025, 9, 10, tzinfo=UTC)) == []
    assert rows(store) == []


def test_a_daemon_started_after_the_first_sends_the_report_at_its_start_and_not_again(
        store_url, receiver, tmp_path):
    config = configure(tmp_path, store_url,
                       f"{{monthly: {{to: [{{webhook: '{receiver.url('/gov')}'}}], format: md}}}}",
                       extra=f"daemon: {{listen: '127.0.0.1:{free_port()}'}}\n")

    async def run_daemon(at: datetime) -> None:
        engine = open_store(store_url)
        stop = asyncio.Event()
        task = asyncio.create_task(serve(load_config(tmp_path), engine, stop_event=stop,
                                         on_started=lambda _daemon: stop.set(),
                                         clock=FakeClock(at)))
        try:
            await asyncio.wait_for(task, 30)
        finally:
            engine.dispose()

    asyncio.run(run_daemon(datetime(2025, 11, 12, 9, 0, tzinfo=UTC)))  # down on the 1st
    assert [r.json["month"] for r in receiver.at("/gov")] == ["2025-10"]
    asyncio.run(run_daemon(datetime(2025, 11, 20, 9, 0, tzinfo=UTC)))  # restarted
    assert len(receiver.at("/gov")) == 1
    assert receiver.at("/gov")[0].json["content"] == printed_report(tmp_path, "2025-10", "md")
    assert config.settings.reports.monthly is not None


def test_report_destinations_that_cannot_carry_a_report_are_refused_at_load_with_their_line(
        tmp_path):
    (tmp_path / "meshwatch.yaml").write_text(textwrap.dedent("""\
        channels:
          governance: {type: webhook, url: "http://127.0.0.1:9/gov"}
          alertmanager: {type: alertmanager, url: "http://127.0.0.1:9093"}
        reports:
          monthly:
            format: html
            to:
              - {email: governance@contoso.example}
              - {channel: governance}
              - {channel: alertmanager}
              - {channel: finance}
              - {apprise: "slack://token-a/token-b/token-c"}
              - {email: not-an-address}
              - {email: a@contoso.example, inhibit_when_upstream: true}
        """))
    problems = [str(p).removeprefix(str(tmp_path) + "/") for p in load_config(tmp_path).problems
                if "reports" in p.field]
    assert problems == [
        "meshwatch.yaml:10: reports.monthly.to[2].channel: a report cannot go to channel "
        "'alertmanager' of type alertmanager: Alertmanager takes alerts, not documents (use an "
        "email or webhook destination)",
        "meshwatch.yaml:11: reports.monthly.to[3].channel: no channel named 'finance' "
        "(channels: alertmanager, governance)",
        "meshwatch.yaml:12: reports.monthly.to[4].apprise: a report cannot go to apprise: its "
        "services take a short message, not a document (use an email or webhook destination)",
        "meshwatch.yaml:13: reports.monthly.to[5].email: not an email address: 'not-an-address'",
        "meshwatch.yaml:14: reports.monthly.to[6]: a destination is one KIND: VALUE pair, e.g. "
        "{email: governance@example.com} or {channel: NAME}"]
    (tmp_path / "meshwatch.yaml").write_text("reports: {monthly: {to: [], format: pdf}}\n")
    assert sorted(p.field for p in load_config(tmp_path).problems if "reports" in p.field) == [
        "reports.monthly.format", "reports.monthly.to"]


def test_report_send_sends_a_month_now_to_the_destinations_given_outside_the_outbox(
        store, store_url, receiver, tmp_path):
    configure(tmp_path, store_url, "{monthly: {to: [{email: governance@contoso.example}]}}",
              channels="{am: {type: alertmanager, url: 'http://127.0.0.1:9093'}}")
    runner = CliRunner()

    sent = runner.invoke(app, ["report", "send", "--month", "2025-10", "--format", "csv", "--to",
                               f"webhook:{receiver.url('/now')}", "--config", str(tmp_path)])
    refused = runner.invoke(app, ["report", "send", "--month", "2025-10", "--to", "channel:am",
                                  "--config", str(tmp_path)])

    assert sent.exit_code == 0, sent.output
    assert f"sent webhook:{receiver.url('/now')}" in sent.stdout
    [request] = receiver.at("/now")
    assert request.json["content"] == printed_report(tmp_path, "2025-10", "csv")
    assert refused.exit_code == 2
    assert "channel:am: a report cannot go to channel 'am' of type alertmanager" in refused.stderr
    assert rows(store) == []  # nothing queued: the monthly delivery is not affected


def test_a_report_that_fails_for_good_is_listed_with_the_failed_deliveries(store, store_url,
                                                                          receiver, tmp_path):
    config = configure(tmp_path, store_url, f"{{monthly: {{to: [{{webhook: '{receiver.url('/x')}'}}]}}}}")
    receiver.statuses.append(404)

    MonthlyReports(store).queue_due(config, UTC_FIRST)
    assert deliver_due(store, UTC_FIRST, Notifiers(config.settings), "worker-1").failed == 1

    with store.connect() as connection:
        [failed] = failed_deliveries(connection)
    assert (failed["message"], failed["destination"], failed["status"]) == (
        "report uptime 2025-10", f"webhook:{receiver.url('/x')}", "failed")
    assert failed["last_error"].startswith("HTTP 404 Not Found")
