"""The daemon's HTTP API through a real server and real requests: badges (SVG and shields.io
JSON), /api/v1/status from the latest round or — on a worker that did not evaluate a product —
from the store, and silences made, listed and ended with the settings' bearer token, which mute
a real notification."""

from __future__ import annotations

import contextlib
import logging
import os
import xml.etree.ElementTree as ElementTree
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web

from monitor.alerting import AlertingService, list_silences
from monitor.config.loading import load_config
from monitor.daemon.endpoints import make_app
from monitor.daemon.scheduler import Daemon
from monitor.demo.webhooks import WebhookReceiver
from tests.support.alerting import outbox
from tests.support.daemon import HEARTBEAT_PRODUCT, write_config
from tests.support.ports import free_port

API_TOKEN = "api-token-value-93"
WITH_TOKEN = "api: {token: '${MESHWATCH_TEST_API_TOKEN}'}\n"
HEARTBEAT_TOKEN = "s3cret-token-value"
SVG = "{http://www.w3.org/2000/svg}"
RED, GREEN, GREY = "#e05d44", "#4c1", "#9f9f9f"


def product_notifying(url: str) -> str:
    return HEARTBEAT_PRODUCT.replace(
        "owner: {team: cart, contact: cart@contoso.example}",
        f"owner: {{team: cart, contact: cart@contoso.example, notify: [{{webhook: '{url}'}}]}}")


@contextlib.asynccontextmanager
async def served(daemon: Daemon):
    runner = web.AppRunner(make_app(daemon))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as session:
            yield session
    finally:
        await daemon.stop()
        await runner.cleanup()


@pytest.fixture
async def receiver():
    server = await WebhookReceiver().start()
    yield server
    await server.stop()


@pytest.fixture
def make_daemon(tmp_path, store, clock, receiver):
    """A daemon (no leases: it evaluates every product) whose alerting notifies the receiver."""
    os.environ["MESHWATCH_TEST_API_TOKEN"] = API_TOKEN
    made = []

    def make(settings: str = WITH_TOKEN) -> Daemon:
        directory = tmp_path / f"config-{len(made)}"
        config = load_config(write_config(directory, {"cart.yaml": product_notifying(
            receiver.url("/owner"))}, settings))
        assert config.valid, config.problems
        alerting = AlertingService(store, config.settings)
        daemon = Daemon(config, store, clock=clock, after_evaluation=[alerting.after_evaluation])
        daemon._apply(config)
        made.append(daemon)
        return daemon

    return make


@pytest.fixture
async def api(make_daemon):
    daemon = make_daemon()
    async with served(daemon) as session:
        yield daemon, session


async def pipeline_run(daemon: Daemon, session, status: str) -> None:
    """The pipeline reports a run; the heartbeat port is probed and the result kept."""
    async with session.post("/heartbeat/cart/events/pipeline", json={"status": status},
                            headers={"Authorization": f"Bearer {HEARTBEAT_TOKEN}"}) as response:
        assert response.status == 202
    await probe(daemon)


async def probe(daemon: Daemon) -> None:
    daemon.buffer.add(await daemon.probes[("cart/events", "pipeline")].measure())


async def late_pipeline(daemon: Daemon, session) -> None:
    """A run at 12:00, then none for 45 minutes: freshness (30 m) pages; 1 of 2 probes good."""
    await pipeline_run(daemon, session, "success")
    await daemon.evaluate_round()
    daemon.clock.advance(timedelta(minutes=45))
    await probe(daemon)
    await daemon.evaluate_round()


async def get_badge(session, path: str):
    async with session.get(path) as response:
        return response.status, response.headers, await response.text()


def badge_parts(svg: str) -> tuple[str, list[str]]:
    """The badge's title and the colours of its rectangles (parsing it proves it well-formed):
    the clip's, the label's and the message's."""
    root = ElementTree.fromstring(svg)
    fills = [r.get("fill") for r in root.iter(f"{SVG}rect")]
    return root.find(f"{SVG}title").text, [f for f in fills if not f.startswith("url(")]


async def post_silence(session, body, token: str | None = API_TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with session.post("/api/v1/silences", json=body, headers=headers) as response:
        return response.status, await response.json()


# ---- badges -------------------------------------------------------------------------------
async def test_a_product_badge_is_an_svg_in_the_colour_of_its_worst_status(api):
    daemon, session = api
    status, headers, svg = await get_badge(session, "/badge/cart/events.svg")
    assert status == 200 and headers["Content-Type"].startswith("image/svg+xml")
    assert badge_parts(svg) == ("cart/events: no data", ["#fff", "#555", GREY])

    await pipeline_run(daemon, session, "failure")
    await daemon.evaluate_round()
    status, headers, svg = await get_badge(session, "/badge/cart/events.svg")
    assert badge_parts(svg) == ("cart/events: breached", ["#fff", "#555", RED])
    assert headers["Cache-Control"] == "max-age=30"  # one evaluation interval


async def test_an_objective_badge_shows_its_status_and_compliance_or_budget_left(api):
    daemon, session = api
    await pipeline_run(daemon, session, "success")
    await daemon.evaluate_round()

    _, _, svg = await get_badge(session, "/badge/cart/events/pipeline-availability.svg")
    assert badge_parts(svg) == ("pipeline-availability: ok · 100.00%", ["#fff", "#555", GREEN])
    _, _, svg = await get_badge(session, "/badge/cart/events/pipeline-availability.svg?value=budget")
    assert badge_parts(svg)[0] == "pipeline-availability: ok · 100% budget left"
    _, _, svg = await get_badge(session, "/badge/cart/events/pipeline-availability.svg?label=uptime")
    assert badge_parts(svg)[0] == "uptime: ok · 100.00%"
    _, _, svg = await get_badge(session, '/badge/cart/events.svg?label=<b>"x"%26y')
    assert badge_parts(svg)[0] == '<b>"x"&y: ok'  # escaped into the SVG, read back as given


async def test_badges_as_shields_endpoint_json(api):
    daemon, session = api
    await late_pipeline(daemon, session)

    async with session.get("/badge/cart/events/pipeline-freshness.json") as response:
        assert response.status == 200
        assert await response.json() == {"schemaVersion": 1, "label": "pipeline-freshness",
                                         "message": "breached · 50.00%", "color": "red"}
    path = "/badge/cart/events/pipeline-freshness.svg?format=shields&value=budget"
    async with session.get(path) as response:
        assert (await response.json())["message"] == "breached · budget spent"
    async with session.get("/badge/cart/events.json") as response:
        assert await response.json() == {"schemaVersion": 1, "label": "cart/events",
                                         "message": "breached", "color": "red"}


async def test_unknown_products_objectives_and_paths_get_a_clear_badge_or_error(api):
    _, session = api
    status, _, svg = await get_badge(session, "/badge/cart/nope.svg")
    assert status == 404 and badge_parts(svg)[0] == "meshwatch: unknown product"
    async with session.get("/badge/cart/nope.json") as response:
        assert response.status == 404
        assert await response.json() == {"schemaVersion": 1, "label": "meshwatch",
                                         "message": "unknown product", "color": "lightgrey",
                                         "isError": True}
    status, _, svg = await get_badge(session, "/badge/cart/events/nope.svg")
    assert status == 404 and badge_parts(svg)[0] == "meshwatch: unknown objective"
    status, _, text = await get_badge(session, "/badge/cart/events")
    assert status == 404 and ".svg or .json" in text
    status, _, text = await get_badge(session, "/badge/cart/events.svg?value=latency")
    assert status == 400 and "compliance, budget" in text


# ---- status -------------------------------------------------------------------------------
async def test_the_status_api_gives_every_objective_from_the_latest_round(api, receiver):
    daemon, session = api
    await late_pipeline(daemon, session)

    async with session.get("/api/v1/status") as response:
        assert response.status == 200
        document = await response.json()
    assert document["at"] == "2026-11-02T12:45:00Z" and document["worker"] is None
    [product] = document["products"]
    assert {k: product[k] for k in ("product", "domain", "name", "owner", "status", "evaluated_at",
                                    "source")} == {
        "product": "cart/events", "domain": "cart", "name": "events", "owner": "cart",
        "status": "breached", "evaluated_at": "2026-11-02T12:45:00Z", "source": "round"}
    availability, freshness = product["objectives"]
    assert {k: availability[k] for k in ("objective", "indicator", "status", "target", "window",
                                         "compliance", "error_budget_remaining", "good", "total",
                                         "conditions", "since", "alerts", "silenced_until")} == {
        "objective": "pipeline-availability", "indicator": "availability", "status": "breached",
        "target": 0.99, "window": "30d", "compliance": 0.5, "error_budget_remaining": -49.0,
        "good": 1, "total": 2, "conditions": [], "since": None, "alerts": [], "silenced_until": None}
    assert freshness["objective"] == "pipeline-freshness" and freshness["threshold"] == "30m"
    assert [c["name"] for c in freshness["conditions"]] == ["freshness_breach"]
    assert freshness["since"] == "2026-11-02T12:45:00Z"
    assert freshness["alerts"] == [{"severity": "page", "state": "firing",
                                    "condition": "freshness_breach", "conditions": ["freshness_breach"],
                                    "since": "2026-11-02T12:45:00Z", "fired_at": "2026-11-02T12:45:00Z"}]
    assert [r.json["status"] for r in receiver.at("/owner")] == ["firing"]  # not silenced

    async with session.get("/api/v1/status?product=cart/events") as response:
        assert [p["product"] for p in (await response.json())["products"]] == ["cart/events"]
    async with session.get("/api/v1/status?domain=checkout") as response:
        assert (await response.json())["products"] == []
    async with session.get("/api/v1/status?product=cart/nope") as response:
        assert response.status == 404 and "cart/nope" in (await response.json())["error"]


async def test_a_worker_that_did_not_evaluate_a_product_answers_it_from_the_store(api, make_daemon):
    daemon, session = api
    await late_pipeline(daemon, session)
    async with session.get("/api/v1/status") as response:
        from_round = await response.json()

    other = make_daemon()  # a second worker on the same store, which has run no round
    async with served(other) as other_session:
        async with other_session.get("/api/v1/status") as response:
            from_store = await response.json()
        _, _, svg = await get_badge(other_session, "/badge/cart/events/pipeline-freshness.svg")

    [round_product], [store_product] = from_round["products"], from_store["products"]
    assert (round_product["source"], store_product["source"]) == ("round", "store")
    assert store_product["evaluated_at"] == "2026-11-02T12:45:00Z"
    assert store_product["objectives"] == round_product["objectives"]
    assert badge_parts(svg)[0] == "pipeline-freshness: breached · 50.00%"


# ---- silences -----------------------------------------------------------------------------
async def test_a_silence_made_through_the_api_mutes_the_page_until_it_is_ended(api, receiver, store):
    daemon, session = api
    status, made = await post_silence(session, {
        "product": "cart/events", "duration": "2h", "reason": "planned backfill",
        "objectives": ["pipeline-freshness"], "created_by": "nightly-load"})
    assert status == 201
    [silence] = made["silences"]
    assert {k: silence[k] for k in ("product", "objective", "starts_at", "ends_at", "comment",
                                    "created_by", "active")} == {
        "product": "cart/events", "objective": "pipeline-freshness",
        "starts_at": "2026-11-02T12:00:00Z", "ends_at": "2026-11-02T14:00:00Z",
        "comment": "planned backfill", "created_by": "nightly-load", "active": True}
    with store.connect() as connection:  # the same silence `meshwatch silence list` shows
        assert [s.as_json(daemon.clock()) for s in list_silences(connection, daemon.clock())] == [silence]

    await late_pipeline(daemon, session)
    assert receiver.at("/owner") == []
    [notification] = outbox(store)
    assert notification.status == "muted"
    assert notification.muted_by == f"silence {silence['id']}: planned backfill"
    async with session.get("/api/v1/status") as response:
        freshness = (await response.json())["products"][0]["objectives"][1]
    assert freshness["silenced_until"] == "2026-11-02T14:00:00Z"
    async with session.get("/api/v1/silences") as response:
        assert [s["id"] for s in (await response.json())["silences"]] == [silence["id"]]

    async with session.delete(f"/api/v1/silences/{silence['id']}",
                              headers={"Authorization": f"Bearer {API_TOKEN}"}) as response:
        assert response.status == 200
        assert (await response.json())["ends_at"] == "2026-11-02T12:45:00Z"
    daemon.clock.advance(timedelta(minutes=1))
    await probe(daemon)
    await daemon.evaluate_round()
    assert [r.json["status"] for r in receiver.at("/owner")] == ["firing"]  # told once unmuted


async def test_ends_at_sets_when_a_silence_ends_and_no_objectives_silence_the_product(api):
    _, session = api
    status, made = await post_silence(session, {"product": "cart/events", "reason": "load",
                                                "ends_at": "2026-11-02T13:30:00+00:00"})
    assert status == 201
    [silence] = made["silences"]
    assert (silence["objective"], silence["ends_at"], silence["created_by"]) == (
        None, "2026-11-02T13:30:00Z", "api")


async def test_a_wrong_or_missing_token_is_refused_and_never_logged(api, caplog, store):
    daemon, session = api
    body = {"product": "cart/events", "duration": "2h", "reason": "load"}
    with caplog.at_level(logging.DEBUG):
        for token in ("not-the-token", None, ""):
            status, answer = await post_silence(session, body, token)
            assert status == 401 and "bearer token" in answer["error"]
        async with session.delete("/api/v1/silences/1") as response:
            assert response.status == 401
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
        await post_silence(session, body)  # a right one is not logged either
    with store.connect() as connection:
        assert len(list_silences(connection, daemon.clock())) == 1
    assert "refused: missing or wrong bearer token" in caplog.text
    assert API_TOKEN not in caplog.text and "not-the-token" not in caplog.text


async def test_without_a_token_in_the_settings_the_silences_api_is_off(make_daemon):
    for settings in ("", "api: {token: '${MESHWATCH_UNSET_TOKEN_VARIABLE:-}'}\n",
                     "api: {token: '${MESHWATCH_UNSET_TOKEN_VARIABLE}'}\n"):
        async with served(make_daemon(settings)) as session:
            status, answer = await post_silence(session, {"product": "cart/events",
                                                          "duration": "2h", "reason": "load"})
            assert status == 403 and "api.token" in answer["error"], settings
            async with session.get("/api/v1/silences") as response:
                assert response.status == 200  # reading them needs no token


BAD_SILENCES = [
    ({"duration": "2h", "reason": "load"}, 400, "product must be"),
    ({"product": "cart/events", "duration": "2h"}, 400, "reason must"),
    ({"product": "cart/events", "reason": "load"}, 400, "give one of duration"),
    ({"product": "cart/events", "reason": "load", "duration": "2h",
      "ends_at": "2026-11-02T14:00:00Z"}, 400, "give one of duration"),
    ({"product": "cart/events", "reason": "load", "duration": "soon"}, 400, "duration:"),
    ({"product": "cart/events", "reason": "load", "duration": "-2h"}, 400, "duration:"),
    ({"product": "cart/events", "reason": "load", "ends_at": "tomorrow"}, 400, "ISO-8601"),
    ({"product": "cart/events", "reason": "load", "ends_at": "2026-11-02T14:00:00"}, 400, "time zone"),
    ({"product": "cart/events", "reason": "load", "ends_at": "2026-11-02T11:00:00Z"}, 400, "after now"),
    ({"product": "cart/events", "reason": "load", "duration": "2h", "objectives": "all"}, 400,
     "list of objective names"),
    ({"product": "cart/events", "reason": "load", "duration": "2h", "comment": "x"}, 400,
     "unknown field 'comment'"),
    ({"product": "cart/nope", "reason": "load", "duration": "2h"}, 404, "no product 'cart/nope'"),
    ({"product": "cart/events", "reason": "load", "duration": "2h", "objectives": ["nope"]}, 404,
     "no objective 'nope'"),
    (["not", "an", "object"], 400, "JSON object"),
]


async def test_a_bad_silence_request_gets_a_clear_error_and_makes_nothing(api, store):
    daemon, session = api
    for body, status, says in BAD_SILENCES:
        answer_status, answer = await post_silence(session, body)
        assert answer_status == status and says in answer["error"], (body, answer)
    with store.connect() as connection:
        assert list_silences(connection, daemon.clock()) == []


async def test_a_silence_body_over_the_limit_or_not_json_is_refused(api):
    _, session = api
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    async with session.post("/api/v1/silences", data=b"x" * (65 * 1024), headers=headers) as response:
        assert response.status == 413
    async with session.post("/api/v1/silences", data=b"{not json", headers=headers) as response:
        assert response.status == 400
    async with session.delete("/api/v1/silences/abc", headers=headers) as response:
        assert response.status == 400
    async with session.delete("/api/v1/silences/999", headers=headers) as response:
        assert response.status == 404 and "999" in (await response.json())["error"]
