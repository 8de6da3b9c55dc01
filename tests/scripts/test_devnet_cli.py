"""`zkperp devnet up / status / down` from the shell, as a user runs them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.devnet import HOST, rpc_call


def zkperp(build: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ZKPERP_BUILD_DIR": str(build), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "scripts.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.mark.devnet
def test_up_status_down(tmp_path: Path) -> None:
    up = zkperp(tmp_path, "devnet", "up")
    assert up.returncode == 0, up.stdout + up.stderr
    manifest = json.loads((tmp_path / "devnet.json").read_text())
    try:
        assert manifest["rpc_url"] in up.stdout
        assert "31337" in up.stdout
        assert int(rpc_call(manifest["rpc_url"], "eth_chainId"), 16) == 31337
        assert len(manifest["accounts"]) == 10

        status = zkperp(tmp_path, "devnet", "status")
        assert status.returncode == 0 and "running" in status.stdout

        again = zkperp(tmp_path, "devnet", "up")
        assert again.returncode == 1
        assert "already running" in again.stdout
    finally:
        down = zkperp(tmp_path, "devnet", "down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert not (tmp_path / "devnet.json").exists()
    assert zkperp(tmp_path, "devnet", "status").returncode == 1


@pytest.mark.devnet
def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind((HOST, 0))
        s.listen()
        port = s.getsockname()[1]
        result = zkperp(tmp_path, "devnet", "up", "--port", str(port))
    assert result.returncode == 1
    assert f"port {port}" in result.stdout and "in use" in result.stdout
    assert not (tmp_path / "devnet.json").exists()


@pytest.mark.parametrize("cmd", ["status", "down"])
def test_status_and_down_without_devnet(tmp_path: Path, cmd: str) -> None:
    result = zkperp(tmp_path, "devnet", cmd)
    assert result.returncode == 1
    assert "no build/devnet.json" in result.stdout
