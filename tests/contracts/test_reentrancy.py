"""A malicious token that calls back into the rollup in the middle of a transfer gains nothing:
on deposit, on the withdrawal of a pending balance, and around exits and refunds."""

from __future__ import annotations

import pytest
from web3 import Web3
from web3.contract.contract import ContractFunction

from tests.contracts.support import USDC, Rollup, deploy, selector, withdraw_record

pytestmark = pytest.mark.devnet


@pytest.fixture
def attacked(w3: Web3) -> Rollup:
    """A rollup whose token is the re-entrant one; mallory has 10 USDC queued into account 1
    and 4 USDC pending from an executed withdrawal."""
    env = deploy(w3, token_contract="ReentrantToken")
    mallory = env.users[0]
    env.deposit(mallory, 1, 14 * USDC)
    env.process([*env.records_for(0, 1), withdraw_record(1, mallory, 4 * USDC)])
    env.deposit(mallory, 1, 10 * USDC)
    return env


def arm(env: Rollup, nested: ContractFunction) -> None:
    payload = nested._encode_transaction_data()
    env.send(env.token.functions.arm(env.rollup.address, payload), env.users[0])


def assert_nested_call_failed(env: Rollup) -> None:
    assert not env.token.functions.armed().call()  # the hook ran
    assert not env.token.functions.reentered().call()
    assert env.token.functions.nestedResult().call().hex() == selector("Reentrancy()")[2:]


def test_reentering_withdraw_during_a_withdrawal(attacked: Rollup) -> None:
    mallory = attacked.users[0]
    vault = attacked.balance(attacked.rollup.address)
    arm(attacked, attacked.rollup.functions.withdrawPendingBalance(mallory))
    attacked.send(attacked.rollup.functions.withdrawPendingBalance(mallory), mallory)
    assert_nested_call_failed(attacked)
    assert attacked.pending(mallory) == 0
    assert attacked.balance(attacked.rollup.address) == vault - 4 * USDC


def test_reentering_deposit_during_a_deposit(attacked: Rollup) -> None:
    mallory = attacked.users[0]
    attacked.fund(mallory, 10 * USDC)
    arm(attacked, attacked.rollup.functions.deposit(1, 5 * USDC))
    receipt = attacked.queue(attacked.rollup.functions.deposit(1, 5 * USDC), mallory)
    assert_nested_call_failed(attacked)
    assert len(attacked.events(receipt, "PriorityRequestQueued")) == 1


def test_reentering_exit_and_refund_during_a_withdrawal(attacked: Rollup) -> None:
    mallory = attacked.users[0]
    f = attacked.rollup.functions
    attacked.expire_and_activate()
    proof = attacked.exit_proof(1, mallory, 10 * USDC)
    # each withdrawal re-enters with the next credit: the nested call fails, and the honest
    # call afterwards credits exactly what is owed
    for nested in (
        f.performDesert(1, mallory, 10 * USDC, proof),
        f.cancelOutstandingDeposits(1, attacked.requests[1:2]),
    ):
        arm(attacked, nested)
        vault = attacked.balance(attacked.rollup.address)
        pending = attacked.pending(mallory)
        attacked.send(f.withdrawPendingBalance(mallory), mallory)
        assert_nested_call_failed(attacked)
        assert attacked.balance(attacked.rollup.address) == vault - pending
        attacked.send(nested, mallory)
        assert attacked.pending(mallory) == 10 * USDC
    attacked.send(f.withdrawPendingBalance(mallory), mallory)
    # paid in all: 4 withdrawn + 10 exit + 10 refund, and the vault is empty
    assert attacked.balance(mallory) == 24 * USDC
    assert attacked.balance(attacked.rollup.address) == 0
