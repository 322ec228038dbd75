"""The alerting part of `meshwatch.yaml`: the policy (`alerting:`) and the mail server (`smtp:`).
Each channel kind's settings live with its notifier (`monitor/alerting/notifiers/<kind>.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from monitor.alerting.notifiers.base import ChannelSettings
from monitor.contracts.spec import Duration


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


class AlertingConfig(Protocol):
    """What alerting reads of the settings; `monitor.config.settings.Settings` is one."""

    @property
    def alerting(self) -> AlertingSettings: ...

    @property
    def channels(self) -> Mapping[str, ChannelSettings]: ...

    @property
    def smtp(self) -> SmtpSettings | None: ...
