"""Daemon settings: `meshwatch.yaml` in the config directory, overridden by MESHWATCH_* variables."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from monitor.contracts.loader import SETTINGS_FILE
from monitor.contracts.problems import Problem, problems_from_validation
from monitor.contracts.spec import Duration
from monitor.contracts.yamlsource import YamlDocument, YamlError, load_yaml
from monitor.slo import AlertPolicy
from monitor.store import DEFAULT_URL

CONFIG_ENV = "MESHWATCH_CONFIG"


def split_host_port(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host or "127.0.0.1", int(port)


def _host_port(value: str) -> str:
    _, _, port = value.rpartition(":")
    if not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"{value!r} is not host:port (e.g. 127.0.0.1:8470)")
    return value


HostPort = Annotated[str, AfterValidator(_host_port)]


class SloSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_events: int = Field(10, ge=1, description="events in a long window before a burn alert")
    no_data_intervals: int = Field(3, ge=1, description="missed probe intervals before no data")

    def policy(self) -> AlertPolicy:
        return AlertPolicy(min_events=self.min_events, no_data_intervals=self.no_data_intervals)


class DaemonSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    listen: HostPort = Field("127.0.0.1:8470", description="host:port of /healthz and /heartbeat")
    max_in_flight: int = Field(256, ge=1, description="probes running at the same time")
    evaluation_interval: Duration = Field(timedelta(seconds=30),
                                          description="how often objectives are evaluated")
    flush_interval: Duration = Field(timedelta(seconds=1),
                                     description="how often buffered measurements are written")
    reload_interval: Duration = Field(timedelta(seconds=5),
                                      description="how often contract files are checked for changes")
    probe_history: Duration = Field(timedelta(days=14),
                                    description="how long single probe results are kept")

    @property
    def host_port(self) -> tuple[str, int]:
        return split_host_port(self.listen)


class AlertingSettings(BaseModel):
    """Alert policy: when a condition fires, how often it is repeated, where people click."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    for_: Duration = Field(timedelta(0), alias="for",
                           description="how long a condition holds before it fires (0s: at once; "
                                       "the burn-rate rules already need two windows to agree)")
    keep_firing_for: Duration = Field(timedelta(minutes=10),
                                      description="how long an alert's conditions stay clear "
                                                  "before it resolves (one incident, not a flap)")
    repeat_interval: Duration = Field(timedelta(hours=4), description="reminders while a page fires")
    ticket_repeat_interval: Duration = Field(timedelta(days=1),
                                             description="reminders while a ticket fires")
    send_resolved: bool = Field(True, description="notify when an alert resolves")
    dashboard_url: str = Field("http://localhost:8501", description="base of links in messages")
    max_attempts: int = Field(6, ge=1, description="deliveries tried before a notification fails")
    retry_backoff: Duration = Field(timedelta(seconds=30),
                                    description="first retry delay, doubled per attempt (max 1h)")

    @model_validator(mode="after")
    def _positive(self) -> AlertingSettings:
        if self.for_ < timedelta(0) or self.keep_firing_for < timedelta(0):
            raise ValueError("for and keep_firing_for must not be negative")
        if min(self.repeat_interval, self.ticket_repeat_interval, self.retry_backoff) \
                <= timedelta(0):
            raise ValueError("repeat_interval, ticket_repeat_interval and retry_backoff must be "
                             "positive")
        return self


class SmtpSettings(BaseModel):
    """The mail server that `email` destinations go through. `${ENV}` values resolve at send."""

    model_config = ConfigDict(extra="forbid")
    host: str = "127.0.0.1"
    port: int = Field(25, ge=1, lt=65536)
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = False
    ca_file: str | None = Field(None, description="CA bundle that signs the server's certificate "
                                                  "(default: the system's)")
    from_address: str = "meshwatch@localhost"
    timeout: Duration = timedelta(seconds=10)


class WebhookChannel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["webhook"]
    url: str
    secret: SecretStr | None = Field(None, description="signs the body: X-Meshwatch-Signature")
    headers: dict[str, str] = {}
    timeout: Duration = timedelta(seconds=10)


class EmailChannel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["email"]
    to: list[str] = Field(min_length=1)


class AppriseChannel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["apprise"]
    url: str = Field(description="an apprise URL, e.g. slack://…, msteams://…, pagerduty://…")


class AlertmanagerChannel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["alertmanager"]
    url: str = Field(description="Alertmanager's base URL, e.g. http://127.0.0.1:9093")
    headers: dict[str, str] = {}
    timeout: Duration = timedelta(seconds=10)


Channel = Annotated[WebhookChannel | EmailChannel | AppriseChannel | AlertmanagerChannel,
                    Field(discriminator="type")]


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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MESHWATCH_", env_nested_delimiter="__",
                                      extra="forbid")
    database_url: str = DEFAULT_URL
    timezone: str = "UTC"
    slo: SloSettings = SloSettings()
    daemon: DaemonSettings = DaemonSettings()
    alerting: AlertingSettings = AlertingSettings()
    channels: dict[str, Channel] = {}
    smtp: SmtpSettings | None = None
    telemetry: TelemetrySettings = TelemetrySettings()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. UTC, Europe/Amsterdam)") from None
        return value

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, dotenv_settings,
                                   file_secret_settings):
        # environment variables win over the file, whose values arrive as init arguments
        return env_settings, init_settings


def load_settings(config_dir: Path) -> tuple[Settings, list[Problem]]:
    """Settings from `config_dir/meshwatch.yaml` (optional) and the environment, with problems."""
    path = config_dir / SETTINGS_FILE
    document = YamlDocument(path, {})
    if path.is_file():
        try:
            document = load_yaml(path)
        except YamlError as error:
            return Settings(), [Problem(str(path), error.line, "(file)", error.message)]
    data = document.data if document.data is not None else {}
    if not isinstance(data, dict):
        return Settings(), [Problem(str(path), 1, "(file)", "expected a mapping of settings")]
    try:
        return Settings(**data), []
    except ValidationError as error:
        return Settings(), problems_from_validation(document, error)
