"""The blob path of commitBatch on the devnet (Anvil, Prague): the batch's pubdata travels in
the blob of a type-3 transaction, the contract opens it at the batch's challenge with the
point-evaluation precompile and stores the digest of the versioned hash and the L1 records
(PROTOCOL 9.9). The block verifier is the stand-in of tests/contracts/support.py: a proof binds
its six public inputs, so a batch verifies only with the inputs the honest circuit outputs for
the very data the blob carries."""

from __future__ import annotations

import pytest
from eth_utils import keccak
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from protocol import blob, pubdata
from protocol.blob import DataAvailability
from sequencer import kzg
from sequencer.blob_tx import BlobSidecar, send_blob_transaction
from tests.contracts.support import (
    ANVIL_KEY,
    GENESIS_ROOT,
    USDC,
    Rollup,
    deploy,
    reverts,
    withdraw_record,
)

pytestmark = pytest.mark.devnet


@pytest.fixture
def env(w3: Web3) -> Rollup:
    env = deploy(w3, data=DataAvailability.BLOBS)
    env.deposit(env.users[0], 1, 10 * USDC)
    return env


def _honest_inputs(env: Rollup, data: bytes, source: bytes, ts: int, root: int) -> list[int]:
    """The public inputs the block circuit outputs for ``data`` posted with ``source``."""
    d = blob.compute_batch_data(source, data, ts, GENESIS_ROOT, root)
    return [GENESIS_ROOT, root, ts, d.data_hash, d.challenge, d.evaluation]


def test_a_blob_batch_is_committed_verified_and_executed(env: Rollup) -> None:
    alice = env.users[0]
    records = [*env.records_for(0, 1), withdraw_record(1, alice, 3 * USDC)]
    batch = env.commit(records, root=77)
    data = env.pubdata_of[1]
    vh = kzg.compute_source_hash(DataAvailability.BLOBS, data)
    (event,) = env.rollup.events.BatchCommitted().get_logs(from_block="latest")
    args = event["args"]
    assert bytes(args["sourceHash"]) == vh and bytes(args["pubdata"]) == b""
    assert bytes(args["l1Records"]) == blob.get_l1_records(data)
    inputs = _honest_inputs(env, data, vh, batch[1], 77)
    assert env.block_inputs(batch) == inputs
    assert batch[7] == keccak(pubdata.get_l1_withdrawals(data))
    env.verify(batch)
    env.execute(batch)
    assert env.rollup.functions.pendingBalances(alice).call() == 3 * USDC
    assert env.rollup.functions.blobData().call() is True


def test_a_blob_other_than_the_proven_pubdata_is_rejected_by_verify(env: Rollup) -> None:
    """The operator posts a blob with another deposit amount (opened honestly at z): the stored
    digest and evaluation are those of the posted blob, so the proof of the proven data, whose
    public inputs the circuit fixes, does not verify."""
    proven = pubdata.compute_batch_pubdata(env.records_for(0, 1), env.preset.ops_per_block)
    posted = bytearray(proven)
    posted[60] ^= 1  # a byte of the noop padding: not an L1 record, invisible to the queue
    ts = env.now()
    honest = _honest_inputs(env, proven, kzg.compute_source_hash(env.data, proven), ts, 77)
    z = honest[4]
    opening = kzg.open_blob(bytes(posted), z)
    info = (1, ts, 77, blob.get_l1_records(proven), z, b"", _opening_bytes(opening))
    last = env.batches[-1]
    env.send_blobs(env.rollup.functions.commitBatch(last, info), [bytes(posted)])
    (event,) = env.rollup.events.BatchCommitted().get_logs(from_block="latest")
    batch = (1, ts, 1, 77, *(event["args"][k] for k in ("dataHash", "challenge", "evaluation")))
    batch = (*batch, bytes(event["args"]["withdrawalsHash"]))
    with reverts("InvalidProof"):
        env.rollup.functions.verifyBatch(batch, env.block_prover.prove(honest)).transact(
            {"from": env.operator}
        )


def _opening_bytes(opening: kzg.BlobOpening) -> bytes:
    return opening.y.to_bytes(32, "big") + opening.commitment + opening.proof


def test_the_blob_path_refuses_a_missing_blob_calldata_pubdata_or_a_wrong_opening(
    env: Rollup,
) -> None:
    data = pubdata.compute_batch_pubdata(env.records_for(0, 1), env.preset.ops_per_block)
    last, ts, f = env.batches[-1], env.now(), env.rollup.functions
    z = 0x1234567
    opening = kzg.open_blob(data, z)
    good = (1, ts, 77, blob.get_l1_records(data), z, b"", _opening_bytes(opening))
    with reverts("NoBlob"):  # an ordinary transaction: no blob
        f.commitBatch(last, good).transact({"from": env.operator})
    with reverts("WrongDataPath"):
        f.commitBatch(last, (*good[:5], data, good[6])).transact({"from": env.operator})
    with reverts("WrongDataPath"):
        f.commitBatch(last, (*good[:6], good[6][:-1])).transact({"from": env.operator})
    wrong_y = (*good[:6], (opening.y + 1).to_bytes(32, "big") + good[6][32:])
    for info in (wrong_y, (*good[:4], z + 1, *good[5:])):
        receipt = _send_blob_unchecked(env, f.commitBatch(last, info), data)
        assert receipt["status"] == 0  # OpeningInvalid (eth_call of the same: tests/contracts)
    env.send_blobs(f.commitBatch(last, good), [data])


def _send_blob_unchecked(env: Rollup, fn: ContractFunction, data: bytes) -> TxReceipt:
    """Sends ``fn`` with ``data``'s blob, mined whether it reverts or not."""
    tx = {"to": fn.address, "data": fn._encode_transaction_data(), "gas": 3_000_000}
    sidecar = BlobSidecar.of([blob.compute_blob(data)])
    tx_hash = send_blob_transaction(env.w3, tx, ANVIL_KEY, sidecar)
    return env.w3.eth.wait_for_transaction_receipt(tx_hash)


def test_one_call_commits_verifies_and_executes_a_blob_batch_under_400k_gas(env: Rollup) -> None:
    """commitVerifyExecuteBatch on the blob path: a batch of L2 records alone costs at most
    issue 15's 400,000 gas (commit, point evaluation, verify, execute); a blob other than the
    proven pubdata is refused and leaves nothing committed."""
    alice, f = env.users[0], env.rollup.functions
    env.commit([*env.records_for(0, 1), withdraw_record(1, alice, 3 * USDC)], prove=True)
    assert (f.totalBatchesCommitted().call(), f.totalBatchesVerified().call(),
            f.totalBatchesExecuted().call()) == (1, 1, 1)  # fmt: skip
    assert env.pending(alice) == 3 * USDC
    env.commit([bytes([3]) + bytes(range(1, 64))] * 2, prove=True)
    assert env.gas[-1] <= 400_000
    proven = pubdata.compute_batch_pubdata([], env.preset.ops_per_block)
    posted = bytearray(proven)
    posted[60] ^= 1
    last, ts, root = env.batches[-1], env.now(), 99
    source = kzg.compute_source_hash(env.data, proven)
    d = blob.compute_batch_data(source, proven, ts, last[3], root)
    proof = env.block_prover.prove([last[3], root, ts, d.data_hash, d.challenge, d.evaluation])
    opening = _opening_bytes(kzg.open_blob(bytes(posted), d.challenge))
    info = (3, ts, root, b"", d.challenge, b"", opening)
    receipt = _send_blob_unchecked(
        env, f.commitVerifyExecuteBatch(last, info, proof), bytes(posted)
    )
    assert receipt["status"] == 0  # InvalidProof: the stored digest is the posted blob's
    assert f.totalBatchesCommitted().call() == 2
    honest = _opening_bytes(kzg.open_blob(proven, d.challenge))
    env.send_blobs(f.commitVerifyExecuteBatch(last, (*info[:6], honest), proof), [proven])
    assert f.totalBatchesExecuted().call() == 3
