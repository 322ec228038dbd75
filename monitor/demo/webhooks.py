"""A webhook receiver on loopback: it keeps every POST it gets and answers as told. The demo's
alerts land in one (sinks.py); the tests send their notifications to one."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    json: object  # None when the body is not JSON


@dataclass
class WebhookReceiver:
    """Serve it in the running loop (`await start()` … `await stop()`) or from a thread of its own
    (`with WebhookReceiver() as receiver:`, for code that is not async). `port` 0 takes a free one."""

    port: int = 0
    answer: Callable[[Received], web.Response] | None = None  # None: answer_as_told
    requests: list[Received] = field(default_factory=list)
    statuses: deque[int] = field(default_factory=deque)  # answers to give, then 200
    client_max_size: int = 32 * 1024 * 1024  # metric exports arrive in large batches
    _runner: web.AppRunner | None = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    def answer_as_told(self, _received: Received) -> web.Response:
        """The next of `statuses` (then 200), with a body a notifier's error message can quote."""
        status = self.statuses.popleft() if self.statuses else 200
        return web.Response(status=status, text="ok" if status < 400 else "nope")

    async def start(self) -> WebhookReceiver:
        app = web.Application(client_max_size=self.client_max_size)
        app.router.add_route("POST", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        try:
            await site.start()
        except OSError:
            await self._runner.cleanup()
            raise
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def __enter__(self) -> WebhookReceiver:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self.start(), self._loop).result(10)
        except BaseException:
            self._close_loop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self.stop(), self._loop).result(10)
        self._close_loop()

    def _close_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            parsed = await request.json()
        except ValueError:
            parsed = None
        received = Received(request.path, dict(request.headers), body, parsed)
        self.requests.append(received)
        return (self.answer or self.answer_as_told)(received)
