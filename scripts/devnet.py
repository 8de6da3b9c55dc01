"""The local devnet: Anvil from npm, on a loopback port, with the EIP-2537 precompiles (Prague).

Readiness is found by polling ``eth_chainId`` while checking that the process is still alive,
never by a fixed sleep. ``zkperp devnet up`` leaves Anvil running in its own session and records
it in ``build/devnet.json`` (the manifest), which ``status`` and ``down`` read.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.paths import ANVIL, BUILD, DEVNET_MANIFEST, require

HOST = "127.0.0.1"
CHAIN_ID = 31337
HARDFORK = "prague"
# Anvil's account 0 (its default mnemonic): the devnet's validator. Public knowledge, devnet
# only; the blob path signs its type-3 transactions with it (sequencer.blob_tx).
DEV_VALIDATOR_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
START_TIMEOUT_S = 30.0


class DevnetError(RuntimeError):
    """The devnet could not be started, found or stopped; the message says why."""


@dataclass
class Devnet:
    """A running Anvil process."""

    rpc_url: str
    chain_id: int
    pid: int
    port: int
    state_file: str | None = None
    log_file: str | None = None
    accounts: list[str] = field(default_factory=list)
    contracts: dict[str, dict[str, str]] = field(default_factory=dict)
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)

    def to_manifest(self) -> dict[str, Any]:
        return {
            "rpc_url": self.rpc_url,
            "chain_id": self.chain_id,
            "pid": self.pid,
            "port": self.port,
            "state_file": self.state_file,
            "log_file": self.log_file,
            "accounts": self.accounts,
            "contracts": self.contracts,
        }

    def stop(self, timeout: float = 10.0) -> None:
        """Stop Anvil cleanly (SIGTERM lets it dump --state), then wait for it."""
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
            return
        _terminate_pid(self.pid, timeout)


def rpc_call(url: str, method: str, params: list[Any] | None = None, timeout: float = 5.0) -> Any:
    """One JSON-RPC call over HTTP; raises DevnetError on an RPC error."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    req = urllib.request.Request(
        url, data=body.encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        reply = json.loads(resp.read())
    if "error" in reply:
        raise DevnetError(f"{method}: {reply['error']}")
    return reply["result"]


def find_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def is_port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return True
    return False


def start(
    port: int | None = None,
    state_file: Path | None = None,
    detach: bool = False,
    log_file: Path | None = None,
    block_time: int | None = None,
) -> Devnet:
    """Start Anvil and wait until it answers ``eth_chainId``.

    ``detach`` starts it in a new session so that it outlives this process (the CLI's ``up``).
    """
    anvil = require(ANVIL, "anvil (npm @foundry-rs/anvil-linux-amd64)")
    if port is None:
        port = find_free_port()
    elif is_port_in_use(port):
        raise DevnetError(f"port {port} on {HOST} is already in use; choose another with --port")
    cmd = [str(anvil), "--host", HOST, "--port", str(port), "--chain-id", str(CHAIN_ID)]
    cmd += ["--hardfork", HARDFORK, "--gas-limit", "60000000", "--code-size-limit", "200000"]
    if block_time:
        cmd += ["--block-time", str(block_time)]
    if state_file is not None:
        cmd += ["--state", str(state_file)]
    log = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115
    try:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=detach
        )
    finally:
        if log_file:
            log.close()  # type: ignore[union-attr]
    url = f"http://{HOST}:{port}"
    try:
        chain_id = _wait_ready(proc, url)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    accounts = rpc_call(url, "eth_accounts")
    return Devnet(
        rpc_url=url,
        chain_id=chain_id,
        pid=proc.pid,
        port=port,
        state_file=str(state_file) if state_file else None,
        log_file=str(log_file) if log_file else None,
        accounts=accounts,
        _proc=None if detach else proc,
    )


def _wait_ready(proc: subprocess.Popen[bytes], url: str) -> int:
    deadline = time.monotonic() + START_TIMEOUT_S
    delay = 0.01
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            raise DevnetError(f"anvil exited with code {code} before it was ready")
        with contextlib.suppress(urllib.error.URLError, ConnectionError, OSError):
            return int(rpc_call(url, "eth_chainId", timeout=1.0), 16)
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
    raise DevnetError(f"anvil did not answer at {url} within {START_TIMEOUT_S:.0f} s")


@contextlib.contextmanager
def running(port: int | None = None, state_file: Path | None = None) -> Iterator[Devnet]:
    """A devnet for the duration of a ``with`` block."""
    net = start(port=port, state_file=state_file)
    try:
        yield net
    finally:
        net.stop()


# -- the manifest (build/devnet.json) ----------------------------------------------------------


def read_manifest(path: Path = DEVNET_MANIFEST) -> dict[str, Any] | None:
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def write_manifest(net: Devnet, path: Path = DEVNET_MANIFEST) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(net.to_manifest(), indent=2))
    tmp.replace(path)


def update_manifest_contracts(
    contracts: dict[str, dict[str, str]], path: Path = DEVNET_MANIFEST
) -> None:
    """Record deployed contracts (name -> {address, abi}) in the manifest."""
    data = read_manifest(path)
    if data is None:
        raise DevnetError(f"no devnet manifest at {path}; run `zkperp devnet up` first")
    data["contracts"] = {**data.get("contracts", {}), **contracts}
    path.write_text(json.dumps(data, indent=2))


def is_alive(manifest: dict[str, Any]) -> bool:
    """Whether the manifest's Anvil process exists and answers with its chain id."""
    if not _pid_alive(int(manifest.get("pid", 0))):
        return False
    try:
        return int(rpc_call(manifest["rpc_url"], "eth_chainId", timeout=2.0), 16) == int(
            manifest["chain_id"]
        )
    except (urllib.error.URLError, OSError, DevnetError):
        return False


def up(port: int | None = None, state_file: Path | None = None) -> Devnet:
    """Start a detached devnet and write the manifest; refuses if one is already running."""
    manifest = read_manifest()
    if manifest is not None and is_alive(manifest):
        raise DevnetError(
            f"a devnet is already running at {manifest['rpc_url']} (pid {manifest['pid']}); "
            "run `zkperp devnet down` first"
        )
    BUILD.mkdir(parents=True, exist_ok=True)
    net = start(port=port, state_file=state_file, detach=True, log_file=BUILD / "anvil.log")
    write_manifest(net)
    return net


def down() -> dict[str, Any]:
    """Stop the manifest's devnet and remove the manifest; returns what was stopped."""
    manifest = read_manifest()
    if manifest is None:
        raise DevnetError("no devnet is running (no build/devnet.json)")
    _terminate_pid(int(manifest["pid"]), 10.0)
    DEVNET_MANIFEST.unlink(missing_ok=True)
    return manifest


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _terminate_pid(pid: int, timeout: float) -> None:
    if not _pid_alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        if not _pid_alive(pid):
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
