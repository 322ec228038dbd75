"""Azurite's blob service on loopback, in memory, for the tests that need Azure Blob Storage.

Use it by importing the fixture into a test module (`from tests.support.azurite import start_azurite_blob`)
and asking for `azurite_blob`, the connection string.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ports import free_port
from tests.support.repository import ROOT

TOOLS = ROOT / ".tools"
INSTALL = f"npm install --prefix {TOOLS} azurite@3"
ACCOUNT = "devstoreaccount1"
# Azurite's published development key: not a secret, every emulator install has the same one
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def connection_string(port: int, key: str = ACCOUNT_KEY, host: str = "127.0.0.1") -> str:
    return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={key};"
            f"BlobEndpoint=http://{host}:{port}/{ACCOUNT};")


def _azurite_blob() -> Path | None:
    """The azurite-blob launcher, installing it into .tools with npm when only npm is there."""
    local = TOOLS / "node_modules" / ".bin" / "azurite-blob"
    if local.exists():
        return local
    found = shutil.which("azurite-blob")
    if found:
        return Path(found)
    npm = shutil.which("npm")
    if npm is None:
        return None
    try:
        subprocess.run([npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(TOOLS),
                        "azurite@3"], check=True, capture_output=True, timeout=300)
    except (subprocess.SubprocessError, OSError):
        return None
    return local if local.exists() else None


def _wait_until_listening(process: subprocess.Popen, port: int, log: Path, within: float = 30) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"azurite-blob exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)  # waiting for the server this fixture started
    pytest.fail(f"azurite-blob did not listen on port {port} within {within:g}s:\n"
                f"{log.read_text()[-2000:]}")


@pytest.fixture(scope="session", name="azurite_blob")
def start_azurite_blob(tmp_path_factory) -> Iterator[str]:
    """The connection string of a fresh Azurite blob service (dev account), stopped afterwards."""
    launcher = _azurite_blob()
    if launcher is None:
        pytest.skip(f"Azurite is not installed and could not be: install Node.js and run `{INSTALL}`")
    port = free_port()
    # in-memory persistence refuses --location, so Azurite runs inside its own temporary folder
    workspace = tmp_path_factory.mktemp("azurite")
    log = workspace / "azurite.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(launcher), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--skipApiVersionCheck",
             "--inMemoryPersistence", "--extentMemoryLimit", "256", "--disableTelemetry", "--loose"],
            cwd=workspace, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        _wait_until_listening(process, port, log)
        yield connection_string(port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
