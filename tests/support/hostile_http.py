"""HTTP stand-ins that misbehave on purpose, on 127.0.0.1: one raw asyncio server, one behaviour
per path (`/ok`, `/gzip-bomb`, `/junk`, …, listed in BEHAVIOURS). Written on sockets, not with a
web framework, so that each answer is exactly the bytes a hostile or broken peer would send.

In a test: `async with HostileHttp() as server: server.url("junk")`. In another process (the
garbage-ports benchmark): `serve_forever(port)`. `server.sent[name]` counts the body bytes each
behaviour wrote, so a test can tell how much of an endless answer a client read.
"""

from __future__ import annotations

import asyncio
import functools
import json
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

MB = 1024 * 1024
BOMB_SIZE = 200 * MB  # what the bombs inflate to
HUGE_HEADER = 1 * MB
JUNK = (b"\x00\x01\x02\xff\xfe\x1b[31m\x07 SSH-2.0-OpenSSH_9.6 \r\n\x80\x81garbage\x00" * 400)[:8000]
_CHUNK = 64 * 1024

Writer = asyncio.StreamWriter


@functools.cache
def bomb(encoding: str = "gzip", size: int = BOMB_SIZE) -> bytes:
    """`size` zero bytes compressed (gzip or deflate): about 1/1000 of `size`, made once."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31 if encoding == "gzip" else 15)
    zeros = bytes(MB)
    parts = [compressor.compress(zeros) for _ in range(size // MB)]
    return b"".join([*parts, compressor.flush()])


def _head(status: str = "200 OK", **headers: str | int) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{name.replace('_', '-')}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class HostileHttp:
    """The stand-in server. Every behaviour but `ok` closes the connection after its answer."""

    def __init__(self, port: int = 0, bomb_size: int = BOMB_SIZE):
        self.port = port
        self.bomb_size = bomb_size
        self.sent: Counter[str] = Counter()  # body bytes written per behaviour
        self.requests: Counter[str] = Counter()
        self.connections = 0  # connections accepted (a kept-alive client opens one for many requests)
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task] = set()

    def url(self, behaviour: str) -> str:
        assert behaviour in BEHAVIOURS, behaviour
        return f"http://127.0.0.1:{self.port}/{behaviour}"

    async def start(self) -> HostileHttp:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._handlers):
                task.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            await self._server.wait_closed()

    async def __aenter__(self) -> HostileHttp:
        return await self.start()

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def _connection(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                parts = head.split(b" ", 2)
                name = parts[1].decode("latin-1").strip("/").split("?")[0] if len(parts) > 1 else ""
                behaviour = BEHAVIOURS.get(name, HostileHttp._not_found)
                self.requests[name] += 1
                keep_alive = await behaviour(self, name, writer)
                await writer.drain()
                if not keep_alive:
                    return
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            self._handlers.discard(task)
            writer.close()

    async def _body(self, name: str, writer: Writer, data: bytes) -> None:
        for start in range(0, len(data), _CHUNK):
            writer.write(data[start:start + _CHUNK])
            self.sent[name] += len(data[start:start + _CHUNK])
            await writer.drain()

    # the behaviours: each writes one answer and says whether the connection may be used again

    async def _ok(self, name: str, writer: Writer) -> bool:
        body = json.dumps({"generated_at": datetime.now(UTC).isoformat()}).encode()
        writer.write(_head(Content_Type="application/json", Content_Length=len(body)))
        await self._body(name, writer, body)
        return True

    async def _not_found(self, name: str, writer: Writer) -> bool:
        writer.write(_head("404 Not Found", Content_Length=0))
        return True

    async def _bomb(self, name: str, writer: Writer) -> bool:
        encoding = name.split("-")[0]
        body = await asyncio.to_thread(bomb, encoding, self.bomb_size)
        writer.write(_head(Content_Type="application/json", Content_Encoding=encoding,
                           Content_Length=len(body)))
        await self._body(name, writer, body)
        return False

    async def _junk(self, name: str, writer: Writer) -> bool:
        await self._body(name, writer, JUNK)  # no status line at all: bytes of another protocol
        return False

    async def _bad_status(self, name: str, writer: Writer) -> bool:
        writer.write(b"HTTP/1.1 2x0 \x00\xffWhat\r\nContent-Length: 2\r\n\r\nok")
        return False

    async def _lying_length(self, name: str, writer: Writer) -> bool:
        writer.write(_head(Content_Type="application/json", Content_Length=100_000))
        await self._body(name, writer, b'{"generated_at": "2026')  # far less than promised, then close
        return False

    async def _cut_head(self, name: str, writer: Writer) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: applic")  # the head stops mid-line, then close
        return False

    async def _hang_up(self, name: str, writer: Writer) -> bool:
        return False  # reads the request, closes without a byte

    async def _huge_header(self, name: str, writer: Writer) -> bool:
        filler = b"a" * HUGE_HEADER
        writer.write(b"HTTP/1.1 200 OK\r\nX-Filler: " + filler + b"\r\nContent-Length: 2\r\n\r\nok")
        return False

    async def _many_headers(self, name: str, writer: Writer) -> bool:
        lines = b"".join(b"X-H%d: %d\r\n" % (n, n) for n in range(20_000))
        writer.write(b"HTTP/1.1 200 OK\r\n" + lines + b"Content-Length: 2\r\n\r\nok")
        return False

    async def _slow_body(self, name: str, writer: Writer) -> bool:
        writer.write(_head(Content_Type="application/json", Transfer_Encoding="chunked"))
        writer.write(b"1\r\n{\r\n")
        while True:  # one space every 50 ms, forever: never too large, never done
            await asyncio.sleep(0.05)
            writer.write(b"1\r\n \r\n")
            self.sent[name] += 1
            await writer.drain()

    async def _endless(self, name: str, writer: Writer) -> bool:
        writer.write(_head(Content_Type="application/json", Transfer_Encoding="chunked"))
        chunk = b"%x\r\n%s\r\n" % (_CHUNK, b" " * _CHUNK)
        while True:  # as fast as the client reads, forever
            writer.write(chunk)
            self.sent[name] += _CHUNK
            await writer.drain()

    async def _bad_chunked(self, name: str, writer: Writer) -> bool:
        writer.write(_head(Content_Type="application/json", Transfer_Encoding="chunked"))
        await self._body(name, writer, b"zz\r\n\x00\x9f\x92garbage\r\n0\r\n\r\n")
        return False

    async def _bad_gzip(self, name: str, writer: Writer) -> bool:
        body = b"\x1f\x8b\x08\x00 this is not gzip at all \xff\xfe" * 10
        writer.write(_head(Content_Type="application/json", Content_Encoding="gzip",
                           Content_Length=len(body)))
        await self._body(name, writer, body)
        return False

    async def _junk_json(self, name: str, writer: Writer) -> bool:
        body = b"\x00\x01\x1b[2Joops not json\xff\xfe\x07"  # a 200 with a body of control bytes
        writer.write(_head(Content_Type="application/json", Content_Length=len(body)))
        await self._body(name, writer, body)
        return True

    async def _big_json(self, name: str, writer: Writer) -> bool:
        body = b'{"generated_at": "2026-01-01T00:00:00Z", "pad": "' + b"x" * (4 * MB) + b'"}'
        writer.write(_head(Content_Type="application/json", Content_Length=len(body)))
        await self._body(name, writer, body)
        return True


Behaviour = Callable[[HostileHttp, str, Writer], Awaitable[bool]]

BEHAVIOURS: dict[str, Behaviour] = {
    "ok": HostileHttp._ok,
    "gzip-bomb": HostileHttp._bomb,
    "deflate-bomb": HostileHttp._bomb,
    "junk": HostileHttp._junk,
    "bad-status": HostileHttp._bad_status,
    "lying-length": HostileHttp._lying_length,
    "cut-head": HostileHttp._cut_head,
    "hang-up": HostileHttp._hang_up,
    "huge-header": HostileHttp._huge_header,
    "many-headers": HostileHttp._many_headers,
    "slow-body": HostileHttp._slow_body,
    "endless": HostileHttp._endless,
    "bad-chunked": HostileHttp._bad_chunked,
    "bad-gzip": HostileHttp._bad_gzip,
    "junk-json": HostileHttp._junk_json,
    "big-json": HostileHttp._big_json,
}
GARBAGE = [name for name in BEHAVIOURS if name != "ok"]


def serve_forever(port: int, bomb_size: int = BOMB_SIZE) -> None:
    """Run the stand-in on `port` until the process is ended (for a benchmark's child process)."""
    async def main() -> None:
        server = HostileHttp(port, bomb_size)
        await asyncio.to_thread(bomb, "gzip", bomb_size)
        await asyncio.to_thread(bomb, "deflate", bomb_size)
        await server.start()
        await asyncio.Event().wait()

    asyncio.run(main())
