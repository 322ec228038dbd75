"""Live stand-ins for the example mesh's output ports, behaving as the scenario says.

| port (config/)                      | stand-in                                              |
| ----------------------------------- | ----------------------------------------------------- |
| checkout/orders api (http)          | an HTTP API with `generated_at`, outages and slowness |
| checkout/orders warehouse (sql)     | a SQLite file whose orders table the pipeline updates |
| checkout/orders lake, cart/events lake (azure_blob) | Azurite, with files landed every 5 minutes |
| cart/events pipeline (heartbeat)    | pipeline runs reported to the daemon's endpoint       |
| marketing/campaign-features api     | an HTTP API with a Last-Modified header               |
| marketing/campaign-features requests (azure_monitor_logs) | a Log Analytics query endpoint  |
| cart/events hub (azure_monitor_metrics) | Azure Monitor's metrics batch endpoint (the same port) |

Without Node.js (no Azurite), blob ports are served as HTTP listings instead: see
`without_azurite`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import aiohttp
from aiohttp import web

from monitor.contracts.model import DataProduct, Port
from monitor.demo.scenario import (
    behaviour_at,
    cart_messages_in,
    newest_cart_file,
    newest_cart_message,
    newest_features,
    newest_orders,
    newest_orders_file,
    orders_landed_bytes,
)
from monitor.values.durations import parse_duration

log = logging.getLogger("meshwatch.demo")
REQUESTS_PER_MINUTE = 240
Clock = Callable[[], datetime]


@dataclass
class StandInPorts:
    checkout_api: int = 8081
    marketing_api: int = 8083
    logs: int = 8084
    blob_listing: int = 8085


@dataclass
class StandIns:
    live_start: datetime
    data_dir: Path
    ports: StandInPorts = field(default_factory=StandInPorts)
    blob_connection_string: str | None = None  # Azurite's; None: HTTP listings instead
    heartbeat_url: str | None = None  # the daemon's heartbeat endpoint for cart/events/pipeline
    heartbeat_token: str = "demo-cart-token"
    clock: Clock = lambda: datetime.now(UTC)
    _runners: list[web.AppRunner] = field(default_factory=list)
    _tasks: list[asyncio.Task] = field(default_factory=list)

    @property
    def sql_path(self) -> Path:
        return self.data_dir / "checkout.db"

    def behaviour(self):
        return behaviour_at(self.clock(), self.live_start)

    async def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        await self._serve(self._checkout_app(), self.ports.checkout_api)
        await self._serve(self._features_app(), self.ports.marketing_api)
        await self._serve(self._logs_app(), self.ports.logs)
        if self.blob_connection_string is None:
            await self._serve(self._listing_app(), self.ports.blob_listing)
        self._tasks.append(asyncio.create_task(self._every(15, self._update_warehouse)))
        if self.blob_connection_string:
            self._tasks.append(asyncio.create_task(self._every(20, self._land_files)))
        if self.heartbeat_url:
            self._tasks.append(asyncio.create_task(self._every(60, self._report_run, first=5)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for runner in self._runners:
            await runner.cleanup()

    async def _serve(self, app: web.Application, port: int) -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, "127.0.0.1", port).start()
        except OSError as error:
            await runner.cleanup()
            raise RuntimeError(f"port {port} is taken ({error.strerror}); the demo needs it") from None
        self._runners.append(runner)

    async def _every(self, seconds: float, action: Callable[[], Awaitable[object]],
                     first: float = 0) -> None:
        await asyncio.sleep(first)
        while True:
            try:
                await action()
            except Exception as error:  # noqa: BLE001 - a stand-in hiccup must not end the demo
                log.warning("demo stand-in: %s", error)
            await asyncio.sleep(seconds)

    # ---- Checkout ---------------------------------------------------------------------------
    def _checkout_app(self) -> web.Application:
        async def latest(_request):
            now = self.behaviour()
            if now.checkout_api_down:
                return web.json_response({"error": "upstream unavailable"}, status=503)
            await asyncio.sleep(now.checkout_api_latency.total_seconds())
            newest = newest_orders(self.clock(), self.live_start)
            return web.json_response({"generated_at": newest.isoformat(), "orders": 25})

        app = web.Application()
        app.router.add_get("/orders/latest", latest)
        return app

    async def _update_warehouse(self) -> None:
        newest = newest_orders(self.clock(), self.live_start)
        await asyncio.to_thread(self._write_orders, newest)

    def _write_orders(self, newest: datetime) -> None:
        with contextlib.closing(sqlite3.connect(self.sql_path)) as db, db:
            db.execute("CREATE TABLE IF NOT EXISTS orders (order_id INTEGER PRIMARY KEY, "
                       "updated_at TEXT NOT NULL)")
            db.execute("INSERT OR REPLACE INTO orders VALUES (?, ?)",
                       (int(newest.timestamp() // 60), newest.isoformat()))

    # ---- Blob storage (Azurite, or HTTP listings) ----------------------------------------------
    async def _land_files(self) -> None:
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob.aio import BlobServiceClient

        connection_string = self.blob_connection_string
        assert connection_string is not None  # files land only in Azurite (`start` runs this with it)
        now = self.clock()
        async with BlobServiceClient.from_connection_string(connection_string) as service:
            for container, prefix, newest in (
                    ("checkout", "orders/", newest_orders_file(now, self.live_start)),
                    ("cart", "events/", newest_cart_file(now, self.live_start))):
                client = service.get_container_client(container)
                with contextlib.suppress(Exception):
                    await client.create_container()
                name = f"{prefix}{newest:%Y/%m/%d/%H%M}.jsonl"
                with contextlib.suppress(ResourceExistsError):  # this file has landed already
                    await client.get_blob_client(name).upload_blob(
                        json.dumps({"landed_for": newest.isoformat()}).encode())

    def _listing_app(self) -> web.Application:
        async def listing(request):
            now = self.clock()
            newest = (newest_orders_file if request.match_info["container"] == "checkout"
                      else newest_cart_file)(now, self.live_start)
            return web.json_response({"container": request.match_info["container"],
                                      "newest": newest.isoformat(),
                                      "landed_bytes": orders_landed_bytes(timedelta(days=1))})

        app = web.Application()
        app.router.add_get("/blobs/{container}", listing)
        return app

    def without_azurite(self, products: list[DataProduct]) -> list[DataProduct]:
        """The products with their azure_blob ports served as HTTP listings by this stand-in."""
        def swap(port: Port) -> Port:
            if port.type != "azure_blob":
                return port
            container = port.options.get("container", "")
            url = f"http://127.0.0.1:{self.ports.blob_listing}/blobs/{container}"
            options = {"url": url, "freshness": {"json_path": "newest"}}
            if "volume" in port.options:
                options["volume"] = {"json_path": "landed_bytes", "unit": "bytes",
                                     "per": port.options["volume"].get("per", "1d")}
            return replace(port, type="http", options=options)
        return [replace(p, ports=tuple(swap(port) for port in p.ports)) for p in products]

    # ---- Cart's pipeline runs -----------------------------------------------------------------
    async def _report_run(self) -> None:
        heartbeat_url = self.heartbeat_url
        assert heartbeat_url is not None  # `start` reports runs only with a heartbeat URL
        stalled = self.behaviour().cart_stalled
        body = ({"status": "failure", "message": "source export timed out"} if stalled
                else {"status": "success", "run_id": f"{self.clock():%Y%m%d%H%M}"})
        async with aiohttp.ClientSession() as session, session.post(
                heartbeat_url, json=body,
                headers={"Authorization": f"Bearer {self.heartbeat_token}"}) as response:
            if response.status >= 300:
                log.warning("demo pipeline: heartbeat refused with %d", response.status)

    # ---- Marketing --------------------------------------------------------------------------
    def _features_app(self) -> web.Application:
        async def health(_request):
            if self.behaviour().marketing_api_down:
                return web.json_response({"error": "features store offline"}, status=503)
            newest = newest_features(self.clock(), self.live_start)
            return web.json_response({"status": "ok"},
                                     headers={"Last-Modified": format_datetime(newest, usegmt=True)})

        app = web.Application()
        app.router.add_get("/features/health", health)
        return app

    def _logs_app(self) -> web.Application:
        async def query(request):
            body = await request.json()
            try:
                span = parse_duration(str(body.get("timespan", "PT5M")).split("/")[-1])
            except ValueError:
                span = timedelta(minutes=5)
            total = int(REQUESTS_PER_MINUTE * span.total_seconds() / 60)
            failed = round(total * self.behaviour().marketing_error_fraction)
            return web.json_response({"tables": [{
                "name": "PrimaryResult",
                "columns": [{"name": "total", "type": "long"}, {"name": "failed", "type": "long"}],
                "rows": [[total, failed]]}]})

        app = web.Application()
        app.router.add_post("/v1/workspaces/{workspace}/query", query)
        app.router.add_post("/subscriptions/{subscription}/metrics:getBatch", self._metrics_batch)
        return app

    async def _metrics_batch(self, request: web.Request) -> web.Response:
        """Azure Monitor's metrics batch answer for the Event Hub: messages in every minute up to
        the newest reported one; later grains not reported yet (no value), as the service does."""
        query, body = request.query, await request.json()
        names = query.get("metricnames", "").split(",")
        unknown = [name for name in names if name != "IncomingMessages"]
        if unknown:
            return web.json_response({"error": {"code": "BadRequest", "message": (
                f"Failed to find metric configuration for provider: Microsoft.EventHub, resource Type: "
                f"namespaces, metric: {unknown[0]}, Valid metrics: IncomingMessages")}}, status=400)
        start, end = (datetime.fromisoformat(query[name]) for name in ("starttime", "endtime"))
        grain = parse_duration(query.get("interval", "PT1M"))
        newest = newest_cart_message(self.clock())
        moment = datetime.fromtimestamp(start.timestamp() // grain.total_seconds()
                                        * grain.total_seconds(), tz=UTC)
        data = []
        while moment < end:
            point: dict[str, object] = {"timeStamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ")}
            if moment <= newest:
                point["total"] = float(sum(cart_messages_in(moment + timedelta(minutes=m))
                                           for m in range(int(grain.total_seconds() // 60))))
            data.append(point)
            moment += grain
        resource = body["resourceids"][0]
        return web.json_response({"values": [{
            "starttime": query["starttime"], "endtime": query["endtime"], "interval": query["interval"],
            "namespace": query["metricnamespace"], "resourceregion": "westeurope", "resourceid": resource,
            "value": [{"id": f"{resource}/providers/Microsoft.Insights/metrics/IncomingMessages",
                       "type": "Microsoft.Insights/metrics", "unit": "Count", "errorCode": "Success",
                       "name": {"value": "IncomingMessages", "localizedValue": "Incoming Messages"},
                       "timeseries": [{"metadatavalues": [], "data": data}]}]}]})
