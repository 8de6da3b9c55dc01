"""Deposits: into a given account (claimed by its first depositor), measured by the balance
change, queued as priority requests with an expiry, bounded in number."""

from __future__ import annotations

import pytest
from web3 import Web3

from protocol import pubdata
from protocol.ops import deposit
from protocol.ops.registry import decode_request
from scripts import chain
from scripts.deploy import ZERO_ADDRESS
from tests.contracts.support import USDC, Rollup, deploy, owner_bytes, reverts

pytestmark = pytest.mark.devnet


def test_a_deposit_queues_its_request_and_claims_the_account(env: Rollup) -> None:
    alice = env.users[0]
    receipt = env.deposit(alice, 3, 5 * USDC)
    assert env.balance(env.rollup.address) == 5 * USDC
    assert env.rollup.functions.accountOwners(3).call() == alice
    (created,) = env.events(receipt, "AccountCreated")
    assert (created["accountIndex"], created["owner"]) == (3, alice)
    (queued,) = env.events(receipt, "PriorityRequestQueued")
    request = deposit.RECORD.encode((3, owner_bytes(alice), 5 * USDC))[:35]
    assert bytes(queued["request"]) == request
    assert (queued["requestId"], queued["opType"], queued["accountIndex"]) == (0, 1, 3)
    assert queued["owner"] == alice
    block_time = env.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    assert queued["expiresAt"] == block_time + env.preset.priority_expiry_seconds
    assert bytes(queued["chainHash"]) == pubdata.compute_priority_chain([request])
    assert env.rollup.functions.priorityRequests(0).call() == [
        pubdata.compute_priority_chain([request]),
        queued["expiresAt"],
    ]
    assert env.rollup.functions.totalPriorityRequests().call() == 1
    # a second deposit by the owner chains on the first, without a second AccountCreated
    again = env.deposit(alice, 3, 2 * USDC)
    assert env.events(again, "AccountCreated") == []
    assert bytes(env.events(again, "PriorityRequestQueued")[0]["chainHash"]) == (
        pubdata.compute_priority_chain(env.requests)
    )


def test_deposit_reverts(env: Rollup) -> None:
    alice, bob = env.users[:2]
    env.fund(alice, 100 * USDC)
    deposit = env.rollup.functions.deposit
    with reverts("DepositTooSmall"):
        deposit(3, USDC - 1).transact({"from": alice})
    with reverts("AccountIndexOutOfRange"):
        deposit(env.preset.max_accounts, USDC).transact({"from": alice})
    env.deposit(bob, 3, USDC)
    with reverts("NotAccountOwner"):
        deposit(3, USDC).transact({"from": alice})
    env.fund(env.users[2], USDC)
    with reverts("TokenTransferFailed"):  # no allowance: the token reverts
        deposit(4, 2 * USDC).transact({"from": env.users[2]})


def test_the_queue_is_bounded(env: Rollup) -> None:
    alice = env.users[0]
    for _ in range(env.preset.max_open_priority_requests):
        env.deposit(alice, 1, USDC)
    env.fund(alice, USDC)
    with reverts("PriorityQueueFull"):
        env.rollup.functions.deposit(1, USDC).transact({"from": alice})
    # executing a batch frees room: the bound is on requests not yet executed
    env.process(env.records_for(0, env.preset.ops_per_block))
    env.deposit(alice, 1, USDC)


def test_a_fee_on_transfer_token_credits_what_arrived(w3: Web3) -> None:
    env = deploy(w3, token_contract="FeeOnTransferToken")
    alice = env.users[0]
    receipt = env.deposit(alice, 2, 10 * USDC)
    arrived = 10 * USDC - 10 * USDC // 100
    assert env.balance(env.rollup.address) == arrived
    (queued,) = env.events(receipt, "PriorityRequestQueued")
    assert decode_request(bytes(queued["request"])).values == (2, owner_bytes(alice), arrived)
    env.fund(alice, USDC)
    with reverts("DepositTooSmall"):  # 1 USDC asked, 0.99 arrived: below the minimum
        env.rollup.functions.deposit(2, USDC).transact({"from": alice})


def test_a_false_returning_token_credits_nothing(w3: Web3) -> None:
    env = deploy(w3, token_contract="FalseReturningToken")
    alice = env.users[0]
    env.fund(alice, 10 * USDC)
    env.send(env.token.functions.setRefuse(True), env.operator)
    with reverts("TokenTransferFailed"):
        env.rollup.functions.deposit(2, 10 * USDC).transact({"from": alice})
    assert env.rollup.functions.totalPriorityRequests().call() == 0


def test_reserved_accounts_are_never_claimed(w3: Web3) -> None:
    env = deploy(w3, reserved_owners=[ZERO_ADDRESS, chain.accounts(w3)[0], ZERO_ADDRESS])
    f, operator, alice = env.rollup.functions, env.operator, env.users[0]
    assert f.firstUserAccount().call() == 3
    created = env.rollup.events.AccountCreated().get_logs(from_block=0)
    assert [(e["args"]["accountIndex"], e["args"]["owner"]) for e in created] == [
        (0, ZERO_ADDRESS),
        (1, operator),
        (2, ZERO_ADDRESS),
    ]
    env.fund(alice, 10 * USDC)
    for reserved in (0, 1, 2):
        with reverts("NotAccountOwner"):
            f.deposit(reserved, USDC).transact({"from": alice})
        with reverts("NotAccountOwner"):
            f.requestForcedWithdraw(reserved, USDC).transact({"from": alice})
    env.deposit(operator, 1, USDC)  # the fee account's genesis owner may top it up
    env.queue(f.requestForcedWithdraw(1, USDC), operator)
    env.deposit(alice, 3, USDC)
    assert f.accountOwners(3).call() == alice
