"""The L1 submitter: ``commitBatch`` -> ``verifyBatch`` -> ``executeBatch``, each receipt checked.

L1 is the truth about what was submitted: the batch counters of the contract say which step a
batch needs next, and a batch's ``StoredBatchInfo`` is read back from its ``BatchCommitted``
event and checked against the hash the contract stored (``storedBatchHashes``), so a restarted
operator picks up exactly where the chain is. Gas used is kept per step for the figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_abi import encode
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractLogicError
from web3.types import TxReceipt

from protocol import pubdata

STORED_BATCH_INFO = "(uint64,uint64,uint64,uint256,bytes32,uint256,uint256,bytes32)"
# ``commitBatch`` refuses a batch whose timestamp lags the L1 block's by more than this
# (contracts/Config.sol, BATCH_TIMESTAMP_MAX_AGE).
BATCH_TIMESTAMP_MAX_AGE_S = 24 * 3600


class SubmitError(RuntimeError):
    """A transaction reverted (or would revert); the message names the step and the batch."""


@dataclass(frozen=True)
class StoredBatchInfo:
    """What L1 keeps of a committed batch (``Storage.StoredBatchInfo``)."""

    batch_number: int
    timestamp: int
    priority_requests: int
    state_root: int
    data_hash: bytes  # keccak256 of the calldata pubdata
    challenge: int  # z
    evaluation: int  # y = p(z) of the batch's blob polynomial
    withdrawals_hash: bytes

    def as_tuple(self) -> tuple[int, int, int, int, bytes, int, int, bytes]:
        return (
            self.batch_number,
            self.timestamp,
            self.priority_requests,
            self.state_root,
            self.data_hash,
            self.challenge,
            self.evaluation,
            self.withdrawals_hash,
        )

    def compute_hash(self) -> bytes:
        """``keccak256(abi.encode(info))``, as ``Storage.hashStoredBatchInfo``."""
        return pubdata.keccak256(encode([STORED_BATCH_INFO], [self.as_tuple()]))

    @classmethod
    def from_event(cls, args: Any) -> StoredBatchInfo:
        return cls(
            int(args["batchNumber"]),
            int(args["timestamp"]),
            int(args["priorityRequests"]),
            int(args["stateRoot"]),
            bytes(args["dataHash"]),
            int(args["challenge"]),
            int(args["evaluation"]),
            bytes(args["withdrawalsHash"]),
        )


@dataclass(frozen=True)
class L1Progress:
    """The contract's batch counters."""

    committed: int
    verified: int
    executed: int


def get_l1_progress(rollup: Contract) -> L1Progress:
    f = rollup.functions
    return L1Progress(
        int(f.totalBatchesCommitted().call()),
        int(f.totalBatchesVerified().call()),
        int(f.totalBatchesExecuted().call()),
    )


def get_committed_event(rollup: Contract, number: int) -> Any:
    """The ``BatchCommitted`` event of batch ``number`` that L1 currently stores (an earlier
    commit of the same number that was reverted does not match the stored hash)."""
    stored = bytes(rollup.functions.storedBatchHashes(number).call())
    logs = rollup.events.BatchCommitted().get_logs(
        from_block=0, argument_filters={"batchNumber": number}
    )
    for log in reversed(logs):
        if StoredBatchInfo.from_event(log["args"]).compute_hash() == stored:
            return log
    raise SubmitError(f"no BatchCommitted event of batch {number} matches the stored hash")


def get_stored_info(rollup: Contract, number: int) -> StoredBatchInfo:
    return StoredBatchInfo.from_event(get_committed_event(rollup, number)["args"])


@dataclass
class Submitter:
    """Sends the three steps of each batch from ``sender`` (a validator) and checks receipts."""

    w3: Web3
    rollup: Contract
    sender: str
    gas: dict[str, list[int]] = field(default_factory=dict)  # step -> gas of each tx

    def commit(self, last: StoredBatchInfo, number: int, timestamp: int, root: int,
               data: bytes) -> StoredBatchInfo:  # fmt: skip
        """Commits batch ``number`` after ``last``; returns its info as L1 stored it."""
        fn = self.rollup.functions.commitBatch(last.as_tuple(), (number, timestamp, root, data))
        receipt = self._send("commit", number, fn)
        (event,) = self.rollup.events.BatchCommitted().process_receipt(receipt)
        return StoredBatchInfo.from_event(event["args"])

    def verify(self, info: StoredBatchInfo, proof: bytes) -> TxReceipt:
        fn = self.rollup.functions.verifyBatch(info.as_tuple(), proof)
        return self._send("verify", info.batch_number, fn)

    def execute(self, info: StoredBatchInfo, batch_pubdata: bytes) -> TxReceipt:
        withdrawals = pubdata.get_l1_withdrawals(batch_pubdata)
        fn = self.rollup.functions.executeBatch(info.as_tuple(), withdrawals)
        return self._send("execute", info.batch_number, fn)

    def revert(self, infos: list[StoredBatchInfo]) -> TxReceipt:
        """Drops committed, unverified batches from L1: ``infos`` newest first, starting with
        the last committed batch."""
        fn = self.rollup.functions.revertBatches([info.as_tuple() for info in infos])
        return self._send("revert", infos[-1].batch_number, fn)

    def _send(self, step: str, number: int, fn: ContractFunction) -> TxReceipt:
        try:
            tx_hash = fn.transact({"from": self.sender})
        except ContractLogicError as e:
            raise SubmitError(f"{step} of batch {number} would revert: {e}") from e
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        if receipt["status"] != 1:
            raise SubmitError(f"{step} of batch {number} reverted (tx {tx_hash.to_0x_hex()})")
        self.gas.setdefault(step, []).append(int(receipt["gasUsed"]))
        return receipt
