"""The telemetry part of `meshwatch.yaml`: where the daemon's OpenTelemetry metrics go."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from monitor.contracts.spec import Duration
from monitor.slo import AlertPolicy
from monitor.values.addresses import HostPort, split_host_port


class AzureMonitorExporter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["azure_monitor"]
    connection_string: SecretStr = Field(description="Application Insights connection string, "
                                                     "e.g. ${APPLICATIONINSIGHTS_CONNECTION_STRING}")


class OtlpExporter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["otlp"]
    endpoint: str = Field("http://127.0.0.1:4318", description="OTLP/HTTP (protobuf) receiver; a "
                                                               "URL without a path gets /v1/metrics")
    headers: dict[str, SecretStr] = Field({}, description="e.g. an API key; ${ENV} resolves")
    timeout: Duration = timedelta(seconds=10)

    @field_validator("endpoint")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://", "${")):
            raise ValueError(f"{value!r} is not an http(s) URL (e.g. http://127.0.0.1:4318)")
        return value


class PrometheusExporter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["prometheus"]
    listen: HostPort = Field("127.0.0.1:9464", description="host:port of the /metrics scrape endpoint")

    @property
    def host_port(self) -> tuple[str, int]:
        return split_host_port(self.listen)


Exporter = Annotated[AzureMonitorExporter | OtlpExporter | PrometheusExporter,
                     Field(discriminator="type")]


class TelemetrySettings(BaseModel):
    """Where the daemon's OpenTelemetry metrics go; no exporter: nothing leaves the machine."""

    model_config = ConfigDict(extra="forbid")
    exporters: list[Exporter] = []
    export_interval: Duration = Field(timedelta(seconds=30),
                                      description="how often metrics are pushed (azure_monitor, otlp)")
    service_name: str = Field("meshwatch", min_length=1, description="the service.name resource")

    @field_validator("export_interval")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("export_interval must be at least 1s")
        return value


class PolicySettings(Protocol):
    def policy(self) -> AlertPolicy: ...


class TelemetryConfig(Protocol):
    """What telemetry reads of the settings; `monitor.config.settings.Settings` is one."""

    @property
    def telemetry(self) -> TelemetrySettings: ...

    @property
    def slo(self) -> PolicySettings: ...
