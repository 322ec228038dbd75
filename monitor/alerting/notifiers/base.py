"""The notifier interface: one class per destination kind, each sending one message or raising."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, ClassVar

from monitor.alerting.messages import Message

USER_AGENT = "meshwatch-alerting/1"


class TransportError(Exception):
    """A delivery that did not happen. `permanent`: retrying will not help (bad address, 4xx)."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class Notifier(ABC):
    """Sends messages to one destination; built from its channel settings, secrets resolved."""

    kind: ClassVar[str]

    @abstractmethod
    def send(self, message: Message) -> None:
        """Deliver `message`; raise TransportError when it was not delivered."""


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
