"""The daemon's HTTP endpoints: `/healthz` and the heartbeat ingest for push-style ports."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging

from aiohttp import web

from monitor.daemon.scheduler import Daemon
from monitor.store.measurements import record_heartbeat
from monitor.values.limits import NAME_LENGTH
from monitor.values.secrets import MissingSecret, bounded, resolve

log = logging.getLogger("meshwatch.web")
MAX_MESSAGE = 2000
MAX_BODY = 64 * 1024  # a heartbeat is a few hundred bytes; more is refused with 413
DAEMON = web.AppKey("daemon", Daemon)


def make_app(daemon: Daemon) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app[DAEMON] = daemon
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/heartbeat/{domain}/{name}/{port}", heartbeat)
    return app


async def healthz(request: web.Request) -> web.Response:
    document = request.app[DAEMON].health_document()
    return web.json_response(document, status=200 if document["status"] == "ok" else 503)


async def heartbeat(request: web.Request) -> web.Response:
    """A pipeline reports a run: `Authorization: Bearer <token>`, body
    `{"status": "success"|"failure", "run_id": "...", "message": "..."}` (empty body: success)."""
    daemon: Daemon = request.app[DAEMON]
    product_id = f"{request.match_info['domain']}/{request.match_info['name']}"
    port_name = request.match_info["port"]
    product = daemon.products.get(product_id)
    port = product.port(port_name) if product else None
    if port is None or port.type != "heartbeat":
        return _error(404, f"no heartbeat port {port_name!r} in product {product_id!r}")
    try:
        expected = resolve(port.options.get("token", ""))
    except MissingSecret as error:
        return _error(503, f"the port's token is not configured: {error}")
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not expected or not hmac.compare_digest(given.encode(), str(expected).encode()):
        log.warning("heartbeat for %s/%s refused: bad token", product_id, port_name)
        return _error(401, "missing or wrong bearer token")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _error(413, f"the body is larger than {MAX_BODY // 1024} KiB")
    report = _report(body)
    if report is None:
        return _error(400, "the body must be UTF-8 JSON, e.g. {\"status\": \"success\"}")
    status = _text(report.get("status", "success"), 20).lower() if isinstance(report, dict) else None
    if not isinstance(report, dict) or status not in ("success", "failure"):
        return _error(400, "status must be \"success\" or \"failure\"")
    message = _text(report["message"], MAX_MESSAGE) if report.get("message") is not None else None
    run_id = _text(report["run_id"], NAME_LENGTH) if report.get("run_id") is not None else None
    received_at = daemon.clock()

    def write() -> None:
        with daemon.engine.begin() as connection:
            record_heartbeat(connection, product_id, port_name, received_at,
                             status == "success", run_id, message)

    try:
        await asyncio.to_thread(write)
    except Exception as error:  # noqa: BLE001 - the pipeline must hear that it was not recorded
        log.error("heartbeat for %s/%s not recorded: %s", product_id, port_name, error)
        return _error(503, "the store is unavailable; retry")
    return web.json_response({"recorded": True, "product": product_id, "port": port_name,
                              "status": status, "received_at": received_at.isoformat()},
                             status=202)


def _report(body: bytes) -> object | None:
    """The JSON document of a heartbeat body ({} when empty); None when it is not UTF-8 JSON,
    nests deeper than the parser can follow or holds a number Python will not read (an integer
    of more than 4,300 digits): a hostile body is refused, never a traceback."""
    try:
        text = body.decode("utf-8")
        return json.loads(text) if text.strip() else {}
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None


def _text(value: object, limit: int) -> str:
    """`value` as printable text on one line of at most `limit` characters that every store can
    hold: a NUL, a control character or a lone surrogate (`\\ud800`) never fails the write."""
    return bounded(str(value)[: limit * 2], limit)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
