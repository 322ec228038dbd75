"""The notifier interface: one class per destination kind, each sending one message or raising."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from monitor.alerting.messages import Message
from monitor.alerting.reports import ReportMessage
from monitor.values.secrets import redact, remember, resolve

if TYPE_CHECKING:
    from monitor.alerting.settings import SmtpSettings

USER_AGENT = "meshwatch-alerting/1"


class TransportError(Exception):
    """A delivery that did not happen. `permanent`: retrying will not help (bad address, 4xx)."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class ChannelSettings(BaseModel):
    """A channel of `meshwatch.yaml` (`channels: {NAME: {type: KIND, …}}`). Each kind's module
    subclasses it with `type: Literal["KIND"]` and its fields. `inline` names the field that a
    contract's `{KIND: VALUE}` destination sets (None: the kind is only used through channels)."""

    model_config = ConfigDict(extra="forbid")
    type: str
    inline: ClassVar[str | None] = None

    @classmethod
    def from_inline(cls, kind: str, value: str) -> ChannelSettings:
        """The settings of a contract's `{KIND: VALUE}` destination."""
        assert cls.inline is not None, f"{kind} destinations are only used through channels"
        field = cls.model_fields[cls.inline]
        is_list = getattr(field.annotation, "__origin__", None) is list
        return cls.model_validate({"type": kind, cls.inline: [value] if is_list else value})

    @classmethod
    def show(cls, value: str) -> str:
        """An inline destination's value safe to print (URL passwords hidden)."""
        return redact(value)


class Secrets:
    """Resolves `${ENV}` placeholders at send time; whatever a placeholder gave, and a field that
    is secret as a whole, is remembered so that no error text shows it (`values.secrets`)."""

    def __init__(self, environ: Mapping[str, str] = os.environ):
        self.environ = environ

    def __call__(self, text: str | None, sensitive: bool = False) -> str | None:
        if text is None:
            return None
        resolved = resolve(text, self.environ)
        if sensitive:
            remember(resolved)
        return resolved

    def required(self, text: str, sensitive: bool = False) -> str:
        resolved = self(text, sensitive)
        assert resolved is not None
        return resolved


class Notifier(ABC):
    """Sends messages to one destination; built from its channel settings, secrets resolved.
    A kind is one module: its `Settings` model, its `kind` name, `from_settings` and `send`."""

    kind: ClassVar[str]
    Settings: ClassVar[type[ChannelSettings]]
    # why this kind cannot carry a report (`reports:` in meshwatch.yaml refuses it at load);
    # None for a kind that can, through `send_report`
    no_reports: ClassVar[str | None] = "it takes alert messages, not documents"

    @classmethod
    @abstractmethod
    def from_settings(cls, settings: Any, secrets: Secrets,
                      smtp: SmtpSettings | None) -> Notifier:
        """The notifier of one channel; raise TransportError when it cannot be built."""

    @abstractmethod
    def send(self, message: Message) -> None:
        """Deliver `message`; raise TransportError when it was not delivered."""

    def send_report(self, report: ReportMessage) -> None:
        """Deliver a report; raise TransportError when it was not delivered."""
        raise TransportError(f"a report cannot go to {self.kind}: {self.no_reports}", permanent=True)


def post_json(url: str, body: Any, headers: Mapping[str, str] | None = None,
              timeout: timedelta = timedelta(seconds=10), data: bytes | None = None) -> int:
    """POST `body` as JSON (or the exact bytes `data`); the status, or TransportError."""
    payload = data if data is not None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=payload, method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout.total_seconds()) as response:
            return response.status
    except urllib.error.HTTPError as error:
        # 408 and 429 ask to come back later; any other 4xx will not change by retrying
        permanent = 400 <= error.code < 500 and error.code not in (408, 429)
        detail = _snippet(error)
        raise TransportError(f"HTTP {error.code} {error.reason}{detail}", permanent) from None
    except urllib.error.URLError as error:
        raise TransportError(f"cannot reach the server: {error.reason}") from None
    except ValueError as error:  # a malformed URL
        raise TransportError(f"not a usable URL: {error}", permanent=True) from None
    except (TimeoutError, OSError) as error:
        raise TransportError(f"no answer within {timeout.total_seconds():g}s: {error}") from None


def _snippet(error: urllib.error.HTTPError) -> str:
    try:
        text = error.read(300).decode("utf-8", "replace").strip()
    except OSError:
        return ""
    return f": {text}" if text else ""
