"""The HTTP probe against a real aiohttp server on loopback (plain and TLS) and a silent socket."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from monitor.contracts.model import Port
from monitor.contracts.results import ErrorClass
from monitor.probes import probe_class
from monitor.probes.http import HttpOptions, HttpProbe

TIMEOUT = timedelta(seconds=0.5)
GENERATED = datetime(2026, 11, 2, 11, 58, 30, tzinfo=UTC)
MODIFIED = datetime(2026, 11, 2, 11, 30, tzinfo=UTC)


@dataclass
class Servers:
    http: str
    https: str
    silent: str  # accepts connections, never answers
    peers: list[tuple[str, int]] = field(default_factory=list)  # client address of each request


def answer(**response):
    async def handler(_request: web.Request) -> web.Response:
        return web.Response(**response)
    return handler


def routes(peers: list) -> web.Application:
    async def fresh(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername"))
        return web.json_response({"generated_at": GENERATED.isoformat()})

    async def nested(_request):
        return web.json_response({"data": {"batches": [{"loaded": GENERATED.timestamp()}]}})

    async def slow(_request):
        await asyncio.sleep(30)  # cancelled when the server shuts down
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/orders/latest", fresh)
    app.router.add_get("/nested", nested)
    app.router.add_get("/slow", slow)
    app.router.add_get("/modified", answer(text="ok", headers={
        "Last-Modified": format_datetime(MODIFIED, usegmt=True)}))
    app.router.add_get("/broken", answer(status=500, text="boom"))
    app.router.add_get("/private", answer(status=401))
    app.router.add_get("/teapot", answer(status=418))
    app.router.add_get("/garbage", answer(text="<html>not json</html>"))
    app.router.add_get("/rows", answer(text='{"rows": 3}', content_type="application/json"))
    return app


def self_signed_context(directory) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256()))
    (directory / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return context


@pytest.fixture
async def servers(tmp_path):
    peers: list = []
    runner = web.AppRunner(routes(peers), shutdown_timeout=0.1)
    await runner.setup()
    plain = web.TCPSite(runner, "127.0.0.1", 0)
    secure = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=self_signed_context(tmp_path))
    await plain.start()  # listening once start() returns: nothing to wait for
    await secure.start()
    silent = await asyncio.start_server(lambda _reader, _writer: None, "127.0.0.1", 0)
    (_, http_port), (_, https_port) = runner.addresses
    silent_port = silent.sockets[0].getsockname()[1]
    yield Servers(f"http://127.0.0.1:{http_port}", f"https://127.0.0.1:{https_port}",
                  f"http://127.0.0.1:{silent_port}", peers)
    silent.close()
    await runner.cleanup()


@pytest.fixture
async def probe(clock):
    made: list[HttpProbe] = []

    def make(url: str, **options) -> HttpProbe:
        port = Port("api", "http", interval=timedelta(minutes=1), timeout=TIMEOUT, options={})
        made.append(HttpProbe("checkout/orders", port, HttpOptions(url=url, **options), clock))
        return made[-1]

    yield make
    for each in made:
        await each.close()


async def test_a_json_api_is_available_and_says_when_its_data_was_generated(servers, probe, clock):
    result = await probe(servers.http + "/orders/latest", freshness={"json_path": "generated_at"}).measure()
    assert (result.ok, result.error_class, result.error) == (True, None, None)
    assert result.newest_data_at == GENERATED
    assert result.started_at == clock.now
    assert (result.product, result.port, result.kind) == ("checkout/orders", "api", "http")
    assert timedelta(0) < result.latency < TIMEOUT
    assert result.details == {"status": 200}


async def test_a_nested_field_holding_epoch_seconds_is_read_as_utc(servers, probe):
    result = await probe(servers.http + "/nested", freshness={"json_path": "data.batches.0.loaded"}).measure()
    assert result.ok and result.newest_data_at == GENERATED


async def test_the_last_modified_header_says_when_the_data_changed(servers, probe):
    result = await probe(servers.http + "/modified", freshness={"header": "Last-Modified"}).measure()
    assert result.ok and result.newest_data_at == MODIFIED


async def test_rounds_reuse_one_kept_alive_connection(servers, probe):
    api = probe(servers.http + "/orders/latest")
    results = [await api.measure() for _ in range(3)]
    assert all(result.ok for result in results)
    assert len(servers.peers) == 3 and len(set(servers.peers)) == 1


async def test_an_answer_slower_than_the_timeout_is_a_timeout(servers, probe):
    result = await probe(servers.http + "/slow").measure()
    assert (result.ok, result.error_class) == (False, ErrorClass.TIMEOUT)
    assert result.error == "no answer within 0.5s"


async def test_a_server_that_accepts_but_never_answers_is_a_timeout(servers, probe):
    result = await probe(servers.silent + "/orders/latest").measure()
    assert (result.ok, result.error_class) == (False, ErrorClass.TIMEOUT)


async def test_a_server_error_is_an_http_status_failure_that_names_the_status(servers, probe):
    result = await probe(servers.http + "/broken").measure()
    assert (result.ok, result.error_class) == (False, ErrorClass.HTTP_STATUS)
    assert result.error == "HTTP 500 Internal Server Error (expected 2xx)"
    assert result.latency is not None


async def test_an_unauthorized_answer_is_an_auth_failure(servers, probe):
    result = await probe(servers.http + "/private").measure()
    assert (result.error_class, result.error) == (ErrorClass.AUTH, "HTTP 401 Unauthorized (expected 2xx)")


async def test_a_status_listed_as_expected_is_available_and_others_are_not(servers, probe):
    assert (await probe(servers.http + "/teapot", expected_status=[418]).measure()).ok
    result = await probe(servers.http + "/orders/latest", expected_status=[204]).measure()
    assert (result.error_class, result.error) == (ErrorClass.HTTP_STATUS, "HTTP 200 OK (expected 204)")


async def test_a_body_that_is_not_json_is_a_bad_payload_when_freshness_is_read_from_it(servers, probe):
    result = await probe(servers.http + "/garbage", freshness={"json_path": "generated_at"}).measure()
    assert (result.ok, result.error_class) == (False, ErrorClass.BAD_PAYLOAD)
    assert "not JSON" in result.error
    assert (await probe(servers.http + "/garbage").measure()).ok  # no freshness: only the status counts


@pytest.mark.parametrize(("path", "freshness", "message"), [
    ("/rows", {"json_path": "generated_at"}, "no field generated_at in the JSON body"),
    ("/rows", {"json_path": "rows.0"}, "no field rows.0 in the JSON body"),
    ("/modified", {"header": "X-Generated-At"}, "no X-Generated-At header in the answer"),
    ("/nested", {"json_path": "data.batches"}, "field data.batches: not a timestamp: [{'loaded': 1"),
])
async def test_a_missing_or_unreadable_timestamp_is_a_bad_payload(servers, probe, path, freshness, message):
    result = await probe(servers.http + path, freshness=freshness).measure()
    assert result.error_class == ErrorClass.BAD_PAYLOAD
    assert result.error.startswith(message)


async def test_a_port_with_nothing_listening_is_refused(servers, probe):
    unused = servers.silent.rsplit(":", 1)[0] + ":1"
    result = await probe(unused + "/orders/latest").measure()
    assert (result.error_class, result.error) == (ErrorClass.REFUSED,
                                                  "cannot connect to 127.0.0.1:1: connection refused")


async def test_a_host_name_that_does_not_resolve_is_a_dns_failure(probe):
    result = await probe("http://nonexistent.invalid/orders/latest").measure()
    assert result.error_class == ErrorClass.DNS
    assert result.error.startswith("cannot resolve host nonexistent.invalid")


async def test_a_self_signed_certificate_is_a_tls_failure_when_verified(servers, probe):
    result = await probe(servers.https + "/orders/latest").measure()
    assert (result.ok, result.error_class) == (False, ErrorClass.TLS)
    assert "self-signed certificate" in result.error


async def test_a_self_signed_certificate_is_accepted_when_verification_is_off(servers, probe):
    result = await probe(servers.https + "/orders/latest", verify_tls=False,
                         freshness={"json_path": "generated_at"}).measure()
    assert result.ok and result.newest_data_at == GENERATED


async def test_measure_never_raises_even_when_check_hits_an_unexpected_error(clock):
    class BrokenProbe(HttpProbe):
        async def check(self):
            raise KeyError("a bug in the probe")

    broken = BrokenProbe("checkout/orders", Port("api", "http", timeout=TIMEOUT),
                         HttpOptions(url="http://127.0.0.1:1/"), clock)
    result = await broken.measure()
    assert (result.ok, result.error_class) == (False, ErrorClass.INTERNAL)
    assert result.error == "KeyError: 'a bug in the probe'"
    assert result.started_at == clock.now


def test_the_registry_finds_the_http_probe_by_its_kind():
    assert probe_class("http") is HttpProbe


@pytest.mark.parametrize(("options", "field_name"), [
    ({"url": "ftp://example.org/"}, "url"),
    ({"url": "http://x/", "expected_status": [700]}, "expected_status"),
    ({"url": "http://x/", "method": "FETCH"}, "method"),
    ({"url": "http://x/", "freshness": {"json_path": "a", "header": "b"}}, "freshness"),
    ({"url": "http://x/", "verify_ssl": False}, "verify_ssl"),
])
def test_options_a_user_got_wrong_are_refused_at_load(options, field_name):
    with pytest.raises(ValueError) as raised:
        HttpOptions.model_validate(options)
    assert raised.value.errors()[0]["loc"][0] == field_name


def test_options_accept_placeholders_a_single_status_and_a_lowercase_method():
    options = HttpOptions.model_validate({"url": "${ORDERS_API}", "expected_status": 204, "method": "head"})
    assert (options.url, options.expected_status, options.method) == ("${ORDERS_API}", [204], "HEAD")
