"""Contract folders as container platforms mount them (symlinked folders, a Kubernetes
ConfigMap's `..data` links), and a daemon that has no valid contract saying so."""

from __future__ import annotations

import logging
import os
import textwrap
from pathlib import Path

import aiohttp
from aiohttp import web

from monitor.config.loading import KINDS, load_config
from monitor.contracts import load_contracts
from monitor.contracts.loader import contract_files
from monitor.daemon.endpoints import make_app
from monitor.daemon.runner import assemble
from tests.support.daemon import HEARTBEAT_PRODUCT, write_config
from tests.support.ports import free_port


def configmap(mount: Path, files: dict[str, str], stamp: str = "..2026_12_03_10_00") -> Path:
    """`mount` laid out as the kubelet mounts a ConfigMap: the files in a hidden timestamped
    folder, `..data` linked to it, and each name linked through `..data`."""
    mount.mkdir(parents=True, exist_ok=True)
    (mount / stamp).mkdir()
    for name, text in files.items():
        (mount / stamp / name).write_text(textwrap.dedent(text), encoding="utf-8")
    if (mount / "..data").is_symlink():
        (mount / "..data_tmp").symlink_to(stamp)
        os.replace(mount / "..data_tmp", mount / "..data")  # the kubelet's atomic swap
    else:
        (mount / "..data").symlink_to(stamp)
    for name in files:
        if not (mount / name).is_symlink():
            (mount / name).symlink_to(Path("..data") / name)
    return mount


def test_a_configmap_mount_loads_each_contract_once(tmp_path):
    mount = configmap(tmp_path / "contracts", {"cart.yaml": HEARTBEAT_PRODUCT})
    assert contract_files([mount]) == [mount / "cart.yaml"]
    registry = load_contracts([mount], KINDS)
    assert registry.problems == []
    assert list(registry.products) == ["cart/events"]


def test_a_contracts_folder_that_is_a_symlink_is_followed(tmp_path):
    real = tmp_path / "elsewhere"
    write_config(real, {"cart.yaml": HEARTBEAT_PRODUCT})
    config = tmp_path / "config"
    config.mkdir()
    (config / "meshwatch.yaml").write_text("")
    (config / "contracts").symlink_to(real / "contracts")
    loaded = load_config(config)
    assert loaded.problems == []
    assert list(loaded.registry.products) == ["cart/events"]


def test_a_symlink_loop_ends_and_a_file_linked_twice_is_loaded_once(tmp_path):
    folder = tmp_path / "contracts"
    write_config(tmp_path, {"cart.yaml": HEARTBEAT_PRODUCT})
    (folder / "again").symlink_to(folder)  # a loop back to the folder itself
    (folder / "also-cart.yaml").symlink_to(folder / "cart.yaml")
    assert contract_files([folder]) == [folder / "also-cart.yaml"]  # sorted: the first name wins
    registry = load_contracts([tmp_path], KINDS)
    assert registry.problems == []
    assert list(registry.products) == ["cart/events"]


async def test_a_configmap_update_is_reloaded(tmp_path, store):
    config = tmp_path / "config"
    config.mkdir()
    (config / "meshwatch.yaml").write_text("")
    configmap(config / "contracts", {"cart.yaml": HEARTBEAT_PRODUCT})
    daemon = assemble(load_config(config), store, alerting=False).daemon
    daemon._fingerprint = daemon._config_fingerprint()
    configmap(config / "contracts", {"cart.yaml": HEARTBEAT_PRODUCT.replace("interval: 15m",
                                                                            "interval: 20m")},
              stamp="..2026_12_03_11_00")
    assert daemon._config_fingerprint() != daemon._fingerprint
    assert await daemon.reload()
    assert daemon.products["cart/events"].port("pipeline").interval.total_seconds() == 1200
    await daemon.stop()


async def test_a_daemon_without_a_valid_contract_says_so_on_healthz_and_in_its_log(
        tmp_path, store, caplog):
    config = write_config(tmp_path / "config", {"bad.yaml": "apiVersion: meshwatch/v1\n"})
    parts = assemble(load_config(config), store, alerting=False)
    daemon = parts.daemon
    runner = web.AppRunner(make_app(daemon))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        with caplog.at_level(logging.WARNING, logger="meshwatch.daemon"):
            await daemon.start()
        async with aiohttp.ClientSession() as session, \
                session.get(f"http://127.0.0.1:{port}/healthz") as answer:
            document = await answer.json()
    finally:
        await daemon.stop()
        await runner.cleanup()
    expected = (f"no valid contract in {config}: nothing is monitored (3 problem(s) refuse its "
                f"files, see config_problems)")
    assert (document["contracts"], document["warning"]) == (0, expected)
    assert document["status"] == "ok"  # additive: the daemon itself is healthy
    assert expected in [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_a_daemon_with_contracts_has_no_warning(tmp_path, store):
    config = write_config(tmp_path / "config", {"cart.yaml": HEARTBEAT_PRODUCT})
    daemon = assemble(load_config(config), store, alerting=False).daemon
    daemon._apply(daemon.config)
    document = daemon.health_document()
    assert (document["contracts"], document["warning"]) == (1, None)
