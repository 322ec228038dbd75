"""Azurite's blob service (the Azure Storage emulator from npm) as a local stand-in."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[2] / ".tools"
# Azurite's published development account and key: the same in every emulator, not a secret
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
               "KBHBeksoGMGw==")


def connection_string(port: int) -> str:
    return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT};")


def find_azurite() -> Path | None:
    local = TOOLS / "node_modules" / ".bin" / "azurite-blob"
    if local.exists():
        return local
    found = shutil.which("azurite-blob")
    return Path(found) if found else None


class Azurite:
    """Start with `start()`; `connection_string` then reaches it; `stop()` ends it."""

    def __init__(self, port: int, launcher: Path):
        self.port = port
        self.launcher = launcher
        self.process: subprocess.Popen | None = None
        self.folder = tempfile.mkdtemp(prefix="meshwatch-azurite-")

    @property
    def connection_string(self) -> str:
        return connection_string(self.port)

    def start(self, within: float = 30) -> None:
        log = open(Path(self.folder) / "azurite.log", "w")  # noqa: SIM115 - lives with the process
        self.process = subprocess.Popen(
            [str(self.launcher), "--blobHost", "127.0.0.1", "--blobPort", str(self.port),
             "--skipApiVersionCheck", "--inMemoryPersistence", "--extentMemoryLimit", "256",
             "--disableTelemetry", "--loose"],
            cwd=self.folder, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"azurite-blob exited: {Path(log.name).read_text()[-500:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"azurite-blob did not listen on port {self.port} within {within:g}s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
