"""The operator recovers from a sealed block it cannot settle as sealed, on the real devnet with
real proofs: a block sealed before a day-long outage (``commitBatch`` would refuse its time) is
re-sealed from the same log; a block whose proof fails is reverted on L1 (``revertBatches``)
and re-sealed; one that keeps failing loses its L2 transactions, never the rollup its liveness.
Each scenario ends with every acknowledged transaction on L1 and the roots consistent."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from web3 import Web3

from protocol.block import Block
from protocol.commitment import update_state_root
from protocol.snapshot import encode_state
from protocol.state import State
from scripts import chain
from scripts.reconstruct import reconstruct
from sequencer.progress import ProgressCallback
from sequencer.prover_worker import CircuitProvers, ProofError
from sequencer.submitter import BATCH_TIMESTAMP_MAX_AGE_S, get_l1_progress
from tests.sequencer.rollup_env import USDC, RollupEnv, deploy_env

pytestmark = [pytest.mark.devnet, pytest.mark.prove]

DAY_S = 24 * 3600


class FaultyProver:
    """The real block prover, except for the first ``failures`` proofs of block ``block``:
    ``mode`` "raise" fails the way the prover's own check does (ProofError), "refused" hands
    L1 a proof that does not verify."""

    def __init__(self, real: CircuitProvers, block: int, failures: int, mode: str) -> None:
        self.real = real
        self.block = block
        self.failures = failures
        self.mode = mode
        self.attempts: list[int] = []

    def prove_block(self, state: State, block: Block, report: ProgressCallback) -> bytes:
        self.attempts.append(block.number)
        failing = block.number == self.block and self.failures > 0
        if failing and self.mode == "raise":
            self.failures -= 1
            raise ProofError("the block proof does not verify")
        proof = self.real.prove_block(state, block, report)
        if failing:
            self.failures -= 1
            return bytes(len(proof))  # points at infinity: the pairing check fails
        return proof


@pytest.fixture
def env(w3: Web3, tmp_path: Path) -> RollupEnv:
    env = deploy_env(w3, tmp_path, users=2)
    env.open_operator()
    for user in env.users:
        env.deposit(user, 10 * USDC)
        env.register_key(user)
    assert env.run_operator() == 1  # block 1: the four requests, settled
    return env


def use_prover(env: RollupEnv, prover: FaultyProver) -> None:
    assert env.operator is not None
    env.operator.prover = prover


def assert_settled(env: RollupEnv, acknowledged: list[int]) -> None:
    """Every block settled on L1, every acknowledged transaction in one, and the operator's
    state the one L1 data alone rebuilds, under the last verified root."""
    operator = env.operator
    assert operator is not None
    blocks = operator.store.get_blocks()
    progress = get_l1_progress(env.rollup)
    assert progress.committed == progress.verified == progress.executed == blocks[-1].number
    included = [seq for record in blocks for seq in record.l2_seqs]
    assert sorted(included) == sorted(set(included))  # none twice
    assert set(acknowledged) <= set(included)
    assert operator.mempool.get_pending() == [] and operator.unfinished == []
    rebuilt = reconstruct(env.w3, env.rollup, env.config)
    assert rebuilt.batch_number == blocks[-1].number
    assert rebuilt.state_root == update_state_root(operator.state) == blocks[-1].state_root
    assert encode_state(rebuilt.state) == encode_state(operator.state)
    assert update_state_root(operator.proving_state) == rebuilt.state_root


def test_a_block_sealed_before_a_day_long_outage_is_resealed(
    env: RollupEnv, caplog: pytest.LogCaptureFixture
) -> None:
    alice, bob = env.users
    operator = env.operator
    assert operator is not None
    acknowledged = [env.client(alice).transfer(bob.account, USDC)]
    acknowledged.append(env.client(bob).withdraw(3 * USDC))
    stale = operator.seal_block()  # block 2 sealed, then the operator dies before commitBatch
    assert stale is not None and stale.record.l2_seqs == tuple(acknowledged)
    chain.increase_time(env.w3, BATCH_TIMESTAMP_MAX_AGE_S + 3600)

    restarted = env.open_operator()
    acknowledged.append(env.client(alice).withdraw(USDC))  # after the restart
    caplog.set_level(logging.INFO, logger="zkperp")
    env.run_operator()

    resealed = restarted.store.get_blocks()[1]
    assert resealed.number == 2 and resealed.timestamp > stale.block.timestamp + DAY_S
    assert resealed.l2_seqs[:2] == tuple(acknowledged[:2])  # the same log, the same order
    assert "block 2 taken back: sealed" in caplog.text and "block 2 re-sealed" in caplog.text
    assert restarted.store.get_dropped() == {}
    assert_settled(env, acknowledged)
    assert env.rollup.functions.pendingBalances(bob.address).call() == 3 * USDC
    assert env.rollup.functions.pendingBalances(alice.address).call() == USDC


def test_a_proof_l1_refuses_is_reverted_and_the_block_resealed(
    env: RollupEnv, caplog: pytest.LogCaptureFixture
) -> None:
    alice, bob = env.users
    prover = FaultyProver(env.provers, block=2, failures=1, mode="refused")
    use_prover(env, prover)
    acknowledged = [env.client(alice).transfer(bob.account, 2 * USDC)]
    acknowledged.append(env.client(bob).transfer(alice.account, USDC))
    caplog.set_level(logging.INFO, logger="zkperp")
    env.run_operator()

    assert prover.attempts == [2, 2]
    reverted = env.rollup.events.BatchesReverted().get_logs(from_block=env.start_block)
    assert [(e["args"]["totalBatchesCommitted"], e["args"]["reverted"]) for e in reverted] == [
        (1, 1)
    ]
    assert "batches 2..2 reverted on L1" in caplog.text and "block 2 re-sealed" in caplog.text
    # the refused one call left nothing on L1; the separate calls committed, then were refused;
    # the re-sealed block's good proof went through in one call
    assert "block 2: one call refused" in caplog.text
    assert "block 2 committed, verified and executed in one call" in caplog.text
    assert env.operator is not None and env.operator.store.get_dropped() == {}
    assert_settled(env, acknowledged)
    accounts = env.operator.state.accounts
    assert accounts[alice.account].collateral == 9 * USDC
    assert accounts[bob.account].collateral == 11 * USDC


def test_a_block_that_keeps_failing_to_prove_loses_its_l2_transactions(
    env: RollupEnv, caplog: pytest.LogCaptureFixture
) -> None:
    alice, bob = env.users
    operator = env.operator
    assert operator is not None
    prover = FaultyProver(env.provers, block=2, failures=2, mode="raise")
    use_prover(env, prover)
    doomed = env.client(alice).transfer(bob.account, USDC)
    caplog.set_level(logging.INFO, logger="zkperp")
    assert operator.step() is not None  # block 2 sealed; it fails twice and is taken back
    assert prover.attempts == [2, 2]
    assert operator.store.get_blocks()[-1].number == 1  # nothing of block 2 was left
    (error,) = operator.store.get_dropped().values()
    assert error.startswith("ProofFailed: the prover failed: ProofError")
    assert f"block 2 dropped transaction #{doomed}" in caplog.text
    assert len(env.rollup.events.BatchesReverted().get_logs(from_block=env.start_block)) == 2

    # the wallet signs again (the dropped transfer left its nonce unused), and it goes through
    again = env.client(alice).transfer(bob.account, USDC)
    env.run_operator()
    assert prover.attempts == [2, 2, 2]
    assert_settled(env, [again])
    assert operator.state.accounts[bob.account].collateral == 11 * USDC
