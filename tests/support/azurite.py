"""Azurite's blob service for the tests that need Azure Blob Storage: the demo's launcher
(monitor/demo/azurite.py) as a session fixture.

Use it by importing the fixture into a test module (`from tests.support.azurite import
start_azurite_blob`) and asking for `azurite_blob`, the connection string; `new_container` makes
an empty container of its own in it.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient, ContainerClient

from monitor.demo.azurite import INSTALL, TOOLS, Azurite, find_azurite
from tests.support.ports import free_port


def _azurite_blob() -> Path | None:
    """The azurite-blob launcher, installing it into .tools with npm when only npm is there."""
    found = find_azurite()
    if found is not None:
        return found
    npm = shutil.which("npm")
    if npm is None:
        return None
    try:
        subprocess.run([npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(TOOLS),
                        "azurite@3"], check=True, capture_output=True, timeout=300)
    except (subprocess.SubprocessError, OSError):
        return None
    return find_azurite()


@pytest.fixture(scope="session", name="azurite_blob")
def start_azurite_blob(tmp_path_factory) -> Iterator[str]:
    """The connection string of a fresh Azurite blob service (dev account), stopped afterwards."""
    launcher = _azurite_blob()
    if launcher is None:
        pytest.skip(f"Azurite is not installed and could not be: install Node.js and run `{INSTALL}`")
    azurite = Azurite(free_port(), launcher, folder=tmp_path_factory.mktemp("azurite"))
    try:
        azurite.start()
    except RuntimeError as error:
        pytest.fail(str(error))
    try:
        yield azurite.connection_string
    finally:
        azurite.stop()


def new_container(connection_string: str, prefix: str) -> Iterator[ContainerClient]:
    """A new, empty container `prefix-…` in Azurite, deleted afterwards (for a fixture to yield from)."""
    service = BlobServiceClient.from_connection_string(connection_string)
    client = service.create_container(f"{prefix}-{uuid.uuid4().hex[:12]}")
    try:
        yield client
    finally:
        client.delete_container()
        service.close()
