"""Rebuild the public state of the last verified batch from L1 data alone.

What is read, all from the RPC: the contract's counters and ``lastVerifiedStateRoot``; the
``BatchCommitted`` events, each checked against the hash the contract stores for its batch
(``storedBatchHashes``); and each batch's pubdata, taken from its ``commitBatch`` (or
``commitVerifyExecuteBatch``) transaction (fetched by hash): its calldata on the calldata
path, or the blob it carried, read back through ``scripts.blobs`` (the beacon route, else
Anvil's method) and checked against the transaction's versioned hash. Either way the pubdata
and the L1 records must give the batch's stored digest ``d`` (PROTOCOL 9.9). Nothing comes
from the operator.

The pubdata is then replayed into a fresh genesis state with the protocol's own
``process_block``: each record becomes the operation it records, by its type's descriptor
(``protocol.ops.registry.get_operation``; signed operations get the account's next nonce and
the block's time as expiry; the records carry no signatures, so the replay does not check
them — the block proofs did), the replayed block must give back exactly the posted records
(statuses and forced-withdrawal amounts included) and each batch's state root must come out.
The final root must equal the contract's last verified root.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.contract import Contract

from protocol import blob, pubdata
from protocol.block import Block, Operation, process_block
from protocol.commitment import update_state_root
from protocol.ops.registry import BY_TYPE, decode_op, get_operation
from protocol.state import State
from scripts.blobs import get_blob_source, read_blobs
from sequencer.genesis import RollupConfig
from sequencer.submitter import StoredBatchInfo

# the rollup's calls that commit a batch, both taking it as ``newBatch`` (PROTOCOL 9.3)
COMMIT_FUNCTIONS = ("commitBatch", "commitVerifyExecuteBatch")


class ReconstructionError(RuntimeError):
    """L1 data that does not add up: a batch, its calldata, its data hash or a root."""


@dataclass(frozen=True)
class L1Batch:
    """A verified batch as L1 has it: its stored info and its pubdata (from calldata)."""

    info: StoredBatchInfo
    pubdata: bytes
    tx_hash: str


@dataclass(frozen=True)
class Reconstruction:
    """The state after the last verified batch, and what it was checked against."""

    state: State
    batch_number: int
    state_root: int  # = the contract's lastVerifiedStateRoot
    batches: tuple[L1Batch, ...]


def reconstruct(w3: Web3, rollup: Contract, config: RollupConfig) -> Reconstruction:
    """Reads the verified batches from L1, replays them and checks every root."""
    events = get_committed_events(rollup)
    genesis = config.make_genesis(check_signatures=False)
    genesis_root = events[0][0].state_root
    if update_state_root(genesis) != genesis_root:
        raise ReconstructionError("the rollup was not deployed with this genesis configuration")
    verified = int(rollup.functions.totalBatchesVerified().call())
    length = config.preset.ops_per_block * pubdata.OP_BYTES
    batches = tuple(read_batch(w3, rollup, events, n, length) for n in range(1, verified + 1))
    state = replay_batches(genesis, batches)
    root = int(rollup.functions.lastVerifiedStateRoot().call())
    if update_state_root(state) != root:
        raise ReconstructionError("the replayed state's root is not the last verified root")
    return Reconstruction(state, verified, root, batches)


def get_committed_events(rollup: Contract) -> dict[int, tuple[StoredBatchInfo, str]]:
    """Per batch number, the commit L1 currently stores: its info and its transaction hash."""
    logs = rollup.events.BatchCommitted().get_logs(from_block=0)
    out: dict[int, tuple[StoredBatchInfo, str]] = {}
    for log in logs:
        info = StoredBatchInfo.from_event(log["args"])
        stored = bytes(rollup.functions.storedBatchHashes(info.batch_number).call())
        if info.compute_hash() == stored:
            out[info.batch_number] = (info, log["transactionHash"].to_0x_hex())
    if 0 not in out:
        raise ReconstructionError("no genesis batch: is this the rollup contract?")
    return out


def read_batch(
    w3: Web3,
    rollup: Contract,
    events: dict[int, tuple[StoredBatchInfo, str]],
    number: int,
    length: int,
) -> L1Batch:
    """Batch ``number``'s ``length`` bytes of pubdata from its commitBatch transaction (the
    calldata, or the blob it carried), checked against L1's info."""
    if number not in events:
        raise ReconstructionError(f"batch {number} has no commit matching its stored hash")
    info, tx_hash = events[number]
    tx = w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
    if tx.get("to") != rollup.address:
        raise ReconstructionError(f"batch {number} was not committed by a direct call")
    fn, args = rollup.decode_function_input(tx["input"])
    if fn.fn_name not in COMMIT_FUNCTIONS:
        raise ReconstructionError(f"transaction {tx_hash} is not a commitBatch call")
    new = _as_tuple(args["newBatch"])
    if (new[0], new[1], new[2]) != (number, info.timestamp, info.state_root):
        raise ReconstructionError(f"batch {number}: the calldata is not the committed batch")
    l1_records, data = bytes(new[3]), bytes(new[5])
    if data:
        source = blob.compute_calldata_hash(data)
    else:
        source, data = _read_blob_pubdata(w3, tx, number, length)
    if blob.compute_data_hash(source, l1_records) != info.data_hash:
        raise ReconstructionError(f"batch {number}: the data does not match its digest")
    if blob.get_l1_records(data) != l1_records:
        raise ReconstructionError(f"batch {number}: the L1 records are not the pubdata's")
    return L1Batch(info, data, tx_hash)


def _read_blob_pubdata(w3: Web3, tx: Any, number: int, length: int) -> tuple[bytes, bytes]:
    """The versioned hash of the transaction's first blob and the pubdata that blob carries."""
    hashes = [bytes(h) for h in tx.get("blobVersionedHashes") or []]
    if not hashes:
        raise ReconstructionError(f"batch {number}: no calldata pubdata and no blob")
    rpc_url = str(getattr(w3.provider, "endpoint_uri", ""))
    source = get_blob_source(w3, rpc_url)
    try:
        (first,) = read_blobs(source, bytes(tx["hash"]), int(tx["blockNumber"]), hashes[:1])
        return hashes[0], blob.get_blob_pubdata(first, length)
    except blob.BlobError as e:
        raise ReconstructionError(f"batch {number}: {e}") from e


def _as_tuple(value: Any) -> tuple[Any, ...]:
    """A decoded struct argument (web3 gives a tuple or a dict-like by field name)."""
    if isinstance(value, dict):
        fields = ("batchNumber", "timestamp", "newStateRoot", "l1Records", "challenge")
        return tuple(value[f] for f in (*fields, "pubdata", "blobOpening"))
    return tuple(value)


def replay_batches(state: State, batches: Sequence[L1Batch]) -> State:
    """Applies each batch's records with ``process_block``; each must reproduce itself."""
    for batch in batches:
        number, timestamp = batch.info.batch_number, batch.info.timestamp
        records = pubdata.split_records(batch.pubdata)
        block = Block(number, timestamp, compute_operations(state, records, timestamp))
        try:
            result = process_block(state, block)
        except Exception as e:
            raise ReconstructionError(f"batch {number} does not replay: {e}") from e
        if result.records != tuple(records):
            raise ReconstructionError(f"batch {number}: the replay gives other records")
        if update_state_root(state) != batch.info.state_root:
            raise ReconstructionError(f"batch {number}: the replay gives another state root")
    return state


def compute_operations(
    state: State, records: Sequence[bytes], timestamp: int
) -> tuple[Operation, ...]:
    """The operations the records of one block record, in order (nonces counted from
    ``state``, the state before the block)."""
    used: Counter[int] = Counter()
    ops: list[Operation] = []
    for record in records:
        try:
            decoded = decode_op(record)
            if BY_TYPE[decoded.op_type].origin != pubdata.Origin.L2_SIGNED:
                ops.append(get_operation(decoded))
                continue
            account = decoded.get_int("account")
            nonce = _get_nonce(state, account) + used[account]
            used[account] += 1
            ops.append(get_operation(decoded, nonce, timestamp))
        except (pubdata.PubdataError, TypeError) as e:
            raise ReconstructionError(f"block at {timestamp}: {e}") from e
    return tuple(ops)


def _get_nonce(state: State, account: int) -> int:
    found = state.accounts.get(account)
    return 0 if found is None else found.nonce
