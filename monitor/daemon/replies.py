"""What every endpoint of the daemon's HTTP server shares: the daemon it answers for, the body
limit, reading a JSON body that may be hostile, bounding text from a client, and error replies."""

from __future__ import annotations

import json

from aiohttp import web

from monitor.daemon.scheduler import Daemon
from monitor.values.secrets import bounded

MAX_BODY = 64 * 1024  # a heartbeat or a silence is a few hundred bytes; more is refused with 413
DAEMON = web.AppKey("daemon", Daemon)


def json_body(body: bytes) -> object | None:
    """The JSON document of a request body ({} when empty); None when it is not UTF-8 JSON,
    nests deeper than the parser can follow or holds a number Python will not read (an integer
    of more than 4,300 digits): a hostile body is refused, never a traceback."""
    try:
        text = body.decode("utf-8")
        return json.loads(text) if text.strip() else {}
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None


def client_text(value: object, limit: int) -> str:
    """`value` as printable text on one line of at most `limit` characters that every store can
    hold: a NUL, a control character or a lone surrogate (`\\ud800`) never fails the write."""
    return bounded(str(value)[: limit * 2], limit)


def error_reply(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


async def read_body(request: web.Request) -> bytes | web.Response:
    """The request's body, or the 413 reply when it is larger than MAX_BODY."""
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        return error_reply(413, f"the body is larger than {MAX_BODY // 1024} KiB")
