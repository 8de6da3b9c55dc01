"""The batch lifecycle: commit -> verify -> execute, revert while unverified, and pulling
pending balances."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak
from web3 import Web3

from protocol import blob, pubdata
from protocol.field import R
from protocol.ops import forced_withdraw
from scripts import chain
from tests.contracts.support import (
    GENESIS_ROOT,
    USDC,
    Rollup,
    deploy,
    deposit_record,
    owner_bytes,
    rerandomize,
    reverts,
    stored_info,
    withdraw_record,
)

pytestmark = pytest.mark.devnet

STORED_BATCH_INFO = "(uint64,uint64,uint64,uint256,uint256,uint256,uint256,bytes32)"


def hash_info(info: tuple[int, int, int, int, int, int, int, bytes]) -> bytes:
    return keccak(encode([STORED_BATCH_INFO], [info]))


def forced_withdraw_record(account: int, owner: str, requested: int, withdrawn: int) -> bytes:
    return forced_withdraw.RECORD.encode((account, owner_bytes(owner), requested, withdrawn))


@pytest.fixture
def funded(env: Rollup) -> Rollup:
    """Two deposits queued: alice 10 USDC into account 1, bob 10 USDC into account 2."""
    env.deposit(env.users[0], 1, 10 * USDC)
    env.deposit(env.users[1], 2, 10 * USDC)
    return env


def test_commit_stores_the_batch_hash_and_its_data_binding(funded: Rollup) -> None:
    alice = funded.users[0]
    records = [*funded.records_for(0, 1), withdraw_record(1, alice, 3 * USDC)]
    batch = funded.commit(records, root=77)
    data = funded.pubdata_of[1]
    number, timestamp, consumed, root, d, z, e, withdrawals_hash = batch
    assert (number, consumed, root) == (1, 1, 77)
    expected = blob.compute_batch_data(keccak(data), data, timestamp, GENESIS_ROOT, 77)
    assert (d, z, e) == (expected.data_hash, expected.challenge, expected.evaluation)
    assert withdrawals_hash == keccak(pubdata.get_l1_withdrawals(data))
    assert funded.rollup.functions.storedBatchHashes(1).call() == hash_info(batch)
    assert funded.rollup.functions.totalBatchesCommitted().call() == 1
    assert funded.rollup.functions.totalCommittedPriorityRequests().call() == 1
    assert funded.rollup.functions.blobData().call() is False
    # the genesis batch was announced the same way by the constructor
    genesis = funded.batches[0]
    assert genesis[0] == genesis[2] == genesis[4] == genesis[5] == genesis[6] == 0
    assert genesis[7] == keccak(b"")
    assert funded.rollup.functions.storedBatchHashes(0).call() == hash_info(genesis)


def calldata_batch(number: int, ts: int, root: int, data: bytes, z: int = 5) -> tuple[Any, ...]:
    """The calldata path's CommitBatchInfo of ``data`` (its L1 records taken from it)."""
    return (number, ts, root, blob.get_l1_records(data), z, data, b"")


def test_commit_reverts(funded: Rollup) -> None:
    f, operator, alice = funded.rollup.functions, funded.operator, funded.users[0]
    last = funded.batches[-1]
    now = funded.now()
    ops = funded.preset.ops_per_block
    good = pubdata.compute_batch_pubdata(funded.records_for(0, 1), ops)

    def commit(info: tuple[Any, ...], last_info: tuple[Any, ...] = last) -> None:
        f.commitBatch(last_info, info).transact({"from": operator})

    with reverts("NotValidator"):
        f.commitBatch(last, calldata_batch(1, now, 5, good)).transact({"from": alice})
    with reverts("BatchInfoMismatch"):
        commit(calldata_batch(1, now, 5, good), (*last[:3], last[3] + 1, *last[4:]))
    with reverts("WrongBatchNumber"):
        commit(calldata_batch(2, now, 5, good))
    with reverts("TimestampNotMonotonic"):
        commit(calldata_batch(1, last[1] - 1, 5, good))
    with reverts("TimestampOutOfRange"):
        commit(calldata_batch(1, now + 15 * 60 + 30, 5, good))
    with reverts("TimestampOutOfRange"):
        commit(calldata_batch(1, 2**40, 5, good))
    with reverts("RootNotInField"):
        commit(calldata_batch(1, now, R, good))
    with reverts("RootNotInField"):  # the challenge too
        commit(calldata_batch(1, now, 5, good, z=R))
    for data in (good[:-64], good + bytes(64), b""):
        with reverts("WrongPubdataLength"):
            commit((1, now, 5, blob.get_l1_records(good), 5, data, b""))
    with reverts("WrongDataPath"):  # a blob opening on the calldata path
        commit((1, now, 5, blob.get_l1_records(good), 5, good, bytes(128)))
    with reverts("L1RecordsMalformed"):
        commit((1, now, 5, blob.get_l1_records(good)[:-1], 5, good, b""))
    wrong_amount = deposit_record(1, alice, 10 * USDC - 1)
    wrong_owner = deposit_record(1, funded.users[1], 10 * USDC)
    in_wrong_order = funded.records_for(0, 2)[::-1]
    skipping = funded.records_for(1, 1)
    for records in ([wrong_amount], [wrong_owner], in_wrong_order, skipping):
        with reverts("PriorityHashMismatch"):
            commit(calldata_batch(1, now, 5, pubdata.compute_batch_pubdata(records, ops)))
    with reverts("TooManyPriorityRequests"):
        records = funded.records_for(0, 2) * 2
        commit(calldata_batch(1, now, 5, pubdata.compute_batch_pubdata(records, ops)))


def test_batch_timestamps_may_not_lag_a_day(funded: Rollup) -> None:
    chain.increase_time(funded.w3, 2 * 24 * 3600)
    with reverts("TimestampOutOfRange"):
        funded.rollup.functions.commitBatch(
            funded.batches[-1],
            calldata_batch(1, funded.now() - 24 * 3600 - 60, 5, bytes(4 * 64)),
        ).transact({"from": funded.operator})
    funded.commit([], timestamp=funded.now() - 24 * 3600 + 60)


def test_a_processed_request_cannot_be_consumed_again(funded: Rollup) -> None:
    first = funded.records_for(0, 1)
    funded.process(first)
    with reverts("PriorityHashMismatch"):
        funded.commit(first)
    funded.process(funded.records_for(1, 1))
    with reverts("TooManyPriorityRequests"):
        funded.commit(first)


def test_verify_checks_the_proof_against_stored_inputs(funded: Rollup) -> None:
    batch = funded.commit(funded.records_for(0, 1))
    inputs = funded.block_inputs(batch)
    assert inputs == [funded.batches[0][3], batch[3], batch[1], *batch[4:7]]
    f, stranger = funded.rollup.functions, funded.users[5]
    with reverts("InvalidProof"):  # a valid proof, of other inputs
        f.verifyBatch(batch, funded.block_prover.prove([*inputs[:5], inputs[5] + 1])).transact(
            {"from": stranger}
        )
    for junk in (b"", bytes(512), b"\x01" * 512):
        with reverts("InvalidProof"):
            f.verifyBatch(batch, junk).transact({"from": stranger})
    with reverts("BatchInfoMismatch"):
        f.verifyBatch((*batch[:6], batch[6] + 1, batch[7]), b"").transact({"from": stranger})
    with reverts("WrongBatchNumber"):  # nothing committed past batch 1
        f.verifyBatch((2, *batch[1:]), b"").transact({"from": stranger})
    # anyone holding a valid proof may verify
    receipt = funded.send(f.verifyBatch(batch, funded.block_prover.prove(inputs)), stranger)
    (event,) = funded.events(receipt, "BatchVerified")
    assert (event["batchNumber"], event["stateRoot"]) == (1, batch[3])
    assert f.lastVerifiedStateRoot().call() == batch[3]
    assert f.totalBatchesVerified().call() == 1
    assert f.totalVerifiedPriorityRequests().call() == 1
    with reverts("WrongBatchNumber"):  # already verified
        f.verifyBatch(batch, funded.block_prover.prove(inputs)).transact({"from": stranger})


def test_a_rerandomized_proof_cannot_replay_a_batch(funded: Rollup) -> None:
    first = funded.commit(funded.records_for(0, 1))
    proof = funded.block_prover.prove(funded.block_inputs(first))
    funded.verify(first, proof)
    twin = rerandomize(proof, funded.block_prover.vk)
    assert twin != proof
    verifier = funded.w3.eth.contract(
        address=funded.rollup.functions.blockVerifier().call(),
        abi=funded.block_prover.verifier.abi,
    )
    assert verifier.functions.verifyProof(twin, funded.block_inputs(first)).call()
    f = funded.rollup.functions
    with reverts("WrongBatchNumber"):
        f.verifyBatch(first, twin).transact({"from": funded.operator})
    second = funded.commit(funded.records_for(1, 1), root=first[3])  # even the same root
    with reverts("InvalidProof"):
        f.verifyBatch(second, twin).transact({"from": funded.operator})


def test_execute_credits_withdrawals_and_pops_the_queue(funded: Rollup) -> None:
    alice, bob, stranger = funded.users[0], funded.users[1], funded.users[5]
    f = funded.rollup.functions
    funded.queue(f.requestForcedWithdraw(2, 9 * USDC), bob)
    records = [
        *funded.records_for(0, 2),
        withdraw_record(1, alice, 3 * USDC),
        forced_withdraw_record(2, bob, 9 * USDC, 0),  # rejected by the rules: nothing paid
    ]
    batch = funded.commit(records)
    withdrawals = pubdata.get_l1_withdrawals(funded.pubdata_of[1])
    with reverts("BatchNotVerified"):
        f.executeBatch(batch, withdrawals).transact({"from": stranger})
    funded.verify(batch)
    with reverts("BatchInfoMismatch"):
        f.executeBatch((*batch[:3], 5, *batch[4:]), withdrawals).transact({"from": stranger})
    with reverts("WithdrawalsMismatch"):
        f.executeBatch(batch, withdrawals[:64]).transact({"from": stranger})
    receipt = funded.execute(batch, sender=stranger)  # anyone may execute
    (paid,) = funded.events(receipt, "WithdrawalPending")
    assert (paid["batchNumber"], paid["owner"], paid["amount"]) == (1, alice, 3 * USDC)
    assert funded.pending(alice) == 3 * USDC and funded.pending(bob) == 0
    assert funded.events(receipt, "BatchExecuted")[0]["batchNumber"] == 1
    assert f.firstPriorityRequestId().call() == 3
    assert f.totalBatchesExecuted().call() == 1
    with reverts("WrongBatchNumber"):
        f.executeBatch(batch, withdrawals).transact({"from": stranger})
    # a forced withdrawal that the rules paid is credited to its requester
    funded.queue(f.requestForcedWithdraw(2, 9 * USDC), bob)
    second = funded.process([forced_withdraw_record(2, bob, 9 * USDC, 4 * USDC)])
    assert second[2] == 1 and funded.pending(bob) == 4 * USDC


def test_revert_batches_drops_unverified_batches(funded: Rollup) -> None:
    f, operator = funded.rollup.functions, funded.operator
    first = funded.commit(funded.records_for(0, 1))
    second = funded.commit(funded.records_for(1, 1))
    with reverts("NotValidator"):
        f.revertBatches([second, first]).transact({"from": funded.users[0]})
    with reverts("NothingToRevert"):
        f.revertBatches([]).transact({"from": operator})
    with reverts("BatchInfoMismatch"):  # newest first
        f.revertBatches([first, second]).transact({"from": operator})
    receipt = funded.send(f.revertBatches([second]), operator)
    (event,) = funded.events(receipt, "BatchesReverted")
    assert (event["totalBatchesCommitted"], event["reverted"]) == (1, 1)
    assert f.storedBatchHashes(2).call() == bytes(32)
    assert f.totalCommittedPriorityRequests().call() == 1
    funded.verify(first)
    with reverts("BatchAlreadyVerified"):
        f.revertBatches([first]).transact({"from": operator})
    # the reverted batch's request is consumed again by a new batch 2
    funded.batches.pop()
    funded.execute(first)
    funded.process(funded.records_for(1, 1))
    assert f.totalVerifiedPriorityRequests().call() == 2


def _one_call(env: Rollup, records: list[bytes], root: int) -> tuple[Any, ...]:
    """commitVerifyExecuteBatch's arguments for the next batch of ``records`` (calldata path),
    with the honest proof of its inputs."""
    last = env.batches[-1]
    data = pubdata.compute_batch_pubdata(records, env.preset.ops_per_block)
    ts = env.now()
    bound = blob.compute_batch_data(keccak(data), data, ts, last[3], root)
    inputs = [last[3], root, ts, bound.data_hash, bound.challenge, bound.evaluation]
    batch = (last[0] + 1, ts, root, blob.get_l1_records(data), bound.challenge, data, b"")
    return last, batch, env.block_prover.prove(inputs)


def test_one_call_commits_verifies_and_executes_a_batch(funded: Rollup) -> None:
    alice, bob = funded.users[0], funded.users[1]
    f, operator = funded.rollup.functions, funded.operator
    records = [*funded.records_for(0, 1), withdraw_record(1, alice, 3 * USDC)]
    last, batch, proof = _one_call(funded, records, 77)
    with reverts("NotValidator"):
        f.commitVerifyExecuteBatch(last, batch, proof).transact({"from": alice})
    for junk in (b"", bytes(512), proof[:-1] + bytes([proof[-1] ^ 1])):
        with reverts("InvalidProof"):  # and nothing of the batch is committed
            f.commitVerifyExecuteBatch(last, batch, junk).transact({"from": operator})
    with reverts("InvalidProof"):  # a valid proof, of another batch
        f.commitVerifyExecuteBatch(last, batch, _one_call(funded, records, 78)[2]).transact(
            {"from": operator}
        )
    receipt = funded.send(f.commitVerifyExecuteBatch(last, batch, proof), operator)
    (committed,) = funded.events(receipt, "BatchCommitted")
    (verified,) = funded.events(receipt, "BatchVerified")
    (executed,) = funded.events(receipt, "BatchExecuted")
    (paid,) = funded.events(receipt, "WithdrawalPending")
    assert f.storedBatchHashes(1).call() == hash_info(stored_info(committed))
    assert verified["stateRoot"] == 77 and executed["batchNumber"] == 1
    assert (paid["batchNumber"], paid["owner"], paid["amount"]) == (1, alice, 3 * USDC)
    assert funded.pending(alice) == 3 * USDC and funded.pending(bob) == 0
    assert f.lastVerifiedStateRoot().call() == 77
    assert (f.totalBatchesCommitted().call(), f.totalBatchesVerified().call(),
            f.totalBatchesExecuted().call()) == (1, 1, 1)  # fmt: skip
    assert f.firstPriorityRequestId().call() == f.totalVerifiedPriorityRequests().call() == 1
    with reverts("BatchInfoMismatch"):  # the same batch again: batch 1 is committed
        f.commitVerifyExecuteBatch(last, batch, proof).transact({"from": operator})


def test_one_call_leaves_a_batch_unexecuted_behind_an_unexecuted_one(funded: Rollup) -> None:
    """Batches execute in order: behind a verified, unexecuted batch the one call commits and
    verifies; executeBatch executes both. Behind a committed, unverified batch it refuses."""
    f, operator, alice = funded.rollup.functions, funded.operator, funded.users[0]
    first = funded.commit(funded.records_for(0, 1))
    with reverts("WrongBatchNumber"):
        f.commitVerifyExecuteBatch(*_one_call(funded, [], 5)).transact({"from": operator})
    funded.verify(first)
    second = funded.commit([withdraw_record(1, alice, USDC)], prove=True)
    assert f.totalBatchesVerified().call() == 2 and f.totalBatchesExecuted().call() == 0
    assert funded.pending(alice) == 0
    funded.execute(first)
    funded.execute(second)
    assert f.totalBatchesExecuted().call() == 2 and funded.pending(alice) == USDC
    funded.commit(funded.records_for(1, 1))  # the separate calls go on after it
    funded.verify(funded.batches[-1])
    funded.execute(funded.batches[-1])
    assert f.firstPriorityRequestId().call() == 2


def test_withdraw_pending_balance_pays_the_owner_once(funded: Rollup) -> None:
    alice, stranger = funded.users[0], funded.users[5]
    funded.process([*funded.records_for(0, 1), withdraw_record(1, alice, 4 * USDC)])
    before = funded.balance(alice)
    f = funded.rollup.functions
    receipt = funded.send(f.withdrawPendingBalance(alice), stranger)  # anyone may trigger
    (event,) = funded.events(receipt, "PendingBalanceWithdrawn")
    assert (event["owner"], event["amount"]) == (alice, 4 * USDC)
    assert funded.balance(alice) == before + 4 * USDC
    assert funded.pending(alice) == 0
    with reverts("NothingToWithdraw"):
        f.withdrawPendingBalance(alice).transact({"from": alice})


def test_a_token_refusing_the_payout_keeps_the_balance_pending(w3: Web3) -> None:
    env = deploy(w3, token_contract="FalseReturningToken")
    alice = env.users[0]
    env.deposit(alice, 1, 5 * USDC)
    env.process([*env.records_for(0, 1), withdraw_record(1, alice, 5 * USDC)])
    env.send(env.token.functions.setRefuse(True), env.operator)
    with reverts("TokenTransferFailed"):
        env.rollup.functions.withdrawPendingBalance(alice).transact({"from": alice})
    assert env.pending(alice) == 5 * USDC
