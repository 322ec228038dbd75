"""Azurite's blob service (the Azure Storage emulator from npm) on loopback, in memory: the demo's
blob storage, and the tests'."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[2] / ".tools"  # where scripts/test installs it
INSTALL = f"npm install --prefix {TOOLS} azurite@3"
# Azurite's published development account and key: the same in every emulator, not a secret
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
               "KBHBeksoGMGw==")
# the client libraries' API versions run ahead of Azurite's; memory only, and no phoning home
OPTIONS = ["--skipApiVersionCheck", "--inMemoryPersistence", "--extentMemoryLimit", "256",
           "--disableTelemetry", "--loose"]


def connection_string(port: int, key: str = ACCOUNT_KEY, host: str = "127.0.0.1") -> str:
    return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={key};"
            f"BlobEndpoint=http://{host}:{port}/{ACCOUNT};")


def find_azurite() -> Path | None:
    """The azurite-blob launcher in .tools, else on the PATH."""
    local = TOOLS / "node_modules" / ".bin" / "azurite-blob"
    if local.exists():
        return local
    found = shutil.which("azurite-blob")
    return Path(found) if found else None


class Azurite:
    """Start with `start()`; `connection_string` then reaches it; `stop()` ends it."""

    def __init__(self, port: int, launcher: Path, folder: Path | None = None):
        self.port = port
        self.launcher = launcher
        self.process: subprocess.Popen | None = None
        # in-memory persistence refuses --location, so Azurite runs inside a folder of its own
        self.folder = folder or Path(tempfile.mkdtemp(prefix="meshwatch-azurite-"))
        self.log = self.folder / "azurite.log"

    @property
    def connection_string(self) -> str:
        return connection_string(self.port)

    def start(self, within: float = 30) -> None:
        """Returns once Azurite listens; raises RuntimeError, with its log, if it does not."""
        with self.log.open("w") as output:
            self.process = subprocess.Popen(
                [str(self.launcher), "--blobHost", "127.0.0.1", "--blobPort", str(self.port), *OPTIONS],
                cwd=self.folder, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"azurite-blob exited with {self.process.returncode}:\n"
                                   f"{self._log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)  # waiting for the server just started
        self.stop()
        raise RuntimeError(f"azurite-blob did not listen on port {self.port} within {within:g}s:\n"
                           f"{self._log_tail()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _log_tail(self) -> str:
        return self.log.read_text()[-2000:]
