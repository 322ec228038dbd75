"""Daemon settings: `meshwatch.yaml` in the config directory, overridden by MESHWATCH_* variables."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from monitor.alerting.notifiers import KINDS as NOTIFIER_KINDS
from monitor.alerting.notifiers import ChannelSettings
from monitor.alerting.settings import AlertingSettings, SmtpSettings
from monitor.config.reports import ReportsSettings
from monitor.contracts.loader import SETTINGS_FILE
from monitor.contracts.problems import Problem, problems_from_validation
from monitor.contracts.spec import Duration
from monitor.contracts.yamlsource import YamlDocument, YamlError, load_yaml
from monitor.slo import AlertPolicy
from monitor.store import DEFAULT_URL
from monitor.store.engine import url_problem
from monitor.store.retention import DEFAULT_RETENTION, Retention
from monitor.telemetry.settings import TelemetrySettings
from monitor.values.addresses import HostPort, split_host_port
from monitor.values.durations import format_duration

CONFIG_ENV = "MESHWATCH_CONFIG"


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
    probe_history: Duration | None = Field(
        None, description="deprecated: how long single probe results are kept (use "
                          "store.retention.probe_results, which this overrides when set)")

    @property
    def host_port(self) -> tuple[str, int]:
        return split_host_port(self.listen)


class ApiSettings(BaseModel):
    """The daemon's HTTP API (docs/api.md)."""

    model_config = ConfigDict(extra="forbid")
    token: SecretStr | None = Field(None, description="bearer token of the silences API; unset or "
                                    "empty: it answers 403")


class RetentionSettings(BaseModel):
    """How long each tier of the store is kept (store/retention.py); the day counts stay."""

    model_config = ConfigDict(extra="forbid")
    minutes: Duration = Field(DEFAULT_RETENTION.minutes, description="counts per minute")
    hours: Duration = Field(DEFAULT_RETENTION.hours, description="counts per hour (about 25 months)")
    probe_results: Duration = Field(DEFAULT_RETENTION.probe_results,
                                    description="single probe results and heartbeats")
    alert_history: Duration = Field(DEFAULT_RETENTION.alert_history,
                                    description="alert events and finished notifications")

    @field_validator("minutes", "probe_results", "alert_history")
    @classmethod
    def _a_day_at_least(cls, value: timedelta, info: ValidationInfo) -> timedelta:
        if value < timedelta(days=1):
            raise ValueError(f"{info.field_name} must be kept at least 1d (a day is the unit of a prune)")
        return value

    @field_validator("hours")
    @classmethod
    def _hours_outlast_minutes(cls, value: timedelta, info: ValidationInfo) -> timedelta:
        minutes = info.data.get("minutes")  # absent when it failed its own check
        if minutes is not None and value < minutes:
            raise ValueError(f"hours ({format_duration(value)}) must be kept at least as long as "
                             f"minutes ({format_duration(minutes)})")
        return value


class StoreSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    retention: RetentionSettings = RetentionSettings()


if TYPE_CHECKING:
    Channel = ChannelSettings
else:  # a discriminated union of every notifier kind's settings, so errors name the field
    Channel = Annotated[Union[tuple(kind.Settings for kind in NOTIFIER_KINDS.values())],  # noqa: UP007
                        Field(discriminator="type")]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MESHWATCH_", env_nested_delimiter="__",
                                      extra="forbid")
    database_url: str = DEFAULT_URL
    timezone: str = "UTC"
    slo: SloSettings = SloSettings()
    store: StoreSettings = StoreSettings()
    daemon: DaemonSettings = DaemonSettings()
    api: ApiSettings = ApiSettings()
    alerting: AlertingSettings = AlertingSettings()
    channels: dict[str, Channel] = {}
    smtp: SmtpSettings | None = None
    telemetry: TelemetrySettings = TelemetrySettings()
    reports: ReportsSettings = ReportsSettings()  # after `channels`, which it names

    def retention(self) -> Retention:
        """The store's retention; the deprecated `daemon.probe_history` still wins when set."""
        kept = self.store.retention
        return Retention(minutes=kept.minutes, hours=kept.hours,
                         probe_results=self.daemon.probe_history or kept.probe_results,
                         alert_history=kept.alert_history)

    @field_validator("database_url")
    @classmethod
    def _supported_store(cls, value: str) -> str:
        if (problem := url_problem(value)) is not None:
            raise ValueError(problem)
        return value

    @field_validator("reports")
    @classmethod
    def _report_channels(cls, value: ReportsSettings, info: ValidationInfo) -> ReportsSettings:
        return value.checked(info.data.get("channels"))  # absent: they failed on their own

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
    except ValidationError as error:  # the defaults, without the environment that may be at fault
        return Settings.model_construct(), problems_from_validation(document, error)
