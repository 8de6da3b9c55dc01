"""The operator pipeline against the real contracts: every sealed block committed, proven,
verified and executed, with progress reported; rejected transactions dropped with their error;
a restarted operator rebuilt from its SQLite file, going on where L1 is."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from web3 import Web3

from protocol.snapshot import encode_state
from sequencer.operator import Operator, OperatorError
from sequencer.store import Store
from sequencer.submitter import get_l1_progress, get_stored_info
from tests.sequencer.rollup_env import USDC, RollupEnv, deploy_env
from tests.sequencer.standin import StandInBlockProver

pytestmark = pytest.mark.devnet


@pytest.fixture
def env(w3: Web3, tmp_path: Path) -> RollupEnv:
    prover = StandInBlockProver()
    return deploy_env(w3, tmp_path, prover.verifiers, prover, users=2)


def open_accounts(env: RollupEnv) -> Operator:
    operator = env.open_operator()
    for user in env.users:
        env.deposit(user, 10 * USDC)
        env.register_key(user)
    assert env.run_operator() == 1
    return operator


def test_every_block_is_committed_verified_and_executed(env: RollupEnv) -> None:
    alice, bob = env.users
    operator = open_accounts(env)
    env.client(alice).transfer(bob.account, 2 * USDC)
    env.client(bob).withdraw(3 * USDC)
    bad = operator.mempool.submit(replace(operator.mempool.get_pending_transactions()[0], amount=1))
    assert env.run_operator() == 1
    progress = get_l1_progress(env.rollup)
    assert progress.committed == progress.verified == progress.executed == 2
    assert env.rollup.functions.pendingBalances(bob.address).call() == 3 * USDC
    assert env.rollup.functions.firstPriorityRequestId().call() == 4
    assert operator.store.get_dropped()[bad].startswith("InvalidNonce")
    stages = {(p.stage, p.batch) for p in env.progress}
    assert {("build", 2), ("commit", 2), ("verify", 2), ("execute", 2)} <= stages
    assert operator.mempool.get_pending() == []


def test_a_restarted_operator_goes_on_where_l1_is(env: RollupEnv) -> None:
    alice, bob = env.users
    operator = open_accounts(env)
    env.client(alice).transfer(bob.account, USDC)
    env.client(bob).transfer(alice.account, 4 * USDC)
    sealed = operator.seal_block()
    assert sealed is not None
    operator.submitter.commit(
        get_stored_info(env.rollup, 1), 2, sealed.block.timestamp, sealed.state_root, sealed.pubdata
    )
    env.client(alice).withdraw(USDC)  # acknowledged, then the operator crashes
    before = encode_state(operator.state)

    restarted = env.open_operator()  # replays its file: the sealed block, the pending withdraw
    assert encode_state(restarted.state) == before
    assert len(restarted.mempool) == 1
    assert env.run_operator() == 1  # block 2 is verified and executed, block 3 goes through
    progress = get_l1_progress(env.rollup)
    assert progress.committed == progress.verified == progress.executed == 3
    assert restarted.state.accounts[alice.account].collateral == 10 * USDC - USDC + 4 * USDC - USDC


def test_a_store_of_another_deployment_is_refused(env: RollupEnv) -> None:
    env.open_operator()
    assert env.operator is not None
    env.operator.store.close()
    other = replace(env.config, chain_id=1)
    link = env.operator.l1
    with pytest.raises(OperatorError, match="another deployment"):
        Operator.open(other, Store(env.store_path), link, env.prover)
