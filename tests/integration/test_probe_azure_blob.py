"""The azure_blob probe through the real azure-storage-blob async client, against Azurite."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest
from azure.storage.blob import (
    ContainerClient,
    ContainerSasPermissions,
    generate_container_sas,
)
from pydantic import ValidationError

from monitor.contracts.model import Port
from monitor.contracts.results import ErrorClass, ProbeResult
from monitor.demo.azurite import ACCOUNT, ACCOUNT_KEY, connection_string
from monitor.probes import probe_class
from monitor.probes.azure import scrub
from monitor.probes.azure_blob import AzureBlobProbe
from tests.support.azurite import new_container, start_azurite_blob  # noqa: F401 - the `azurite_blob` fixture
from tests.support.credentials import FakeTokenCredential
from tests.support.ports import free_port

WRONG_KEY = "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3Jvbmc="


def measure(timeout: float = 5, credential=None, **options) -> ProbeResult:
    port = Port("lake", "azure_blob", interval=timedelta(minutes=5), timeout=timedelta(seconds=timeout))
    probe = AzureBlobProbe("checkout/orders", port, AzureBlobProbe.Options(**options),
                           credential=credential)

    async def once() -> ProbeResult:
        try:
            return await probe.measure()
        finally:
            await probe.close()

    return asyncio.run(once())


@pytest.fixture
def container(azurite_blob) -> Iterator[ContainerClient]:
    yield from new_container(azurite_blob, "orders")


def _upload(container: ContainerClient, name: str, content: bytes) -> datetime:
    container.upload_blob(name, content)
    return datetime.now(UTC)


def _next_second_after(moment: datetime) -> None:
    """Blob listings carry last_modified in whole seconds: wait until Azurite's clock passes one."""
    boundary = moment.replace(microsecond=0) + timedelta(seconds=1)
    while datetime.now(UTC) < boundary:
        time.sleep(0.02)


def test_the_registry_finds_the_azure_blob_kind():
    assert probe_class("azure_blob") is AzureBlobProbe


def test_the_newest_blob_under_the_prefix_gives_freshness_name_and_size(azurite_blob, container):
    first_done = _upload(container, "orders/2026-11-02.jsonl", b"x" * 100)
    _next_second_after(first_done)
    before = datetime.now(UTC)
    last_done = _upload(container, "orders/a-late-correction.jsonl", b"1234567")
    _upload(container, "returns/zzz.jsonl", b"outside the prefix")

    result = measure(connection_string=azurite_blob, container=container.container_name,
                     prefix="orders/")

    assert result.ok and result.error is None
    assert result.details == {"blob_count": 2, "truncated": False,
                              "newest_blob": "orders/a-late-correction.jsonl", "newest_size": 7}
    # last_modified is whole seconds, so it lies in the second in which the upload happened
    assert before - timedelta(seconds=1) < result.newest_data_at <= last_done
    assert result.newest_data_at.tzinfo is not None
    assert result.latency is not None and result.latency > timedelta(0)


def test_one_probe_measures_round_after_round_and_sees_new_blobs(azurite_blob, container):
    port = Port("lake", "azure_blob", timeout=timedelta(seconds=5))
    probe = AzureBlobProbe("checkout/orders", port, AzureBlobProbe.Options(
        connection_string=azurite_blob, container=container.container_name))

    async def rounds() -> list[ProbeResult]:
        try:
            first = await probe.measure()
            _upload(container, "orders/2.jsonl", b"{}")
            return [first, await probe.measure()]
        finally:
            await probe.close()

    _upload(container, "orders/1.jsonl", b"{}")
    first, second = asyncio.run(rounds())

    assert (first.details["blob_count"], second.details["blob_count"]) == (1, 2)


def test_listing_stops_at_max_blobs_and_says_so(azurite_blob, container):
    for name in ("orders/1.jsonl", "orders/2.jsonl", "orders/3.jsonl"):
        _upload(container, name, b"{}")

    stopped = measure(connection_string=azurite_blob, container=container.container_name, max_blobs=2)
    complete = measure(connection_string=azurite_blob, container=container.container_name, max_blobs=3)

    assert stopped.ok and stopped.details["blob_count"] == 2 and stopped.details["truncated"] is True
    assert complete.details["blob_count"] == 3 and complete.details["truncated"] is False


def test_a_prefix_without_blobs_is_available_but_has_no_newest_data(azurite_blob, container):
    _upload(container, "orders/1.jsonl", b"{}")

    result = measure(connection_string=azurite_blob, container=container.container_name,
                     prefix="refunds/")

    assert result.ok
    assert result.newest_data_at is None
    assert result.details == {"blob_count": 0, "truncated": False, "newest_blob": None,
                              "newest_size": None}


def test_a_missing_container_is_a_query_error(azurite_blob):
    result = measure(connection_string=azurite_blob, container="no-such-container")

    assert not result.ok
    assert result.error_class is ErrorClass.QUERY_ERROR
    assert result.error == "container 'no-such-container' not found"


def test_a_wrong_account_key_is_an_auth_failure_that_never_shows_a_key(azurite_blob, container):
    port = int(azurite_blob.split("127.0.0.1:")[1].split("/")[0])
    wrong = connection_string(port, key=WRONG_KEY)

    result = measure(connection_string=wrong, container=container.container_name)

    assert result.error_class is ErrorClass.AUTH
    assert "403" in result.error
    assert WRONG_KEY not in result.error and WRONG_KEY[:20] not in result.error
    assert "AccountKey" not in result.error and wrong not in repr(result)


def test_a_key_that_is_not_base64_is_an_auth_failure_that_never_shows_it(azurite_blob):
    port = int(azurite_blob.split("127.0.0.1:")[1].split("/")[0])

    result = measure(connection_string=connection_string(port, key="not-base64-secret!"),
                     container="orders")

    assert result.error_class is ErrorClass.AUTH
    assert "not-base64-secret" not in repr(result)


def test_a_port_where_nothing_listens_is_refused():
    port = free_port()

    result = measure(connection_string=connection_string(port), container="orders")

    assert result.error_class is ErrorClass.REFUSED
    assert result.error == f"connection refused by 127.0.0.1:{port}"


def test_a_server_that_never_answers_times_out_within_the_port_timeout():
    # the kernel completes the handshake for a listening socket: connected, but never answered
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        began = time.monotonic()

        result = measure(timeout=0.3, connection_string=connection_string(silent.getsockname()[1]),
                         container="orders")

    assert result.error_class is ErrorClass.TIMEOUT
    assert result.error == "no answer within 0.3s"
    assert time.monotonic() - began < 3


def test_a_host_that_does_not_resolve_is_a_dns_failure():
    host = "no-such-account.invalid"
    try:
        socket.getaddrinfo(host, 443)
    except socket.gaierror:
        pass
    else:
        pytest.skip(f"this machine's resolver answers for {host}")

    result = measure(connection_string=connection_string(10000, host=host), container="orders")

    assert result.error_class is ErrorClass.DNS
    assert host in result.error


def test_a_malformed_connection_string_is_a_config_error_that_never_shows_it():
    result = measure(connection_string="AccountKey=c2VjcmV0;nonsense", container="orders")

    assert result.error_class is ErrorClass.CONFIG
    assert "c2VjcmV0" not in repr(result)


def _sas_url(container: ContainerClient, key: str = ACCOUNT_KEY) -> str:
    token = generate_container_sas(ACCOUNT, container.container_name, account_key=key,
                                   permission=ContainerSasPermissions(list=True),
                                   expiry=datetime.now(UTC) + timedelta(hours=1))
    return f"{container.primary_endpoint.rsplit('/', 1)[0]}?{token}"


def test_an_account_url_with_a_sas_token_lists_without_any_other_credential(container):
    _upload(container, "orders/1.jsonl", b"{}")

    result = measure(account_url=_sas_url(container), container=container.container_name)

    assert result.ok and result.details["blob_count"] == 1


def test_a_sas_token_signed_with_the_wrong_key_is_an_auth_failure_that_never_shows_it(container):
    url = _sas_url(container, key=WRONG_KEY)
    signature = url.split("sig=")[1].split("&")[0]

    result = measure(account_url=url, container=container.container_name)

    assert result.error_class is ErrorClass.AUTH
    assert signature not in repr(result) and unquote(signature) not in repr(result)


def test_a_token_credential_is_never_sent_over_plain_http():
    credential = FakeTokenCredential()

    result = measure(account_url=f"http://127.0.0.1:{free_port()}/devstoreaccount1", container="orders",
                     credential=credential)

    assert result.error_class is ErrorClass.CONFIG
    assert "HTTPS" in result.error
    assert credential.scopes == []
    assert not credential.closed  # a credential passed in belongs to the caller


@pytest.mark.parametrize("options", [
    {"container": "orders"},
    {"container": "orders", "connection_string": "UseDevelopmentStorage=true",
     "account_url": "https://example.blob.core.windows.net"},
    {"container": "orders", "connection_string": "UseDevelopmentStorage=true", "max_blobs": 0},
    {"container": "orders", "connection_string": "UseDevelopmentStorage=true", "unknown": 1},
])
def test_options_need_exactly_one_way_in_and_nothing_unknown(options):
    with pytest.raises(ValidationError):
        AzureBlobProbe.Options(**options)


def test_options_have_listing_defaults():
    options = AzureBlobProbe.Options(container="orders", account_url="https://a.blob.core.windows.net")

    assert (options.prefix, options.max_blobs, options.connection_string) == ("", 5000, None)


def test_messages_from_azure_are_scrubbed_of_keys_signatures_and_tokens():
    secret_string = connection_string(10000, key=WRONG_KEY)
    echoed = (f"failed for {secret_string} at https://a.blob.core.windows.net/c?sv=2024&sig=abc%2Bdef&se=1 "
              f"with Authorization: SharedKey devstoreaccount1:c2lnbmF0dXJl and Bearer eyJ0eXAi.eyJ.sig")

    clean = scrub(echoed, [secret_string])

    for secret in (WRONG_KEY, "abc%2Bdef", "c2lnbmF0dXJl", "eyJ0eXAi"):
        assert secret not in clean
    assert "https://a.blob.core.windows.net/c?sv=2024&sig=***&se=1" in clean
