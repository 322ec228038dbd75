"""The real exporters against real local receivers: Azure Monitor's ingestion API (`POST
/v2.1/track`) and an OTLP/HTTP collector (`POST /v1/metrics`), each the demo's webhook receiver
answering as that service does, and a Prometheus scrape. Nothing leaves the machine: every host
name looked up during a test must be a loopback one."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import os
import socket
import urllib.request

import pytest
from aiohttp import web
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from prometheus_client.parser import text_string_to_metric_families

from monitor.config.settings import Settings
from monitor.demo.webhooks import Received, WebhookReceiver
from monitor.store.events import Event
from monitor.telemetry.exporters import AZURE_PHONE_HOME_OFF, otlp_endpoint
from monitor.telemetry.provider import start_telemetry
from tests.support.ports import free_port
from tests.support.telemetry import AT, at_risk_report, probe_results

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
SLO_EVENTS = [Event("checkout/orders", "api-availability", AT, 2, 4),
              Event("checkout/orders", "api-availability", AT, 1, 1)]
CONNECTION_STRING = ("InstrumentationKey=00000000-0000-0000-0000-000000000000;"
                     "IngestionEndpoint=http://127.0.0.1:{port}/")


@pytest.fixture
def looked_up(monkeypatch) -> list[str]:
    """Host names resolved during the test; anything but loopback is refused, not resolved."""
    hosts: list[str] = []
    resolve = socket.getaddrinfo

    def loopback_only(host, *args, **kwargs):
        hosts.append(host if isinstance(host, str) else host.decode())
        if hosts[-1] not in LOOPBACK:
            raise socket.gaierror(f"the test refuses to look up {host}")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
    return hosts


@pytest.fixture
def phone_home_unset(monkeypatch):
    """The Azure variables as a user has them (unset), restored after the test."""
    for name in AZURE_PHONE_HOME_OFF:
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)


def _feed(telemetry) -> None:
    telemetry.after_evaluation([at_risk_report()], AT)
    for result in probe_results():
        telemetry.on_result(result)
    telemetry.on_events(SLO_EVENTS)  # as the write buffer tells them (test_telemetry_slo_events)


def _track_answer(received: Received) -> web.Response:
    count = len(_envelopes(received.body))
    return web.json_response({"itemsReceived": count, "itemsAccepted": count, "errors": []})


def _collector_answer(_received: Received) -> web.Response:
    return web.json_response({})


def _envelopes(body: bytes) -> list[dict]:
    text = (gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body).decode()
    text = text.strip()
    if text.startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


async def test_azure_monitor_receives_the_slo_and_probe_metrics_and_no_other_host_is_asked(
        monkeypatch, looked_up, phone_home_unset):
    receiver = await WebhookReceiver(answer=_track_answer).start()
    monkeypatch.setenv("MESHWATCH_TEST_AI", CONNECTION_STRING.format(port=receiver.port))
    settings = Settings(telemetry={"exporters": [
        {"type": "azure_monitor", "connection_string": "${MESHWATCH_TEST_AI}"}],
        "export_interval": "1h", "service_name": "meshwatch-azure-test"})
    telemetry = start_telemetry(settings)
    try:
        assert {name: os.environ.get(name) for name in AZURE_PHONE_HOME_OFF} == {
            name: "true" for name in AZURE_PHONE_HOME_OFF}
        _feed(telemetry)
        assert await asyncio.to_thread(telemetry.force_flush)
        flushed = list(receiver.requests)  # shutdown exports once more
    finally:
        await asyncio.to_thread(telemetry.shutdown)
        await receiver.stop()
    assert flushed
    # the connection string's endpoint ends in "/", as Azure's do: the exporter asks for //v2.1/track
    assert {r.path.lstrip("/") for r in receiver.requests} == {"v2.1/track"}
    metrics = {}
    for envelope in (e for r in flushed for e in _envelopes(r.body)):
        assert envelope["iKey"] == "00000000-0000-0000-0000-000000000000"
        data = envelope["data"]["baseData"]
        for point in data["metrics"]:
            metrics.setdefault(point["name"], []).append((point, data.get("properties", {})))
    [(compliance, properties)] = metrics["meshwatch.slo.compliance"]
    assert compliance["value"] == 0.995
    assert properties == {"product": "checkout/orders", "objective": "api-availability",
                          "indicator": "availability"}
    assert {p["slo.window"]: m["value"] for m, p in metrics["meshwatch.slo.burn_rate"]} == {
        "5m": 100.0, "1h": 50.0}
    assert {p["slo.condition"]: m["value"] for m, p in metrics["meshwatch.slo.condition"]}[
        "fast_burn"] == 1
    assert metrics["meshwatch.slo.error_budget.remaining"][0][0]["value"] == 0.5
    ok = [m for m, p in metrics["meshwatch.probe.duration"] if "error.type" not in p]
    assert [(m["count"], m["value"]) for m in ok] == [(2, pytest.approx(0.34))]
    assert sum(m["value"] for m, _ in metrics["meshwatch.probe.results"]) == 4
    assert {p["outcome"]: (m["value"], p["indicator"]) for m, p in metrics["meshwatch.slo.events"]} \
        == {"good": (3, "availability"), "bad": (2, "availability")}
    assert set(looked_up) <= LOOPBACK


async def test_otlp_http_delivers_protobuf_metrics_to_the_collector(looked_up):
    receiver = await WebhookReceiver(answer=_collector_answer).start()
    settings = Settings(telemetry={"exporters": [
        {"type": "otlp", "endpoint": f"http://127.0.0.1:{receiver.port}",
         "headers": {"x-api-key": "${MESHWATCH_TEST_OTLP_KEY:-k-123}"}}], "export_interval": "1h"})
    telemetry = start_telemetry(settings)
    try:
        _feed(telemetry)
        assert await asyncio.to_thread(telemetry.force_flush)
    finally:
        await asyncio.to_thread(telemetry.shutdown)
        await receiver.stop()
    [request] = receiver.requests[:1]
    assert request.headers["Content-Type"] == "application/x-protobuf"
    assert request.headers["x-api-key"] == "k-123"
    message = ExportMetricsServiceRequest.FromString(request.body)
    [resource] = message.resource_metrics
    resource_attributes = {a.key: a.value.string_value for a in resource.resource.attributes}
    assert resource_attributes["service.name"] == "meshwatch"
    found = {m.name: m for scope in resource.scope_metrics for m in scope.metrics}
    assert {"meshwatch.slo.compliance", "meshwatch.slo.burn_rate", "meshwatch.slo.status",
            "meshwatch.slo.condition", "meshwatch.probe.duration",
            "meshwatch.probe.results"} <= set(found)
    [compliance] = found["meshwatch.slo.compliance"].gauge.data_points
    assert compliance.as_double == 0.995
    events = found["meshwatch.slo.events"]
    assert (events.unit, events.sum.is_monotonic) == ("{event}", True)
    assert {next(a.value.string_value for a in p.attributes if a.key == "outcome"): p.as_int
            for p in events.sum.data_points} == {"good": 3, "bad": 2}
    assert found["meshwatch.probe.duration"].unit == "s"
    ok = [p for p in found["meshwatch.probe.duration"].histogram.data_points
          if not any(a.key == "error.type" for a in p.attributes)]
    assert [(p.count, p.sum) for p in ok] == [(2, pytest.approx(0.34))]
    assert set(looked_up) <= LOOPBACK


async def test_prometheus_serves_the_metrics_for_a_scrape(looked_up):
    port = free_port()
    settings = Settings(telemetry={"exporters": [
        {"type": "prometheus", "listen": f"127.0.0.1:{port}"}]})
    telemetry = start_telemetry(settings)
    try:
        _feed(telemetry)
        body = await asyncio.to_thread(_scrape, f"http://127.0.0.1:{port}/metrics")
    finally:
        await asyncio.to_thread(telemetry.shutdown)
    families = {f.name: f for f in text_string_to_metric_families(body)}
    compliance = families["meshwatch_slo_compliance"]
    assert compliance.type == "gauge"
    [sample] = compliance.samples
    assert sample.value == 0.995
    assert (sample.labels["product"], sample.labels["objective"]) == ("checkout/orders",
                                                                      "api-availability")
    statuses = {s.labels["slo_status"]: s.value for s in families["meshwatch_slo_status"].samples}
    assert statuses == {"ok": 0, "at_risk": 1, "breached": 0, "no_data": 0, "not_in_force": 0}
    burn = {s.labels["slo_window"]: s.value for s in families["meshwatch_slo_burn_rate"].samples}
    assert burn == {"5m": 100.0, "1h": 50.0}
    events = families["meshwatch_slo_events"]
    assert events.type == "counter"
    assert {(s.name, s.labels["product"], s.labels["objective"], s.labels["indicator"],
             s.labels["outcome"], s.value) for s in events.samples} == {
        ("meshwatch_slo_events_total", "checkout/orders", "api-availability", "availability",
         "good", 3.0),
        ("meshwatch_slo_events_total", "checkout/orders", "api-availability", "availability",
         "bad", 2.0)}
    results = families["meshwatch_probe_results"]
    assert results.type == "counter"
    assert sorted((s.labels["error_type"], s.value) for s in results.samples
                  if s.name.endswith("_total")) == [("", 2.0), ("http_status", 1.0),
                                                    ("timeout", 1.0)]
    duration = families["meshwatch_probe_duration_seconds"]
    assert duration.type == "histogram"
    count = next(s for s in duration.samples
                 if s.name.endswith("_count") and s.labels["error_type"] == "")
    assert count.value == 2
    assert set(looked_up) <= LOOPBACK


async def test_the_prometheus_endpoint_is_gone_after_shutdown():
    port = free_port()
    telemetry = start_telemetry(Settings(telemetry={"exporters": [
        {"type": "prometheus", "listen": f"127.0.0.1:{port}"}]}))
    await asyncio.to_thread(telemetry.shutdown)
    with pytest.raises(OSError):
        await asyncio.to_thread(_scrape, f"http://127.0.0.1:{port}/metrics")


async def test_an_unreachable_collector_is_one_warning_and_never_an_error_in_the_daemon(caplog):
    port = free_port()  # nothing listens there
    settings = Settings(telemetry={"exporters": [
        {"type": "otlp", "endpoint": f"http://127.0.0.1:{port}/v1/metrics", "timeout": "1s"}],
        "export_interval": "1h"})
    telemetry = start_telemetry(settings)
    try:
        with caplog.at_level(logging.WARNING):
            _feed(telemetry)
            for _ in range(3):  # three intervals' exports
                await asyncio.to_thread(telemetry.force_flush, 5000)
    finally:
        await asyncio.to_thread(telemetry.shutdown, 2000)
    assert [(r.name, r.getMessage()) for r in caplog.records] == [(
        "meshwatch.telemetry",
        f"telemetry: metrics not exported to otlp (http://127.0.0.1:{port}): Failed to export "
        "metrics batch due to timeout, max retries or shutdown. (retrying every interval)")]
    assert caplog.records[0].exc_info is None


async def test_a_collector_that_comes_back_is_noted_once(caplog):
    port = free_port()
    receiver = WebhookReceiver(port, answer=_collector_answer)
    settings = Settings(telemetry={"exporters": [
        {"type": "otlp", "endpoint": f"http://127.0.0.1:{port}", "timeout": "1s"}],
        "export_interval": "1h"})
    telemetry = start_telemetry(settings)
    try:
        with caplog.at_level(logging.INFO, logger="meshwatch.telemetry"):
            _feed(telemetry)
            await asyncio.to_thread(telemetry.force_flush, 5000)
            await receiver.start()
            await asyncio.to_thread(telemetry.force_flush, 5000)
            await asyncio.to_thread(telemetry.force_flush, 5000)
    finally:
        await asyncio.to_thread(telemetry.shutdown, 2000)
        await receiver.stop()
    ours = [r.getMessage() for r in caplog.records if r.name == "meshwatch.telemetry"]
    assert ours[1:] == [f"telemetry: exporting to otlp (http://127.0.0.1:{port}) again"]
    assert ours[0].startswith("telemetry: metrics not exported to otlp")
    assert len(receiver.requests) >= 2


def test_an_otlp_base_url_gets_the_metrics_path_and_a_full_one_is_kept():
    assert otlp_endpoint("http://collector:4318") == "http://collector:4318/v1/metrics"
    assert otlp_endpoint("http://collector:4318/") == "http://collector:4318/v1/metrics"
    assert otlp_endpoint("https://otel.example/custom/metrics") == \
        "https://otel.example/custom/metrics"


def _scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()
