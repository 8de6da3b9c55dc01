"""Reconstruction from L1 data alone: the state of the last verified batch rebuilt from the
contract's events and the commitBatch calldata, equal to the operator's; tampered or missing L1
data refused."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from web3 import Web3

from protocol.commitment import update_state_root
from protocol.snapshot import encode_state
from scripts.reconstruct import ReconstructionError, reconstruct
from sequencer.submitter import get_stored_info
from tests.sequencer.rollup_env import USDC, RollupEnv, deploy_env
from tests.sequencer.standin import StandInBlockProver

pytestmark = pytest.mark.devnet


@pytest.fixture
def env(w3: Web3, tmp_path: Path) -> RollupEnv:
    prover = StandInBlockProver()
    return deploy_env(w3, tmp_path, prover.verifiers, prover)


def test_the_state_rebuilt_from_l1_is_the_operators(env: RollupEnv) -> None:
    alice, bob, carol = env.users
    operator = env.open_operator()
    for user in env.users:
        env.deposit(user, 10 * USDC)
        env.register_key(user)
    assert env.run_operator() == 2  # six requests, four slots per block
    env.client(alice).transfer(bob.account, 2 * USDC)
    env.client(bob).withdraw(3 * USDC)
    env.client(carol).transfer(alice.account, USDC)
    env.forced_withdraw(alice, USDC)
    assert env.run_operator() == 1
    rebuilt = reconstruct(env.w3, env.rollup, env.config)
    assert rebuilt.batch_number == operator.state.block_number
    assert rebuilt.state_root == update_state_root(operator.state)
    assert encode_state(rebuilt.state) == encode_state(operator.state)
    assert rebuilt.state.accounts[alice.account].collateral == 10 * USDC - 2 * USDC + USDC - USDC


def test_committed_but_unverified_batches_do_not_count(env: RollupEnv) -> None:
    alice = env.users[0]
    operator = env.open_operator()
    env.deposit(alice, 10 * USDC)
    env.run_operator()
    verified = encode_state(operator.state)
    env.deposit(alice, 5 * USDC)
    operator.watcher.poll()
    sealed = operator.seal_block()
    assert sealed is not None
    last = operator.submitter.commit(
        get_stored_info(env.rollup, 1), 2, sealed.block.timestamp, sealed.state_root, sealed.pubdata
    )
    assert last.batch_number == 2
    rebuilt = reconstruct(env.w3, env.rollup, env.config)
    assert rebuilt.batch_number == 1
    assert encode_state(rebuilt.state) == verified


def test_a_genesis_other_than_the_deployed_one_is_refused(env: RollupEnv) -> None:
    other = replace(env.config, fee_owner=bytes(20))
    with pytest.raises(ReconstructionError, match="genesis"):
        reconstruct(env.w3, env.rollup, other)
