"""The operator pipeline with real proofs against the real contracts: every sealed block
committed, proven, verified and executed, with progress reported; rejected transactions dropped
with their error; a restarted operator rebuilt from its SQLite file, going on where L1 is."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from web3 import Web3

from protocol.ops.transfer import Transfer
from protocol.ops.withdraw import Withdraw
from protocol.signing import sign_tx
from protocol.snapshot import encode_state
from scripts.devnet import CHAIN_ID
from sequencer.client import NEVER, submit_to_file
from sequencer.operator import Operator, OperatorError
from sequencer.store import Store
from sequencer.submitter import get_l1_progress, get_stored_info
from tests.sequencer.rollup_env import USDC, RollupEnv, deploy_env

pytestmark = [pytest.mark.devnet, pytest.mark.prove]


@pytest.fixture
def env(w3: Web3, tmp_path: Path) -> RollupEnv:
    return deploy_env(w3, tmp_path, users=2)


def test_the_operator_settles_every_block_and_survives_a_restart(env: RollupEnv) -> None:
    alice, bob = env.users
    operator = env.open_operator()
    for user in env.users:
        env.deposit(user, 10 * USDC)
        env.register_key(user)
    assert env.run_operator() == 1  # four requests, four slots
    env.client(alice).transfer(bob.account, USDC)
    env.client(bob).withdraw(3 * USDC)
    pending = operator.mempool.get_pending_transactions()[0]
    assert isinstance(pending, Transfer)  # alice's
    forged = replace(pending, amount=2)
    bad = operator.mempool.submit(forged)
    sealed = operator.seal_block()  # block 2: sealed and committed, then the operator crashes
    assert sealed is not None and sealed.dropped.keys() == {bad}
    assert sealed.dropped[bad].startswith("InvalidNonce")
    operator.submitter.commit(
        get_stored_info(env.rollup, 1), 2, sealed.block.timestamp, sealed.state_root, sealed.pubdata
    )
    nonce = env.client(alice).get_next_nonce()
    withdraw = sign_tx(Withdraw(alice.account, nonce, NEVER, USDC), alice.key, CHAIN_ID)
    submit_to_file(env.store_path, withdraw)  # a wallet's own connection; then the crash
    before = encode_state(operator.state)

    restarted = env.open_operator()  # replays its file: the sealed block, the pending withdraw
    assert encode_state(restarted.state) == before
    assert len(restarted.mempool) == 1
    assert env.run_operator() == 1  # block 2 is proven, verified, executed; block 3 goes through
    progress = get_l1_progress(env.rollup)
    assert progress.committed == progress.verified == progress.executed == 3
    assert env.rollup.functions.pendingBalances(bob.address).call() == 3 * USDC
    assert env.rollup.functions.pendingBalances(alice.address).call() == USDC
    assert env.rollup.functions.firstPriorityRequestId().call() == 4
    assert restarted.state.accounts[alice.account].collateral == 8 * USDC
    stages = {(p.stage, p.batch) for p in env.progress}
    for stage in ("build", "commit", "witness", "prove", "verify", "execute"):
        assert (stage, 3) in stages
    assert restarted.mempool.get_pending() == []


def test_a_store_of_another_deployment_is_refused(env: RollupEnv) -> None:
    operator = env.open_operator()
    operator.store.close()
    other = replace(env.config, chain_id=1)
    with pytest.raises(OperatorError, match="another deployment"):
        Operator.open(other, Store(env.store_path), operator.l1, env.provers)
