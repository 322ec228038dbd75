"""An azure_monitor_metrics port's settings: presets make the usual ports one line, and what
cannot be measured is refused with a message that says what to write — at the contract's line."""

from __future__ import annotations

import textwrap
from datetime import timedelta

import pytest
from pydantic import ValidationError

from monitor.config.loading import KINDS
from monitor.contracts import load_contracts
from monitor.probes.azure_monitor_metrics import AzureMonitorMetricsProbe, Measure, resource_namespace

Options = AzureMonitorMetricsProbe.Options
GROUP = "/subscriptions/6f1c0f3e-0000-4000-8000-00000000cafe/resourceGroups/cart"
EVENT_HUBS = f"{GROUP}/providers/Microsoft.EventHub/namespaces/contoso-cart"
STORAGE = f"{GROUP}/providers/Microsoft.Storage/storageAccounts/contosocart"
WHERE = {"region": "westeurope"}


def refusal(**settings) -> str:
    with pytest.raises(ValidationError) as caught:
        Options(**settings)
    return "; ".join(error["msg"].removeprefix("Value error, ") for error in caught.value.errors())


def test_a_preset_fills_the_measure_and_metrics_of_an_event_hub_freshness_port():
    options = Options(resource_id=EVENT_HUBS, preset="event_hub_freshness", **WHERE)

    assert options.measure is Measure.FRESHNESS
    assert options.metrics == ["IncomingMessages"]
    assert options.grain == timedelta(minutes=1) and options.lookback is None


def test_the_error_rate_presets_name_their_total_and_failed_metrics():
    hub = Options(resource_id=EVENT_HUBS, preset="event_hub_errors", **WHERE)
    factory = Options(resource_id=f"{GROUP}/providers/Microsoft.DataFactory/factories/adf",
                      preset="data_factory_failed_runs", **WHERE)

    assert (hub.total_metric, hub.failed_metrics) == ("IncomingRequests", ["ServerErrors", "UserErrors"])
    assert (factory.succeeded_metrics, factory.failed_metrics) == (["PipelineSucceededRuns"],
                                                                    ["PipelineFailedRuns"])


def test_a_port_may_name_its_measure_and_metrics_itself():
    options = Options(resource_id=STORAGE, measure="error_rate", total_metric="Transactions",
                      failed_metrics=["ServerErrors"], aggregation="total", lookback="10m", grain="5m",
                      endpoint="https://westeurope.metrics.monitor.azure.com")

    assert options.metrics == ["Transactions", "ServerErrors"]
    assert (options.lookback, options.grain) == (timedelta(minutes=10), timedelta(minutes=5))


@pytest.mark.parametrize("settings, message", [
    ({"preset": "eventhub"}, "unknown preset 'eventhub' (presets: event_hub_freshness, event_hub_errors, "
                             "storage_availability, storage_latency, data_factory_failed_runs)"),
    ({"preset": "event_hub_freshness", "metric": "IncomingBytes"},
     "preset event_hub_freshness sets metric: leave it out, or the preset"),
    ({}, "give measure (freshness, error_rate, latency, availability) or a preset"),
    ({"measure": "freshness"}, "freshness reads one metric: give metric (e.g. IncomingMessages)"),
    ({"measure": "error_rate", "failed_metrics": ["ServerErrors"]},
     "error_rate needs exactly one of total_metric (all requests) or succeeded_metrics"),
    ({"measure": "error_rate", "total_metric": "IncomingRequests"}, "error_rate needs failed_metrics"),
    ({"measure": "latency", "metric": "SuccessE2ELatency", "failed_metrics": ["x"]},
     "latency reads metric only"),
    ({"preset": "storage_availability", "resource_id": STORAGE},
     "availability needs min_availability: the lowest value (percent) counted as available"),
    ({"preset": "storage_latency"},
     "preset storage_latency reads a Microsoft.Storage/storageAccounts resource; resource_id is a "
     "Microsoft.EventHub/namespaces"),
    ({"preset": "event_hub_freshness", "grain": "2m"}, "grain 2m is not one Azure Monitor keeps"),
    ({"preset": "event_hub_freshness", "lookback": "30s"}, "lookback 30s is shorter than one grain"),
    ({"preset": "event_hub_freshness", "resource_id": "contoso-cart"},
     "resource_id is not an Azure resource id"),
    ({"preset": "event_hub_freshness", "client_secret": "x"},
     "a client secret needs all three of tenant_id, client_id and client_secret"),
    ({"preset": "event_hub_freshness", "aggregation": "sum"}, "Input should be 'total', 'count'"),
    ({"preset": "event_hub_freshness", "region": None}, "give region (e.g. westeurope) or endpoint"),
    ({"preset": "event_hub_freshness", "endpoint": "https://x.example"}, "not both"),
])
def test_settings_that_cannot_be_measured_are_refused_saying_what_to_write(settings, message):
    assert message in refusal(**{"resource_id": EVENT_HUBS, **WHERE, **settings})


def test_a_resource_id_still_written_as_a_placeholder_is_checked_once_resolved():
    options = Options(resource_id="${CART_EVENT_HUB_ID}", preset="storage_latency", **WHERE)

    assert options.metrics == ["SuccessE2ELatency"]


@pytest.mark.parametrize("resource_id, namespace", [
    (EVENT_HUBS, "Microsoft.EventHub/namespaces"),
    (f"{STORAGE}/blobServices/default", "Microsoft.Storage/storageAccounts/blobServices"),
    (f"{GROUP}/providers/Microsoft.DataFactory/factories/adf/", "Microsoft.DataFactory/factories"),
    ("/subscriptions/x/providers/Microsoft.EventHub", None),
])
def test_the_metric_namespace_is_the_type_of_the_resource(resource_id, namespace):
    assert resource_namespace(resource_id) == namespace


def test_a_bad_metrics_port_is_reported_at_its_line_in_the_contract(tmp_path):
    path = tmp_path / "cart.yaml"
    path.write_text(textwrap.dedent(f"""\
        apiVersion: meshwatch/v1
        kind: DataProduct
        metadata: {{domain: cart, name: events}}
        owner: {{team: cart}}
        ports:
          - name: hub
            type: azure_monitor_metrics
            resource_id: {EVENT_HUBS}
            region: westeurope
            preset: event_hub_freshness
            metric: IncomingBytes
        objectives:
          - {{name: hub-freshness, port: hub, indicator: freshness, threshold: 15m, target: 99%}}
        """), encoding="utf-8")

    registry = load_contracts([path], KINDS)

    assert [str(problem) for problem in registry.problems] == [
        f"{path}:6: ports[0]: preset event_hub_freshness sets metric: leave it out, or the preset"]
