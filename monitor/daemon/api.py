"""The daemon's HTTP API for other tools (docs/api.md): status badges of products and
objectives (SVG, or shields.io endpoint JSON), `GET /api/v1/status`, and silences —
`GET /api/v1/silences` open to read, `POST` and `DELETE` with the bearer token of `api.token`,
so a pipeline can silence its own product during a planned load."""

from __future__ import annotations

import asyncio
import hmac
import logging
from datetime import datetime, timedelta

from aiohttp import web

from monitor.alerting.silences import add_silences, expire_silence, list_silences, target_problem
from monitor.daemon.badges import Badge, BadgeValue, objective_badge, product_badge, unknown_badge
from monitor.daemon.replies import DAEMON, client_text, error_reply, json_body, read_body
from monitor.daemon.scheduler import Daemon
from monitor.daemon.status import StatusBoard, status_document
from monitor.values.durations import format_duration, parse_duration
from monitor.values.limits import NAME_LENGTH
from monitor.values.secrets import MissingSecret, resolve

log = logging.getLogger("meshwatch.web")
BOARD = web.AppKey("status_board", StatusBoard)
MAX_REASON = 2000
SILENCE_FIELDS = ("product", "duration", "ends_at", "reason", "objectives", "created_by")
FORMATS = {".svg": "svg", ".json": "shields"}


def add_api_routes(app: web.Application, daemon: Daemon) -> None:
    app[BOARD] = StatusBoard(daemon)
    app.router.add_get("/badge/{domain}/{rest:.+}", badge)
    app.router.add_get("/api/v1/status", status)
    app.router.add_get("/api/v1/silences", silences)
    app.router.add_post("/api/v1/silences", create_silence)
    app.router.add_delete("/api/v1/silences/{id}", end_silence)


# ---- badges -------------------------------------------------------------------------------
async def badge(request: web.Request) -> web.Response:
    """`/badge/{domain}/{name}.svg` (the product's worst status) or
    `/badge/{domain}/{name}/{objective}.svg` (status and compliance, `?value=budget` for the
    budget left); `.json` or `?format=shields` for shields.io; `?label=` names it."""
    rest = request.match_info["rest"]
    extension = next((e for e in FORMATS if rest.endswith(e)), None)
    form = request.query.get("format") or (FORMATS[extension] if extension else "svg")
    if extension is None or form not in FORMATS.values():
        return error_reply(404, "a badge is /badge/{domain}/{name}[/{objective}].svg or .json "
                                "(?format=svg|shields)")
    name, _, objective = rest.removesuffix(extension).partition("/")
    product_id = f"{request.match_info['domain']}/{name}"
    label = request.query.get("label")
    try:
        value = BadgeValue(request.query.get("value", BadgeValue.COMPLIANCE))
    except ValueError:
        return error_reply(400, f"value must be one of {', '.join(v.value for v in BadgeValue)}")
    daemon = request.app[DAEMON]
    if product_id not in daemon.products:
        return _badge_reply(unknown_badge("unknown product"), form, 404, daemon)
    [answer] = await request.app[BOARD].products([product_id])
    if not objective:
        return _badge_reply(product_badge(product_id, list(answer.reports), label), form, 200, daemon)
    report = answer.report(objective)
    if report is None:
        return _badge_reply(unknown_badge("unknown objective"), form, 404, daemon)
    return _badge_reply(objective_badge(report, value, label), form, 200, daemon)


def _badge_reply(shown: Badge, form: str, status: int, daemon: Daemon) -> web.Response:
    # a README's badge is fetched through caches (GitHub's camo): no older than a round
    headers = {"Cache-Control": f"max-age={int(daemon.settings.daemon.evaluation_interval.total_seconds())}"}
    if form == "shields":
        return web.json_response(shown.shields(), status=status, headers=headers)
    return web.Response(text=shown.svg(), status=status, content_type="image/svg+xml", headers=headers)


# ---- status -------------------------------------------------------------------------------
async def status(request: web.Request) -> web.Response:
    """Every product (or `?product=domain/name`, repeatable; `?domain=`) with its objectives."""
    daemon = request.app[DAEMON]
    wanted = request.query.getall("product", [])
    unknown = [p for p in wanted if p not in daemon.products]
    if unknown:
        return error_reply(404, f"no product {unknown[0]!r}")
    domain = request.query.get("domain")
    ids = wanted or sorted(p for p, product in daemon.products.items()
                           if domain is None or product.domain == domain)
    board = request.app[BOARD]
    statuses = await board.products(ids)
    at = daemon.clock()
    try:
        muting = await board.muting(ids, at)
    except Exception as error:  # noqa: BLE001 - the caller must hear it, not see a traceback
        log.error("status: the store is unavailable: %s", error)
        return error_reply(503, "the store is unavailable; retry")
    worker = daemon.leases.id if daemon.leases is not None else None
    return web.json_response(status_document(statuses, muting, at, worker))


# ---- silences -----------------------------------------------------------------------------
async def silences(request: web.Request) -> web.Response:
    """Active and upcoming silences, and those that ended in the last 7 days."""
    daemon = request.app[DAEMON]
    now = daemon.clock()

    def read() -> list[dict]:
        with daemon.engine.connect() as connection:
            return [s.as_json(now) for s in list_silences(connection, now)]

    return web.json_response({"silences": await asyncio.to_thread(read)})


async def create_silence(request: web.Request) -> web.Response:
    """`{"product": "checkout/orders", "duration": "2h" | "ends_at": ISO-8601, "reason": "…",
    "objectives": [...], "created_by": "…"}`: a silence (one per objective) from now on, as
    `meshwatch silence add` makes it."""
    daemon = request.app[DAEMON]
    refused = _refused(request, daemon)
    if refused is not None:
        return refused
    body = await read_body(request)
    if isinstance(body, web.Response):
        return body
    document = json_body(body)
    if not isinstance(document, dict):
        return error_reply(400, 'the body must be a JSON object, e.g. {"product": "checkout/orders", '
                                '"duration": "2h", "reason": "planned load"}')
    now = daemon.clock()
    asked = _silence_request(document, now)
    if isinstance(asked, str):
        return error_reply(400, asked)
    product, objectives, length, reason, created_by = asked
    problem = target_problem(daemon.products, product, objectives)
    if problem is not None:
        return error_reply(404, problem)
    try:
        made = await asyncio.to_thread(add_silences, daemon.engine, product, objectives or [None],
                                       now, length, reason, created_by)
    except Exception as error:  # noqa: BLE001 - the pipeline must hear that it was not made
        log.error("silence of %s not made: %s", product, error)
        return error_reply(503, "the store is unavailable; retry")
    log.info("silence %s: %s%s muted for %s by %s (API)", ", ".join(str(s.id) for s in made),
             product, f" {', '.join(objectives)}" if objectives else "", format_duration(length),
             created_by)
    return web.json_response({"silences": [s.as_json(now) for s in made]}, status=201)


async def end_silence(request: web.Request) -> web.Response:
    daemon = request.app[DAEMON]
    refused = _refused(request, daemon)
    if refused is not None:
        return refused
    text = request.match_info["id"]
    if not text.isdigit() or not 0 < int(text) < 2**63:
        return error_reply(400, "a silence's id is a positive whole number")
    now = daemon.clock()
    try:
        ended = await asyncio.to_thread(expire_silence, daemon.engine, int(text), now)
    except Exception as error:  # noqa: BLE001
        log.error("silence %s not ended: %s", text, error)
        return error_reply(503, "the store is unavailable; retry")
    if ended is None:
        return error_reply(404, f"no silence {text}")
    log.info("silence %s on %s ended (API)", ended.id, ended.product)
    return web.json_response(ended.as_json(now))


def _refused(request: web.Request, daemon: Daemon) -> web.Response | None:
    """Why the request may not change silences (403: no token configured, 401: not its token),
    or None. The token is never logged or shown."""
    configured = daemon.settings.api.token
    try:
        expected = str(resolve(configured.get_secret_value(), key="token")) if configured else ""
    except MissingSecret as error:
        return error_reply(403, f"the silences API is off: api.token is not usable ({error})")
    if not expected:
        return error_reply(403, "the silences API is off: set api.token in meshwatch.yaml (e.g. "
                                "token: ${MESHWATCH_API_TOKEN}) to change silences over HTTP")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
        log.warning("%s %s refused: missing or wrong bearer token", request.method, request.path)
        return error_reply(401, "missing or wrong bearer token (Authorization: Bearer <api.token>)",
                           headers={"WWW-Authenticate": 'Bearer realm="meshwatch"'})
    return None


def _silence_request(document: dict, now: datetime
                     ) -> tuple[str, list[str], timedelta, str, str] | str:
    """(product, objectives, duration, reason, created_by) of a silence request, or what is wrong."""
    unknown = [key for key in document if key not in SILENCE_FIELDS]
    if unknown:
        return f"unknown field {client_text(unknown[0], 60)!r} (fields: {', '.join(SILENCE_FIELDS)})"
    product, reason = document.get("product"), document.get("reason")
    if not isinstance(product, str) or "/" not in product:
        return 'product must be a product id, "domain/name"'
    if not isinstance(reason, str) or not reason.strip():
        return "reason must say why, e.g. \"planned load of the nightly backfill\""
    objectives = document.get("objectives") or []
    if not isinstance(objectives, list) or not all(isinstance(o, str) for o in objectives):
        return "objectives must be a list of objective names (none: the whole product)"
    created_by = document.get("created_by", "api")
    if not isinstance(created_by, str) or not created_by.strip():
        return "created_by must be a name, e.g. the pipeline's"
    length = _length(document, now)
    if isinstance(length, str):
        return length
    return (product, list(dict.fromkeys(objectives)), length, client_text(reason, MAX_REASON),
            client_text(created_by, NAME_LENGTH))


def _length(document: dict, now: datetime) -> timedelta | str:
    """How long from `now` the silence lasts: `duration`, or until `ends_at`."""
    if ("duration" in document) == ("ends_at" in document):
        return 'give one of duration (e.g. "2h") and ends_at (ISO-8601 with a zone)'
    if "duration" in document:
        try:
            length = parse_duration(document["duration"])
        except ValueError as error:
            return f"duration: {error}"
    else:
        try:
            ends_at = datetime.fromisoformat(str(document["ends_at"]))
        except ValueError:
            return 'ends_at must be an ISO-8601 time, e.g. "2026-11-02T14:00:00Z"'
        if ends_at.tzinfo is None:
            return 'ends_at needs a time zone, e.g. "2026-11-02T14:00:00Z"'
        length = ends_at - now
    if length <= timedelta(0):
        return "the silence must end after now"
    try:
        now + length
    except OverflowError:
        return "the silence must end before the year 9999"
    return length
