"""The escape hatch end to end on L1: the operator stops, a forced withdrawal expires, desert
mode is activated, queued deposits are refunded, and every user exits from the state rebuilt
from L1, once."""

from __future__ import annotations

from pathlib import Path

import pytest
from web3 import Web3

from scripts import chain
from scripts.exit import (
    ExitError,
    activate_desert_mode,
    exit_account,
    refund_deposits,
    withdraw_pending_balance,
)
from scripts.reconstruct import reconstruct
from tests.sequencer.rollup_env import USDC, RollupEnv, deploy_env
from tests.sequencer.standin import StandInBlockProver, StandInExitProver

pytestmark = pytest.mark.devnet


@pytest.fixture
def env(w3: Web3, tmp_path: Path) -> RollupEnv:
    prover = StandInBlockProver()
    return deploy_env(w3, tmp_path, prover.verifiers, prover, users=2)


def expire_queue(env: RollupEnv) -> None:
    head = env.rollup.functions.firstPriorityRequestId().call()
    expires = env.rollup.functions.priorityRequests(head).call()[1]
    now = env.w3.eth.get_block("latest")["timestamp"]
    chain.increase_time(env.w3, max(0, expires - now))


def test_users_leave_through_the_escape_hatch(env: RollupEnv) -> None:
    alice, bob = env.users
    env.open_operator()
    for user in env.users:
        env.deposit(user, 10 * USDC)
        env.register_key(user)
    env.run_operator()
    env.client(alice).transfer(bob.account, 4 * USDC)
    env.run_operator()
    # the operator is gone: a forced withdrawal and a deposit stay queued
    env.forced_withdraw(alice, USDC)
    env.deposit(bob, 2 * USDC)
    with pytest.raises(ExitError, match="activateDesertMode"):
        activate_desert_mode(env.w3, env.rollup, bob.address)
    expire_queue(env)
    assert activate_desert_mode(env.w3, env.rollup, bob.address)
    assert refund_deposits(env.w3, env.rollup, alice.address) == {bob.address: 2 * USDC}
    assert refund_deposits(env.w3, env.rollup, alice.address) == {}

    rebuilt = reconstruct(env.w3, env.rollup, env.config)
    prover = StandInExitProver()
    for user, owed in ((alice, 6 * USDC), (bob, 14 * USDC)):
        result = exit_account(env.w3, env.rollup, rebuilt, user.account, prover, user.address)
        assert (result.owner, result.amount) == (user.address, owed)
    with pytest.raises(ExitError, match="performDesert"):
        exit_account(env.w3, env.rollup, rebuilt, alice.account, prover, bob.address)
    assert withdraw_pending_balance(env.w3, env.rollup, bob.address, alice.address) == 16 * USDC
    assert env.balance(bob) == 16 * USDC and env.balance(alice) == 0
    assert withdraw_pending_balance(env.w3, env.rollup, alice.address, alice.address) == 6 * USDC
    assert env.balance(alice) == 6 * USDC
