"""Small web3 helpers: connect, deploy an artifact, snapshot / revert, move time, and the one
decoder of contract reverts every command uses (``describe_revert``): a custom error is printed
by its name and arguments, decoded from the project's ABIs, with what to do next; never as a raw
selector."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError
from web3.types import RPCEndpoint, TxReceipt

from scripts.compile import Artifact, compile_project


class TransactionFailedError(RuntimeError):
    """A transaction was mined but reverted."""


class RevertedError(RuntimeError):
    """A contract call or transaction reverted; the message names the error and what to do."""

    def __init__(self, what: str, error: DecodedError | None, detail: str = "") -> None:
        self.what = what
        self.error = error
        reason = str(error) if error else (detail or "no reason given")
        advice = f" — {error.advice}" if error and error.advice else ""
        super().__init__(f"{what} reverted with {reason}{advice}")


# What a person can do about each of the contracts' custom errors (contracts/Events.sol Errors,
# TestUSDC, Blob). A test checks that every error in the ABIs has an entry.
ADVICE: dict[str, str] = {
    "InvalidParams": "the deployment's parameters or contract addresses are invalid",
    "NotOwner": "only the rollup's governor may do this",
    "NotValidator": "only a validator may commit or revert batches (check --sender)",
    "ZeroAddress": "give a non-zero address",
    "AccountIndexOutOfRange": "the account index is beyond the account tree of this deployment",
    "NotAccountOwner": "send it from the L1 address that owns the account (--sender)",
    "AmountOutOfRange": "give an amount greater than zero",
    "DepositTooSmall": "deposit at least the rollup's minimum deposit",
    "PriorityQueueFull": "too many requests are queued; wait for the operator to process some",
    "ForcedRequestPending": "this account already has a forced request queued; wait for it",
    "InvalidOrder": "check the market, the flags, the price and the size of the order",
    "TradingNotEnabled": "this deployment does not prove that forced request yet",
    "InvalidPubkey": "give a valid compressed L2 public key",
    "TokenTransferFailed": "the token transfer failed: check the balance and the approval",
    "BatchInfoMismatch": "the stored batch info given is not L1's; re-read it from the events",
    "WrongBatchNumber": "batches are committed, verified and executed in order; re-read L1",
    "TimestampNotMonotonic": "a batch's timestamp may not be before the previous batch's",
    "TimestampOutOfRange": "the batch's timestamp is too old or too far ahead of L1's clock; "
    "re-seal the block with a fresh timestamp",
    "RootNotInField": "a state root must be below the BLS12-381 scalar field order",
    "WrongPubdataLength": "the pubdata must be ops_per_block records of 64 bytes",
    "TooManyPriorityRequests": "the batch consumes requests that were never queued",
    "PriorityHashMismatch": "the batch's requests differ from the queue's; rebuild the block",
    "InvalidProof": "the proof does not verify against the deployed verifier: the proving key "
    "is not the deployment's, or the state is not the last verified one",
    "BatchNotVerified": "execute a batch only after its proof was accepted",
    "BatchAlreadyVerified": "a verified batch cannot be reverted",
    "WithdrawalsMismatch": "the withdrawals given are not the batch's; take them from its pubdata",
    "NothingToRevert": "give at least one batch to revert",
    "NothingToWithdraw": "this address has no pending balance",
    "DesertModeActive": "the rollup is frozen: use `zkperp exit` and `zkperp desert refund`",
    "DesertModeInactive": "desert mode is not active yet: `zkperp desert activate` once a "
    "priority request is overdue",
    "NoExpiredPriorityRequest": "no queued request is overdue yet; desert mode cannot start",
    "WrongRequestCount": "the requests given are not the outstanding ones; re-read the queue",
    "RequestMismatch": "a request given differs from the queued one; re-read the events",
    "AlreadyExited": "this account has exited already; its owner withdraws the pending balance",
    "ReservedAccount": "the insurance fund and the funding pool never exit (PROTOCOL 9.4)",
    "Reentrancy": "re-entrant call refused",
    "ChallengeOnDomain": "the batch's challenge fell on the blob domain (probability 4096/r); "
    "re-seal the block with another timestamp",
    "PrecompileFailed": "an L1 precompile (modexp, point evaluation) failed: check the hardfork",
    "NoBlob": "the blob path's commitBatch must be a type-3 transaction carrying the batch's blob",
    "OpeningInvalid": "the KZG opening does not verify: recompute y and the proof at the "
    "batch's challenge for this very blob (sequencer.kzg)",
    "L1RecordsMalformed": "the L1 records are not slot-indexed 66-byte entries in slot order, "
    "priority requests and L1 withdrawals only: take them from protocol.blob.get_l1_records",
    "WrongDataPath": "the batch's data does not follow the deployment's path: pubdata in "
    "calldata without a blob opening, or a blob opening (128 bytes) without pubdata",
    "NotMinter": "only the token's minter may mint",
    "InsufficientFunds": "the token balance or allowance is too small",
}


@dataclass(frozen=True)
class DecodedError:
    """A custom error decoded from revert data: its name and named arguments."""

    name: str
    args: tuple[tuple[str, Any], ...]

    @property
    def advice(self) -> str:
        return ADVICE.get(self.name, "")

    def __str__(self) -> str:
        body = ", ".join(f"{k}={_show(v)}" if k else _show(v) for k, v in self.args)
        return f"{self.name}({body})"


def _show(value: Any) -> str:
    return "0x" + value.hex() if isinstance(value, bytes) else str(value)


ErrorTable = dict[bytes, tuple[str, tuple[str, ...], tuple[str, ...]]]


@cache
def get_error_table() -> ErrorTable:
    """selector -> (name, argument types, argument names) for every custom error of the
    project's contracts."""
    return build_error_table(a.abi for a in compile_project().values())


def build_error_table(abis: Iterable[list[dict[str, Any]]]) -> ErrorTable:
    """selector -> (name, argument types, argument names) of the errors in ``abis``."""
    table = {}
    for abi in abis:
        for item in abi:
            if item.get("type") != "error":
                continue
            types = tuple(i["type"] for i in item["inputs"])
            names = tuple(i.get("name", "") for i in item["inputs"])
            signature = f"{item['name']}({','.join(types)})"
            table[keccak(text=signature)[:4]] = (item["name"], types, names)
    return table


def decode_error(data: bytes | str | None, table: ErrorTable | None = None) -> DecodedError | None:
    """The custom error in revert ``data`` (bytes or 0x-hex), or None if it is not one of
    ``table``'s (default: the project's contracts')."""
    if isinstance(data, str):
        try:
            data = bytes.fromhex(data.removeprefix("0x"))
        except ValueError:
            return None
    if not data or len(data) < 4:
        return None
    entry = (get_error_table() if table is None else table).get(data[:4])
    if entry is None:
        return None
    name, types, names = entry
    try:
        values = abi_decode(list(types), data[4:]) if types else ()
    except DecodingError:
        return None
    return DecodedError(name, tuple(zip(names, values, strict=True)))


def describe_revert(what: str, error: BaseException) -> RevertedError | None:
    """``error`` (or one it was raised from) as a RevertedError naming the contract's error;
    None when no contract revert is behind it."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, RevertedError):
            return seen
        if isinstance(seen, ContractCustomError):
            data = seen.data if isinstance(seen.data, str | bytes) else str(seen.data)
            return RevertedError(what, decode_error(data), f"unknown error {data!s:.10}")
        if isinstance(seen, ContractLogicError):
            return RevertedError(what, decode_error(_data_of(seen)), seen.message or "")
        seen = seen.__cause__ or seen.__context__
    return None


def _data_of(error: ContractLogicError) -> Any:
    data = error.data
    return data if isinstance(data, str | bytes) else None


def send(w3: Web3, fn: ContractFunction, sender: str, what: str) -> TxReceipt:
    """Sends ``fn`` from ``sender`` and waits for it; RevertedError (decoded) if it would
    revert or did (a mined revert is replayed with eth_call at its block to read the error)."""
    try:
        tx_hash = fn.transact({"from": sender})
    except (ContractLogicError, Web3RPCError) as e:
        raise (describe_revert(what, e) or RevertedError(what, None, str(e))) from e
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    if receipt["status"] != 1:
        try:
            fn.call({"from": sender}, block_identifier=receipt["blockNumber"])
        except ContractLogicError as e:
            raise (describe_revert(what, e) or RevertedError(what, None, str(e))) from e
        raise RevertedError(what, None, f"a revert (tx {tx_hash.to_0x_hex()})")
    return receipt


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
