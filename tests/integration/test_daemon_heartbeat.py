"""Push-style ports: a pipeline reports runs over HTTP; the heartbeat probe turns them into SLIs."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web

from monitor.config.loading import load_config
from monitor.daemon.endpoints import make_app
from monitor.daemon.scheduler import Daemon
from monitor.evaluation.mesh import evaluate_mesh
from tests.support.daemon import HEARTBEAT_PRODUCT, write_config
from tests.support.ports import free_port

TOKEN = "s3cret-token-value"


@pytest.fixture
async def daemon_endpoint(tmp_path, store, clock):
    config = load_config(write_config(tmp_path / "config", {"cart.yaml": HEARTBEAT_PRODUCT}))
    assert config.valid, config.problems
    daemon = Daemon(config, store, clock=clock)
    daemon._apply(config)
    runner = web.AppRunner(make_app(daemon))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as session:
        yield daemon, session
    await daemon.stop()
    await runner.cleanup()


async def report(session, status="success", token=TOKEN, path="/heartbeat/cart/events/pipeline"):
    async with session.post(path, json={"status": status, "run_id": "run-1", "message": "m"},
                            headers={"Authorization": f"Bearer {token}"}) as response:
        return response.status, await response.json()


async def test_a_pipeline_run_reported_with_its_token_is_recorded(daemon_endpoint):
    daemon, session = daemon_endpoint
    status, body = await report(session)
    assert status == 202 and body["recorded"] is True
    probe = daemon.probes[("cart/events", "pipeline")]
    result = await probe.measure()
    assert result.ok and result.newest_data_at == daemon.clock()


async def test_a_wrong_token_is_refused_and_nothing_is_recorded(daemon_endpoint):
    daemon, session = daemon_endpoint
    status, body = await report(session, token="not-the-token")
    assert status == 401 and "token" in body["error"]
    result = await daemon.probes[("cart/events", "pipeline")].measure()
    assert not result.ok and result.error == "no heartbeat received yet"


async def test_an_unknown_port_or_garbage_body_gets_a_clear_error(daemon_endpoint):
    _, session = daemon_endpoint
    status, body = await report(session, path="/heartbeat/cart/events/nope")
    assert status == 404 and "nope" in body["error"]
    async with session.post("/heartbeat/cart/events/pipeline", data=b"{not json",
                            headers={"Authorization": f"Bearer {TOKEN}"}) as response:
        assert response.status == 400
    status, body = await report(session, status="maybe")
    assert status == 400 and "success" in body["error"]


async def test_a_failed_run_makes_the_port_unavailable_but_keeps_the_last_success(daemon_endpoint):
    daemon, session = daemon_endpoint
    await report(session, "success")
    succeeded_at = daemon.clock()
    daemon.clock.advance(timedelta(minutes=10))
    await report(session, "failure")
    result = await daemon.probes[("cart/events", "pipeline")].measure()
    assert not result.ok and "failure" in result.error
    assert result.newest_data_at == succeeded_at


async def test_a_silent_pipeline_goes_stale_after_interval_plus_grace(daemon_endpoint):
    daemon, session = daemon_endpoint
    await report(session)
    probe = daemon.probes[("cart/events", "pipeline")]
    daemon.clock.advance(timedelta(minutes=20))  # 15m interval + 5m grace: still due
    assert (await probe.measure()).ok
    daemon.clock.advance(timedelta(minutes=1))
    late = await probe.measure()
    assert not late.ok and late.error_class == "timeout" and "21m" in late.error


async def test_heartbeats_feed_availability_and_freshness_objectives(daemon_endpoint):
    daemon, session = daemon_endpoint
    await report(session)
    probe = daemon.probes[("cart/events", "pipeline")]
    for _ in range(3):  # fresh at 0 and 20 min; at 40 min the last success is 40 min old
        daemon.buffer.add(await probe.measure())
        daemon.clock.advance(timedelta(minutes=20))
    daemon.buffer.flush()
    with daemon.engine.connect() as connection:
        reports = {r.objective.name: r.evaluation
                   for r in evaluate_mesh(connection, daemon.products.values(), daemon.clock())}
    assert (reports["pipeline-availability"].counts.good,
            reports["pipeline-availability"].counts.total) == (2, 3)
    assert (reports["pipeline-freshness"].counts.good,
            reports["pipeline-freshness"].counts.total) == (2, 3)


async def post_raw(session, data: bytes):
    async with session.post("/heartbeat/cart/events/pipeline", data=data,
                            headers={"Authorization": f"Bearer {TOKEN}",
                                     "Content-Type": "application/json"}) as response:
        return response.status, await response.json()


@pytest.mark.parametrize("body", [
    b'{"status": "success", "message": "caf\xe9 \xff"}',  # not UTF-8
    b"[" * 30_000 + b"]" * 30_000,  # nested deeper than any parser follows
    b'{"status": "success", "run_id": ' + b"9" * 5000 + b"}",  # more digits than Python reads
    b'{"status": "success", "message": "cut',  # cut short
    b"\x00\x00\x00\x00",
    "\ufeff{}".encode("utf-16"),
], ids=["invalid utf-8", "30000 deep", "5000-digit number", "truncated", "NUL bytes", "utf-16"])
async def test_a_hostile_body_is_refused_with_a_message_not_a_traceback(daemon_endpoint, body,
                                                                      caplog):
    daemon, session = daemon_endpoint
    status, answer = await post_raw(session, body)
    assert status == 400 and "UTF-8 JSON" in answer["error"]
    assert "Traceback" not in caplog.text
    result = await daemon.probes[("cart/events", "pipeline")].measure()
    assert result.error == "no heartbeat received yet"


@pytest.mark.parametrize("body, error", [
    (b'{"status": ["success"]}', "status must be"),
    (b'{"status": null}', "status must be"),
    (b'"success"', "status must be"),
    (b"[]", "status must be"),
    (b'{"status": "' + b"s" * 100_000 + b'"}', "larger than 64 KiB"),
], ids=["status a list", "status null", "a string", "a list", "100 KB"])
async def test_a_body_of_the_wrong_shape_or_size_gets_400_or_413_with_a_reason(daemon_endpoint, body,
                                                                             error, caplog):
    _, session = daemon_endpoint
    status, answer = await post_raw(session, body)
    assert status == (413 if "KiB" in error else 400) and error in answer["error"]
    assert "Traceback" not in caplog.text


async def test_control_characters_in_the_message_and_run_id_are_recorded_printable(daemon_endpoint):
    daemon, session = daemon_endpoint
    status, answer = await post_raw(
        session, b'{"status": "failure", "run_id": "r\\u0000' + b"x" * 300 + b'", '
                 b'"message": "row\\u0000 7\\n\\u001b[31m bad"}')
    assert status == 202, answer
    result = await daemon.probes[("cart/events", "pipeline")].measure()
    assert not result.ok and "row\ufffd 7 \ufffd[31m bad" in (result.error or "")


async def test_a_lone_surrogate_in_the_message_is_recorded_not_a_store_failure(daemon_endpoint):
    daemon, session = daemon_endpoint
    status, answer = await post_raw(session, b'{"status": "failure", "message": "bad \\ud800 row"}')
    assert status == 202, answer
    result = await daemon.probes[("cart/events", "pipeline")].measure()
    assert not result.ok and "bad ? row" in (result.error or "")
