"""The `reports:` block of `meshwatch.yaml`: which reports are delivered, where, in what format.

    reports:
      monthly:
        to: [{email: governance@contoso.example}, {channel: governance-webhook}]
        format: html    # html, csv, md or json

Destinations are written as a contract's `notify:` entries: `{channel: NAME}` naming a channel
of the settings, or an inline `{email: ADDRESS}` / `{webhook: URL}`. A kind that cannot carry a
document (Alertmanager, apprise) is refused here, at load, with the reason its notifier gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from monitor.alerting.notifiers import KINDS, ChannelSettings
from monitor.alerting.notifiers.email import valid_address
from monitor.alerting.routing import DESTINATION_KINDS, destination_key

Location = tuple[str | int, ...]


class MonthlyReport(BaseModel):
    """The uptime report of the month that ended, sent on the 1st in the settings' time zone."""

    model_config = ConfigDict(extra="forbid")
    to: list[dict[str, Any]] = Field(min_length=1, description="destinations, as in notify:")
    format: Literal["html", "csv", "md", "json"] = Field(
        "html", description="the document, as `meshwatch report uptime --format` renders it")

    def destinations(self) -> list[str]:
        """The outbox's names of the destinations (`email:ADDR`, `channel:NAME`), each once."""
        return list(dict.fromkeys(destination_key(entry) for entry in self.to))

    def problems(self, channels: Mapping[str, ChannelSettings] | None) -> list[tuple[Location, str]]:
        """What is wrong with the destinations: each entry on its own, and a `{channel: NAME}`
        that names no channel or one that cannot carry a report (None: the channels did not
        validate, so they are not looked at)."""
        problems: list[tuple[Location, str]] = []
        for position, entry in enumerate(self.to):
            problems += [(("to", position, *where), message)
                         for where, message in entry_problems(entry)]
            name = entry.get("channel")
            if channels is None or not isinstance(name, str) or len(entry) != 1:
                continue
            where = ("to", position, "channel")
            channel = channels.get(name)
            if channel is None:
                names = ", ".join(sorted(channels)) or "none are configured"
                problems.append((where, f"no channel named {name!r} (channels: {names})"))
            elif (why := KINDS[channel.type].no_reports) is not None:
                problems.append((where, f"a report cannot go to channel {name!r} of type "
                                        f"{channel.type}: {why} (use an email or webhook "
                                        "destination)"))
        return problems


class ReportsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    monthly: MonthlyReport | None = Field(None, description="unset: no report is sent")

    def checked(self, channels: Mapping[str, ChannelSettings] | None) -> ReportsSettings:
        """These settings, or a ValidationError locating each destination problem (the
        settings' validator calls this with their channels, so all are found in one pass)."""
        problems = self.monthly.problems(channels) if self.monthly is not None else []
        if problems:
            raise ValidationError.from_exception_data("reports", [
                InitErrorDetails(type=PydanticCustomError("destination", message),
                                 loc=("monthly", *where), input=None)
                for where, message in problems])
        return self


def entry_problems(entry: Mapping[str, Any]) -> list[tuple[Location, str]]:
    """What is wrong with one destination entry on its own (channels are checked with the
    settings' channels, `ReportsSettings.check_channels`)."""
    if len(entry) != 1:
        return [((), "a destination is one KIND: VALUE pair, e.g. {email: governance@example.com} "
                     "or {channel: NAME}")]
    [(kind, value)] = entry.items()
    if kind not in DESTINATION_KINDS:
        return [((kind,), f"unknown destination kind {kind!r} "
                          f"(kinds: {', '.join(map(repr, DESTINATION_KINDS))})")]
    if not isinstance(value, str) or not value:
        return [((kind,), f"expected a {'name' if kind == 'channel' else 'text'}, got {value!r}")]
    if kind != "channel" and (why := KINDS[kind].no_reports) is not None:
        return [((kind,), f"a report cannot go to {kind}: {why} (use an email or webhook "
                          "destination)")]
    if kind == "email" and "${" not in value and not valid_address(value):
        return [((kind,), f"not an email address: {value!r}")]
    return []
