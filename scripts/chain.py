"""Small web3 helpers: connect, deploy an artifact, snapshot / revert, move time."""

from __future__ import annotations

from typing import Any

from web3 import Web3
from web3.contract import Contract
from web3.types import RPCEndpoint

from scripts.compile import Artifact


class TransactionFailedError(RuntimeError):
    """A transaction was mined but reverted."""


def connect(rpc_url: str) -> Web3:
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 120}))
    if not w3.is_connected():
        raise ConnectionError(f"no Ethereum node answers at {rpc_url}")
    return w3


def deploy(w3: Web3, artifact: Artifact, *args: Any, sender: str | None = None) -> Contract:
    """Deploy ``artifact`` with constructor ``args`` from ``sender`` (default: first account)."""
    sender = sender or accounts(w3)[0]
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    tx = factory.constructor(*args).transact({"from": sender})
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    if receipt["status"] != 1:
        raise TransactionFailedError(f"deploying {artifact.name} reverted")
    return w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi)  # type: ignore[return-value]


def accounts(w3: Web3) -> list[str]:
    """The node's unlocked accounts (Anvil's ten funded ones)."""
    return list(w3.eth.accounts)


def rpc(w3: Web3, method: str, *params: Any) -> Any:
    reply = w3.provider.make_request(RPCEndpoint(method), list(params))
    if "error" in reply:
        raise RuntimeError(f"{method}: {reply['error']}")
    return reply["result"]


def snapshot(w3: Web3) -> str:
    return str(rpc(w3, "evm_snapshot"))


def revert(w3: Web3, snapshot_id: str) -> None:
    if not rpc(w3, "evm_revert", snapshot_id):
        raise RuntimeError(f"evm_revert({snapshot_id}) failed")


def increase_time(w3: Web3, seconds: int) -> None:
    """Move the chain's clock forward by ``seconds`` and mine a block at the new time."""
    rpc(w3, "evm_increaseTime", seconds)
    rpc(w3, "evm_mine")
