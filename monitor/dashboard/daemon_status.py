"""What the running daemon says about its configuration, read from its `/healthz`.

The dashboard reads the store, not the daemon; this one small read tells it whether the daemon
refused the configuration on disk (and so still runs its last good one). No daemon answering is
not news to a dashboard, which also serves reports without one: then it says nothing.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime

from monitor.values.addresses import split_host_port

TIMEOUT = 0.5  # seconds: the daemon answers /healthz from memory
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy
_ANY_ADDRESS = {"", "0.0.0.0", "::", "[::]"}


@dataclass(frozen=True)
class Refused:
    at: datetime
    problems: tuple[str, ...]


def refused_configuration(listen: str, timeout: float = TIMEOUT) -> Refused | None:
    """The daemon's last refused configuration change, from `/healthz` at `listen` (its
    `daemon.listen`), or None: it runs the configuration it last read, or it does not answer."""
    host, port = split_host_port(listen)
    host = "127.0.0.1" if host in _ANY_ADDRESS else host
    try:
        with _DIRECT.open(f"http://{host}:{port}/healthz", timeout=timeout) as answer:
            document = json.load(answer)
    except urllib.error.HTTPError as degraded:  # 503 while degraded still carries the document
        try:
            document = json.load(degraded)
        except (OSError, ValueError):
            return None
    except (OSError, ValueError, http.client.HTTPException):
        return None
    refused = document.get("config_refused") if isinstance(document, dict) else None
    if not isinstance(refused, dict):
        return None
    try:
        return Refused(datetime.fromisoformat(refused["at"]),
                       tuple(str(p) for p in refused.get("problems", [])))
    except (KeyError, TypeError, ValueError):
        return None
