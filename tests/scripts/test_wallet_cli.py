"""A user's manual session from the shell, at the minimal preset: `zkperp operator run` serves
the API on a port it prints; two wallets are made, deposit and register their keys on L1,
transfer and withdraw through the API, trade on genesis market 0 (alice's bid rests, bob's sell
takes it and its claim rests the rest), force a withdrawal through L1; every block is proven
and executed on the devnet, and the reads (`account`, `batches`, `book`, `trades`) answer with
--json."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from web3 import Web3

from scripts import devnet
from scripts.commands.operator import KEYS_DIR, Deployment
from tests.sequencer.rollup_env import USDC, deploy_env

pytestmark = [pytest.mark.devnet, pytest.mark.prove]


def run(build: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ZKPERP_BUILD_DIR": str(build), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "scripts.cli", *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def read_json(build: Path, *args: str) -> Any:
    return json.loads(run(build, *args, "--json").stdout)


def wait_for(what: str, probe: Callable[[], bool], timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


@pytest.fixture
def build(w3: Web3, tmp_path: Path) -> Path:
    """A build folder with a deployment on the session devnet (the circuits' keys shared)."""
    env = deploy_env(w3, tmp_path, users=0)
    url = str(getattr(w3.provider, "endpoint_uri", ""))
    found = Deployment(url, env.config, env.rollup.address, env.token.address, env.validator,
                       env.start_block)  # fmt: skip
    found.write(tmp_path / "rollup.json")
    KEYS_DIR.mkdir(parents=True, exist_ok=True)
    (tmp_path / "keys").symlink_to(KEYS_DIR.resolve())
    return tmp_path


@pytest.fixture
def api(build: Path) -> Iterator[str]:
    """`zkperp operator run` in the background; the API's URL it prints."""
    env = {**os.environ, "ZKPERP_BUILD_DIR": str(build), "COLUMNS": "200"}
    args = ["operator", "run", "--confirmations", "0", "--interval", "0.3", "--api-port", "0"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "scripts.cli", *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            found = re.search(r"API at (http://127\.0\.0\.1:\d+)", line)
            if found:
                break
        else:
            pytest.fail(f"the operator did not start its API (exit {proc.wait()})")
        assert json.loads((build / "api.json").read_text())["url"] == found.group(1)
        yield found.group(1)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert not (build / "api.json").exists()  # the operator stopped its API on Ctrl-C


def test_a_manual_session_through_the_command_line(build: Path, api: str, w3: Web3) -> None:
    for name in ("alice", "bob"):
        run(build, "wallet", "new", name, "--usdc", "100")
    wallets = {w["name"]: w for w in read_json(build, "wallet", "list")}
    alice, bob = wallets["alice"], wallets["bob"]
    assert (alice["account"], bob["account"]) == (3, 4)
    run(build, "deposit", "alice", "40")
    run(build, "deposit", "bob", "25.5")
    run(build, "register-key", "alice")
    run(build, "register-key", "bob")

    def account(name: str) -> Any:
        done = run(build, "account", name, "--json", check=False)
        return json.loads(done.stdout) if done.returncode == 0 else None

    wait_for("both keys registered on L2", lambda: all(
        (a := account(n)) is not None and a["key_registered"] for n in ("alice", "bob")
    ))  # fmt: skip
    assert account("bob")["collateral"] == 25_500_000

    ack = read_json(build, "transfer", "alice", "bob", "5", "--client-order-id", "rent")
    assert (ack["type"], ack["nonce"], ack["client_order_id"]) == ("transfer", 0, "rent")
    assert read_json(build, "withdraw", "bob", "3")["nonce"] == 0
    assert read_json(build, "order", "place", "alice", "buy", "1", "9900")["nonce"] == 1
    # takes alice's bid of 1 lot; its claim (the next matching step) rests the other lot
    read_json(build, "order", "place", "bob", "sell", "2", "9900")
    assert read_json(build, "book", "0")["market"] == 0  # the genesis has markets 0 and 1

    # one lot at 9,900 (within the price band, which follows the index each block's market
    # slots move): bob receives it less the taker fee (500 ppm: 4.95, up to 5), alice pays it and
    # the maker fee (200 ppm: 1.98, up to 2)
    wait_for("the transfer, the withdrawal and the trade executed on L1", lambda: account(
        "bob")["collateral"] == 27_500_000 + 9_900 - 5 and read_json(
        build, "batches")[0]["status"] == "executed")  # fmt: skip
    assert account("alice")["collateral"] == 35 * USDC - 9_900 - 2
    (trade,) = read_json(build, "trades", "0")
    assert (trade["maker"], trade["taker"], trade["size"]) == (3, 4, 1)
    (rested,) = account("bob")["open_orders"]
    assert (rested["remaining"], rested["is_ask"]) == (1, True)
    latest = read_json(build, "batches")[0]
    assert latest["l1"]["verify"]["gas"] > 0 and latest["proving_seconds"] > 0
    rollup = Deployment.read(build / "rollup.json").get_rollup(w3)
    bob_l1 = Web3.to_checksum_address(bob["address"])
    assert rollup.functions.pendingBalances(bob_l1).call() == 3 * USDC
    # a new price: the modify takes the ask off the book, and its claim rests it again
    moved = read_json(build, "order", "modify", "bob", str(rested["key"]), "9950", "1")
    assert moved["type"] == "modify_order"
    wait_for("the modified ask rested at 9,950", lambda: [
        (o["price"], o["remaining"]) for o in account("bob")["open_orders"]
    ] == [(9_950, 1)])  # fmt: skip

    run(build, "forced-withdraw", "alice", "2")
    queue = httpx.get(f"{api}/v1/priority-queue").json()
    wait_for("the forced withdrawal executed", lambda: rollup.functions.pendingBalances(
        Web3.to_checksum_address(alice["address"])).call() == 2 * USDC)  # fmt: skip
    assert queue["l1_time"] is not None
    assert httpx.get(f"{api}/v1/status").json()["desert_mode"] is False
    page = httpx.get(f"{api}/", follow_redirects=True)
    assert page.status_code == 200 and "zkperp" in page.text
    assert devnet  # the session devnet of conftest is the chain all of this ran on
