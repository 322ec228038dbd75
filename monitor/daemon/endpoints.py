"""The daemon's HTTP endpoints: `/healthz`, the heartbeat ingest for push-style ports, and the
badges and `/api/v1` of monitor.daemon.api."""

from __future__ import annotations

import asyncio
import hmac
import logging

from aiohttp import web

from monitor.daemon.api import add_api_routes
from monitor.daemon.replies import DAEMON, MAX_BODY, client_text, error_reply, json_body, read_body
from monitor.daemon.scheduler import Daemon
from monitor.store.measurements import record_heartbeat
from monitor.values.limits import NAME_LENGTH
from monitor.values.secrets import MissingSecret, resolve

log = logging.getLogger("meshwatch.web")
MAX_MESSAGE = 2000


def make_app(daemon: Daemon) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app[DAEMON] = daemon
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/heartbeat/{domain}/{name}/{port}", heartbeat)
    add_api_routes(app, daemon)
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
        return error_reply(404, f"no heartbeat port {port_name!r} in product {product_id!r}")
    try:
        expected = resolve(port.options.get("token", ""))
    except MissingSecret as error:
        return error_reply(503, f"the port's token is not configured: {error}")
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not expected or not hmac.compare_digest(given.encode(), str(expected).encode()):
        log.warning("heartbeat for %s/%s refused: bad token", product_id, port_name)
        return error_reply(401, "missing or wrong bearer token")
    body = await read_body(request)
    if isinstance(body, web.Response):
        return body
    report = json_body(body)
    if report is None:
        return error_reply(400, "the body must be UTF-8 JSON, e.g. {\"status\": \"success\"}")
    status = client_text(report.get("status", "success"), 20).lower() if isinstance(report, dict) else None
    if not isinstance(report, dict) or status not in ("success", "failure"):
        return error_reply(400, "status must be \"success\" or \"failure\"")
    message = client_text(report["message"], MAX_MESSAGE) if report.get("message") is not None else None
    run_id = client_text(report["run_id"], NAME_LENGTH) if report.get("run_id") is not None else None
    received_at = daemon.clock()

    def write() -> None:
        with daemon.engine.begin() as connection:
            record_heartbeat(connection, product_id, port_name, received_at,
                             status == "success", run_id, message)

    try:
        await asyncio.to_thread(write)
    except Exception as error:  # noqa: BLE001 - the pipeline must hear that it was not recorded
        log.error("heartbeat for %s/%s not recorded: %s", product_id, port_name, error)
        return error_reply(503, "the store is unavailable; retry")
    return web.json_response({"recorded": True, "product": product_id, "port": port_name,
                              "status": status, "received_at": received_at.isoformat()},
                             status=202)
