"""The HTTP probe against peers that misbehave on purpose (tests/support/hostile_http.py, raw
sockets on loopback): bombs, junk, lying lengths, huge heads, endless and slow bodies. Each is a
classified failure with a short, printable message, and memory stays bounded by `max_body`."""

from __future__ import annotations

import asyncio
import re
import tracemalloc
from datetime import timedelta

import pytest

from monitor.contracts.model import Port
from monitor.contracts.results import ErrorClass, ProbeResult
from monitor.probes.http import MAX_BODY, HttpOptions, HttpProbe
from tests.support.hostile_http import BOMB_SIZE, MB, HostileHttp, bomb

TIMEOUT = timedelta(seconds=3)
FRESH = {"freshness": {"json_path": "generated_at"}}
MEMORY_BOUND = 12 * MB  # what one probe may allocate at its peak: a few max_body, far from a bomb's 200 MB


@pytest.fixture
async def hostile():
    await asyncio.to_thread(bomb, "gzip")  # made once per process, before any memory is traced
    await asyncio.to_thread(bomb, "deflate")
    async with HostileHttp() as server:
        yield server


@pytest.fixture
async def probe(clock):
    made: list[HttpProbe] = []

    def make(url: str, timeout: timedelta = TIMEOUT, **options) -> HttpProbe:
        port = Port("api", "http", interval=timedelta(minutes=1), timeout=timeout, options={})
        made.append(HttpProbe("checkout/orders", port, HttpOptions(url=url, **options), clock))
        return made[-1]

    yield make
    for each in made:
        await each.close()


async def traced(probe: HttpProbe) -> tuple[ProbeResult, int]:
    """The probe's result and the peak of Python memory allocated while it ran."""
    tracemalloc.start()
    try:
        result = await probe.measure()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def assert_clean(message: str | None) -> None:
    """Short, printable, one line, without the peer's raw bytes or a bytes repr."""
    assert message is not None
    assert len(message) <= 200, message
    assert message.isprintable(), message
    assert "\\x" not in message and "b'" not in message and 'b"' not in message, message
    assert not re.search(r"a{50}", message), message  # no run of the 1 MB header's filler


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_compression_bomb_is_too_large_and_never_inflated_past_the_cap(hostile, probe, encoding):
    assert len(bomb(encoding)) < 300_000  # ~200 KB on the wire, 200 MB inflated
    result, peak = await traced(probe(hostile.url(f"{encoding}-bomb"), **FRESH))
    assert (result.ok, result.error_class) == (False, ErrorClass.TOO_LARGE)
    assert result.error.startswith("the body is larger than max_body (1 MiB)")
    assert_clean(result.error)
    assert peak < MEMORY_BOUND < BOMB_SIZE


async def test_a_bomb_on_a_port_that_does_not_need_the_body_is_read_to_the_cap_and_available(hostile, probe):
    result, peak = await traced(probe(hostile.url("gzip-bomb")))
    assert result.ok and result.details == {"status": 200, "body_truncated": True}
    assert peak < MEMORY_BOUND


async def test_an_endless_body_is_read_only_up_to_max_body(hostile, probe):
    result, peak = await traced(probe(hostile.url("endless"), max_body="256KiB", **FRESH))
    assert (result.error_class, result.error) == (
        ErrorClass.TOO_LARGE, "the body is larger than max_body (256 KiB): the JSON freshness field is not "
                              "read from part of a body")
    assert peak < MEMORY_BOUND
    # what the server got written before the client closed: the cap plus the sockets' buffers,
    # not the gigabytes an endless body reaches when read to the end
    assert hostile.sent["endless"] < 64 * MB


async def test_a_body_within_max_body_is_read_whole_and_its_field_found(hostile, probe):
    result = await probe(hostile.url("big-json"), max_body="8MiB", **FRESH).measure()
    assert result.ok and result.newest_data_at is not None
    result = await probe(hostile.url("big-json"), **FRESH).measure()  # 4 MB over the default 1 MiB
    assert result.error_class is ErrorClass.TOO_LARGE


async def test_an_answer_over_the_cap_does_not_keep_its_connection_alive(hostile, probe):
    healthy = probe(hostile.url("ok"))
    assert (await healthy.measure()).ok and (await healthy.measure()).ok
    assert hostile.connections == 1  # kept alive
    large = probe(hostile.url("big-json"), max_body=4096)
    first, second = await large.measure(), await large.measure()
    assert first.ok and second.ok and first.details["body_truncated"]
    assert hostile.connections == 3  # one new connection for each over-cap answer


async def test_junk_bytes_instead_of_http_are_a_protocol_failure_named_in_words(hostile, probe):
    result = await probe(hostile.url("junk")).measure()
    assert (result.ok, result.error_class) == (False, ErrorClass.PROTOCOL)
    assert result.error.startswith("the answer is not HTTP: no valid status line")
    assert "SSH-2.0-OpenSSH_9.6" in result.error  # a short printable excerpt, to recognise the peer
    assert_clean(result.error)


async def test_a_bad_status_line_is_a_protocol_failure(hostile, probe):
    result = await probe(hostile.url("bad-status")).measure()
    assert result.error_class is ErrorClass.PROTOCOL
    assert "no valid status line" in result.error
    assert_clean(result.error)


async def test_a_body_shorter_than_its_content_length_is_a_protocol_failure(hostile, probe):
    for options in ({}, FRESH):
        result = await probe(hostile.url("lying-length"), **options).measure()
        assert (result.error_class, result.error) == (
            ErrorClass.PROTOCOL, "the body is shorter than its Content-Length header says")


@pytest.mark.parametrize(("behaviour", "message"), [
    ("huge-header", "a line of the answer's head is longer than 8,190 bytes"),
    ("many-headers", "the answer has more than 128 header fields"),
])
async def test_a_head_over_the_bounds_is_too_large(hostile, probe, behaviour, message):
    result = await probe(hostile.url(behaviour)).measure()
    assert (result.error_class, result.error) == (ErrorClass.TOO_LARGE, message)


async def test_an_endless_slow_body_is_a_timeout(hostile, probe):
    result = await probe(hostile.url("slow-body"), timeout=timedelta(seconds=0.3), **FRESH).measure()
    assert (result.error_class, result.error) == (ErrorClass.TIMEOUT, "no answer within 0.3s")


@pytest.mark.parametrize(("behaviour", "error_class", "message"), [
    ("bad-chunked", ErrorClass.PROTOCOL, "the body's chunked transfer encoding is malformed"),
    ("bad-gzip", ErrorClass.PROTOCOL, "the body is not valid for its Content-Encoding (bad compression)"),
    ("cut-head", ErrorClass.PROTOCOL, "the server closed the connection in the middle of its answer"),
    ("hang-up", ErrorClass.REFUSED, "the server closed the connection without answering"),
])
async def test_broken_encodings_and_cut_answers_are_classed_in_words(hostile, probe, behaviour, error_class,
                                                                     message):
    result = await probe(hostile.url(behaviour), **FRESH).measure()
    assert result.error_class is error_class
    assert result.error.startswith(message)
    assert_clean(result.error)


async def test_a_body_that_is_not_json_is_described_without_its_bytes(hostile, probe):
    result = await probe(hostile.url("junk-json"), **FRESH).measure()
    assert result.error_class is ErrorClass.BAD_PAYLOAD
    assert result.error == "the body is not JSON (it starts with '[2Joops not json')"  # \x1b dropped


async def test_a_healthy_port_beside_every_hostile_one_is_still_available(hostile, probe):
    garbage = ["gzip-bomb", "deflate-bomb", "junk", "bad-status", "lying-length", "huge-header",
               "many-headers", "endless", "bad-chunked", "bad-gzip", "cut-head", "slow-body"]
    probes = [probe(hostile.url(name), timeout=timedelta(seconds=1), **FRESH) for name in garbage]
    healthy = probe(hostile.url("ok"), **FRESH)
    results = await asyncio.gather(*(each.measure() for each in [*probes, healthy]))
    *failed, fine = results
    assert fine.ok and fine.newest_data_at is not None
    assert all(not result.ok for result in failed)
    assert {result.error_class for result in failed} == {
        ErrorClass.TOO_LARGE, ErrorClass.PROTOCOL, ErrorClass.TIMEOUT}
    for result in failed:
        assert_clean(result.error)


@pytest.mark.parametrize(("value", "size"), [
    (4096, 4096), ("4096", 4096), ("512KiB", 512 * 1024), ("1MiB", MAX_BODY), ("2MB", 2_000_000),
    ("1.5 KiB", 1536), ("10kB", 10_000), ("1GiB", 1024**3),
])
def test_max_body_is_bytes_or_a_size_with_a_unit(value, size):
    assert HttpOptions(url="http://x/", max_body=value).max_body == size


def test_max_body_defaults_to_one_mebibyte():
    assert HttpOptions(url="http://x/").max_body == MAX_BODY == 1024 * 1024


@pytest.mark.parametrize("value", [0, -1, "lots", "1 TB", "2GiB", 1.5, True, "MiB"])
def test_a_max_body_that_is_not_a_usable_size_is_refused_at_load(value):
    with pytest.raises(ValueError) as raised:
        HttpOptions.model_validate({"url": "http://x/", "max_body": value})
    assert raised.value.errors()[0]["loc"][0] == "max_body"
