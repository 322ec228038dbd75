"""`host:port` addresses of the daemon's and the exporters' listeners."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator


def split_host_port(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host or "127.0.0.1", int(port)


def _host_port(value: str) -> str:
    _, _, port = value.rpartition(":")
    if not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"{value!r} is not host:port (e.g. 127.0.0.1:8470)")
    return value


HostPort = Annotated[str, AfterValidator(_host_port)]
