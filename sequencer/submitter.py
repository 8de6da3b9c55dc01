"""The L1 submitter: ``commitBatch`` -> ``verifyBatch`` -> ``executeBatch``, each receipt checked,
or the three in one transaction (``commitVerifyExecuteBatch``) for a batch proven beforehand.

L1 is the truth about what was submitted: the batch counters of the contract say which step a
batch needs next, and a batch's ``StoredBatchInfo`` is read back from its ``BatchCommitted``
event and checked against the hash the contract stored (``storedBatchHashes``), so a restarted
operator picks up exactly where the chain is. Gas used is kept per batch and step for the
figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_abi import encode
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD
from web3.types import TxReceipt

from protocol import pubdata
from protocol.blob import DataAvailability, compute_batch_data, get_l1_records
from sequencer import kzg
from sequencer.blob_tx import BlobSidecar, send_blob_transaction

STORED_BATCH_INFO = "(uint64,uint64,uint64,uint256,uint256,uint256,uint256,bytes32)"
# ``commitBatch`` refuses a batch whose timestamp lags the L1 block's by more than this
# (contracts/Config.sol, BATCH_TIMESTAMP_MAX_AGE).
BATCH_TIMESTAMP_MAX_AGE_S = 24 * 3600
BLOB_COMMIT_GAS = 2_000_000  # the blob path's commitBatch uses far less (docs/PERFORMANCE.md)
ONE_CALL = "commit+verify+execute"  # the step name of commitVerifyExecuteBatch


class SubmitError(RuntimeError):
    """A transaction reverted (or would revert); the message names the step and the batch."""


@dataclass(frozen=True)
class StoredBatchInfo:
    """What L1 keeps of a committed batch (``Storage.StoredBatchInfo``)."""

    batch_number: int
    timestamp: int
    priority_requests: int
    state_root: int
    data_hash: int  # d: the digest of the posted data and the L1 records (PROTOCOL 9.9)
    challenge: int  # z, the block circuit's
    evaluation: int  # e = y + z^4096 y_l1, the data's polynomials at z
    withdrawals_hash: bytes

    def as_tuple(self) -> tuple[int, int, int, int, int, int, int, bytes]:
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
            int(args["dataHash"]),
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
    """Sends the steps of each batch from ``sender`` (a validator) and checks receipts."""

    w3: Web3
    rollup: Contract
    sender: str
    # batch number -> step ("commit", ..., or ONE_CALL) -> gas used, summed over its tries
    gas: dict[int, dict[str, int]] = field(default_factory=dict)
    key: str | None = None  # the sender's private key: blob transactions are signed here

    @property
    def data(self) -> DataAvailability:
        """The deployment's data path (``Config.blobData``)."""
        blobs = bool(self.rollup.functions.blobData().call())
        return DataAvailability.BLOBS if blobs else DataAvailability.CALLDATA

    def commit(self, last: StoredBatchInfo, number: int, timestamp: int, root: int,
               data: bytes, proof: bytes | None = None) -> StoredBatchInfo:  # fmt: skip
        """Commits batch ``number`` after ``last`` with its pubdata ``data`` on the deployment's
        path (a type-3 transaction carrying its blob, or calldata), at the challenge the block
        circuit derives (``protocol.blob.compute_batch_data``); returns its info as L1 stored
        it. With the batch's ``proof``, commits, verifies and executes it in one transaction
        (``commitVerifyExecuteBatch``: every earlier batch verified, and executed for this one
        to execute)."""
        mode = self.data
        source = kzg.compute_source_hash(mode, data)
        z = compute_batch_data(source, data, timestamp, last.state_root, root).challenge
        head = (number, timestamp, root, get_l1_records(data), z)
        f = self.rollup.functions
        step, call, extra = "commit", f.commitBatch, tuple[bytes, ...]()
        if proof is not None:
            step, call, extra = ONE_CALL, f.commitVerifyExecuteBatch, (proof,)
        if mode is DataAvailability.CALLDATA:
            fn = call(last.as_tuple(), (*head, data, b""), *extra)
            receipt = self._send(step, number, fn)
        else:
            opening = kzg.open_blob(data, z)
            kzg_proof = opening.y.to_bytes(32, "big") + opening.commitment + opening.proof
            fn = call(last.as_tuple(), (*head, b"", kzg_proof), *extra)
            receipt = self._send_blob(step, number, fn, opening.blob)
        (event,) = self.rollup.events.BatchCommitted().process_receipt(receipt, errors=DISCARD)
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

    def _send_blob(self, step: str, number: int, fn: ContractFunction, blob: bytes) -> TxReceipt:
        """Sends ``fn`` as a type-3 transaction carrying ``blob``, signed with ``key``."""
        if self.key is None:
            raise SubmitError(f"{step} of batch {number}: blob transactions need the sender's key")
        # no gas estimate: eth_estimateGas carries no blob (blobhash(0) would be zero)
        call = {"to": fn.address, "data": fn._encode_transaction_data(), "gas": BLOB_COMMIT_GAS}
        tx_hash = send_blob_transaction(self.w3, call, self.key, BlobSidecar.of([blob]))
        return self._check(step, number, tx_hash)

    def _send(self, step: str, number: int, fn: ContractFunction) -> TxReceipt:
        try:
            tx_hash = fn.transact({"from": self.sender})
        except ContractLogicError as e:
            raise SubmitError(f"{step} of batch {number} would revert: {e}") from e
        return self._check(step, number, tx_hash)

    def _check(self, step: str, number: int, tx_hash: HexBytes) -> TxReceipt:
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        steps = self.gas.setdefault(number, {})
        steps[step] = steps.get(step, 0) + int(receipt["gasUsed"])  # a reverted try costs too
        if receipt["status"] != 1:
            raise SubmitError(f"{step} of batch {number} reverted (tx {tx_hash.to_0x_hex()})")
        return receipt
