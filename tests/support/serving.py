"""An aiohttp application served on a free loopback port for the length of a test: the local
stand-ins (an API, a metrics or Log Analytics endpoint) that the probes are tested against."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """`app` listening on 127.0.0.1 at a free port: its base URL (`http://127.0.0.1:PORT`),
    stopped at the end (open requests cut after 0.1 s)."""
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()
