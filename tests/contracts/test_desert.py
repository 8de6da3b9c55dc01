"""Desert mode: activation at the deadline, the freeze, refunds of queued deposits, exits."""

from __future__ import annotations

import pytest
from web3 import Web3

from scripts import chain
from scripts.deploy import ZERO_ADDRESS
from tests.contracts.support import (
    USDC,
    Rollup,
    deploy,
    rerandomize,
    reverted_with,
    reverts,
    withdraw_record,
)

pytestmark = pytest.mark.devnet


def expires_at(env: Rollup, request_id: int) -> int:
    return int(env.rollup.functions.priorityRequests(request_id).call()[1])


@pytest.mark.parametrize("offset", [-1, 0, 1, 3600])
def test_activation_at_the_deadline_boundary(env: Rollup, offset: int) -> None:
    env.deposit(env.users[0], 1, USDC)
    deadline = expires_at(env, 0)
    activate = env.rollup.functions.activateDesertMode()
    receipt = env.send_at(deadline + offset, activate, env.users[1])
    if offset < 0:
        reverted_with(activate, env.users[1], receipt, "NoExpiredPriorityRequest")
        assert not env.rollup.functions.desertMode().call()
        return
    assert receipt["status"] == 1
    (event,) = env.events(receipt, "DesertModeActivated")
    assert (event["lastVerifiedBatch"], event["stateRoot"]) == (0, env.batches[0][3])
    assert env.rollup.functions.desertMode().call()


def test_no_activation_without_an_open_request(env: Rollup) -> None:
    activate = env.rollup.functions.activateDesertMode()
    chain.increase_time(env.w3, 10 * env.preset.priority_expiry_seconds)
    with reverts("NoExpiredPriorityRequest"):
        activate.transact({"from": env.users[1]})
    env.deposit(env.users[0], 1, USDC)
    env.process(env.records_for(0, 1))  # executed: no longer open
    chain.increase_time(env.w3, 10 * env.preset.priority_expiry_seconds)
    with reverts("NoExpiredPriorityRequest"):
        activate.transact({"from": env.users[1]})
    # a later request has its own deadline, and verified is not executed
    env.deposit(env.users[0], 1, USDC)
    batch = env.commit(env.records_for(1, 1))
    env.verify(batch)
    deadline = expires_at(env, 1)
    reverted_with(
        activate,
        env.users[1],
        env.send_at(deadline - 1, activate, env.users[1]),
        "NoExpiredPriorityRequest",
    )
    assert env.send_at(deadline, activate, env.users[1])["status"] == 1


@pytest.fixture
def deserted(env: Rollup) -> Rollup:
    """Queue: 0 alice deposits 10 into account 1 (batch 1, verified, not executed), 1 bob 20
    into account 2 (batch 2, committed only), 2 alice's forced cancel-all, 3 carol 30 into
    account 3; then desert mode. Batch 1 also withdraws 4 USDC of alice's to L1."""
    alice, bob, carol = env.users[:3]
    env.deposit(alice, 1, 10 * USDC)
    env.deposit(bob, 2, 20 * USDC)
    env.queue(env.rollup.functions.requestForcedCancelAll(1), alice)
    env.deposit(carol, 3, 30 * USDC)
    first = env.commit([*env.records_for(0, 1), withdraw_record(1, alice, 4 * USDC)], root=101)
    env.verify(first)
    env.commit(env.records_for(1, 1), root=202)
    receipt = env.expire_and_activate()
    (dropped,) = env.events(receipt, "BatchesReverted")
    assert (dropped["totalBatchesCommitted"], dropped["reverted"]) == (1, 1)
    return env


def test_desert_mode_freezes_every_state_advancing_function(deserted: Rollup) -> None:
    f, alice, operator = deserted.rollup.functions, deserted.users[0], deserted.operator
    deserted.fund(alice, USDC)
    batch1, batch2 = deserted.batches[1:3]
    frozen = [
        (f.deposit(1, USDC), alice),
        (f.registerL2Key(1, b"\x01" * 32), alice),
        (f.requestForcedWithdraw(1, 1), alice),
        (f.requestForcedCancelAll(1), alice),
        (f.requestForcedOrder(1, 0, 0, 1, 1), alice),
        (f.requestForcedBurn(1, 1), alice),
        (f.commitBatch(batch1, (2, deserted.now(), 5, b"", 5, bytes(256), b"")), operator),
        (f.verifyBatch(batch2, bytes(512)), operator),
        (f.revertBatches([batch2]), operator),
        (f.activateDesertMode(), alice),
    ]
    for call, sender in frozen:
        with reverts("DesertModeActive"):
            call.transact({"from": sender})
    assert f.totalBatchesCommitted().call() == 1
    # a verified batch still executes (its withdrawals left the state exits prove against)
    deserted.execute(batch1, sender=deserted.users[5])
    assert deserted.pending(alice) == 4 * USDC


def test_queued_deposits_are_refunded_exactly_once_in_pages(deserted: Rollup) -> None:
    f, stranger = deserted.rollup.functions, deserted.users[5]
    alice, bob, carol = deserted.users[:3]
    requests = deserted.requests
    assert f.desertRefundCursor().call() == 1  # request 0 is in the verified state
    with reverts("WrongRequestCount"):
        f.cancelOutstandingDeposits(0, []).transact({"from": stranger})
    with reverts("WrongRequestCount"):
        f.cancelOutstandingDeposits(2, requests[1:2]).transact({"from": stranger})
    with reverts("WrongRequestCount"):
        f.cancelOutstandingDeposits(4, requests[1:] + requests[:1]).transact({"from": stranger})
    with reverts("RequestMismatch"):  # the verified deposit is not refundable
        f.cancelOutstandingDeposits(1, requests[0:1]).transact({"from": stranger})
    with reverts("RequestMismatch"):
        tampered = requests[1][:-1] + b"\x01"
        f.cancelOutstandingDeposits(1, [tampered]).transact({"from": stranger})
    receipt = deserted.send(f.cancelOutstandingDeposits(1, requests[1:2]), stranger)
    (refund,) = deserted.events(receipt, "DepositRefunded")
    assert (refund["requestId"], refund["owner"], refund["amount"]) == (1, bob, 20 * USDC)
    receipt = deserted.send(f.cancelOutstandingDeposits(2, requests[2:4]), stranger)
    (refund,) = deserted.events(receipt, "DepositRefunded")  # the forced request refunds nothing
    assert (refund["requestId"], refund["owner"], refund["amount"]) == (3, carol, 30 * USDC)
    (page,) = deserted.events(receipt, "PriorityRequestsCancelled")
    assert (page["firstRequestId"], page["count"]) == (2, 2)
    for n, page_requests in ((1, requests[3:4]), (3, requests[1:4])):
        with reverts("WrongRequestCount"):
            f.cancelOutstandingDeposits(n, page_requests).transact({"from": stranger})
    assert (deserted.pending(alice), deserted.pending(bob), deserted.pending(carol)) == (
        0,
        20 * USDC,
        30 * USDC,
    )
    deserted.send(f.withdrawPendingBalance(bob), stranger)
    assert deserted.pending(bob) == 0


def test_exits_prove_against_the_last_verified_root_once_per_account(deserted: Rollup) -> None:
    f, stranger, alice = deserted.rollup.functions, deserted.users[5], deserted.users[0]
    assert f.lastVerifiedStateRoot().call() == 101
    proof = deserted.exit_proof(1, alice, 6 * USDC)
    with reverts("InvalidProof"):  # the amount is not the proven one
        f.performDesert(1, alice, 7 * USDC, proof).transact({"from": stranger})
    with reverts("InvalidProof"):  # another owner
        f.performDesert(1, stranger, 6 * USDC, proof).transact({"from": stranger})
    dropped_root = deserted.exit_prover.prove([202, 1, int(alice, 16), 6 * USDC])
    with reverts("InvalidProof"):  # against the dropped, never verified, root
        f.performDesert(1, alice, 6 * USDC, dropped_root).transact({"from": stranger})
    with reverts("AccountIndexOutOfRange"):
        f.performDesert(deserted.preset.max_accounts, alice, 0, proof).transact({"from": stranger})
    receipt = deserted.send(f.performDesert(1, alice, 6 * USDC, proof), stranger)
    (event,) = deserted.events(receipt, "DesertExit")
    assert (event["accountIndex"], event["owner"], event["amount"]) == (1, alice, 6 * USDC)
    assert f.exited(1).call() and deserted.pending(alice) == 6 * USDC
    with reverts("AlreadyExited"):
        f.performDesert(1, alice, 6 * USDC, proof).transact({"from": stranger})
    twin = rerandomize(proof, deserted.exit_prover.vk)
    with reverts("AlreadyExited"):
        f.performDesert(1, alice, 6 * USDC, twin).transact({"from": stranger})


def test_refunds_and_exits_wait_for_desert_mode(env: Rollup) -> None:
    env.deposit(env.users[0], 1, USDC)
    f, alice = env.rollup.functions, env.users[0]
    with reverts("DesertModeInactive"):
        f.cancelOutstandingDeposits(1, env.requests).transact({"from": alice})
    proof = env.exit_proof(1, alice, USDC)
    with reverts("DesertModeInactive"):
        f.performDesert(1, alice, USDC, proof).transact({"from": alice})


def test_the_fund_and_the_funding_pool_never_exit_the_fee_account_does(w3: Web3) -> None:
    """With the reserved accounts of a real deployment (0 fund, 1 fee account owned by the
    operator, 2 funding pool), exits of 0 and 2 are refused whatever the proof; 1 pays its
    genesis owner, who may also force-withdraw before desert mode."""
    operator = chain.accounts(w3)[0]
    env = deploy(w3, reserved_owners=(ZERO_ADDRESS, operator, ZERO_ADDRESS))
    f, alice, stranger = env.rollup.functions, env.users[0], env.users[5]
    assert [f.accountOwners(i).call() for i in range(3)] == [ZERO_ADDRESS, operator, ZERO_ADDRESS]
    env.queue(f.requestForcedWithdraw(1, USDC), operator)  # the fee account's owner may
    with reverts("NotAccountOwner"):
        f.requestForcedWithdraw(0, USDC).transact({"from": alice})
    env.expire_and_activate()
    for reserved in (0, 2):
        proof = env.exit_proof(reserved, ZERO_ADDRESS, 0)
        with reverts("ReservedAccount"):
            f.performDesert(reserved, ZERO_ADDRESS, 0, proof).transact({"from": stranger})
        assert not f.exited(reserved).call()
    env.send(f.performDesert(1, operator, 5, env.exit_proof(1, operator, 5)), stranger)
    assert env.pending(operator) == 5


def test_the_fund_and_the_funding_pool_cannot_be_given_an_owner(w3: Web3) -> None:
    operator = chain.accounts(w3)[0]
    for owners in ((operator, operator, ZERO_ADDRESS), (ZERO_ADDRESS, operator, operator)):
        with reverts("InvalidParams"):
            deploy(w3, reserved_owners=owners)
