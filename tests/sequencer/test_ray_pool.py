"""Proving on Ray: two workers on a local Ray instance (127.0.0.1) prove three consecutive
blocks of a real rollup on the devnet at once, out of order, and the operator submits them to
L1 in order, once each; a worker killed (SIGKILL) while it holds a block has the block proven
again on the other worker, and L1 still sees each batch once, in order.

The workers are ``BlockProofWorker`` with one hook: they hold a chosen block back until a flag
file appears, so the order in which proofs finish is set by the test, not by the machine's load.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray
from web3 import Web3

from scripts.commands.operator import KEYS_DIR
from sequencer.operator import Operator
from sequencer.prover_worker import ProofError
from sequencer.ray_pool import BlockProofWorker, ProofDone, RayProofPool
from sequencer.submitter import get_l1_progress
from tests.sequencer.rollup_env import USDC, RollupEnv, deploy_env

pytestmark = [pytest.mark.devnet, pytest.mark.prove, pytest.mark.ray]

FLAGS_ENV = "ZKPERP_TEST_RAY_FLAGS"  # the folder of the flag files, shared with the workers
HOLD_LIMIT_S = 300.0


def wait_for(path: Path, limit_s: float = HOLD_LIMIT_S) -> None:
    deadline = time.monotonic() + limit_s
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} never appeared")
        time.sleep(0.05)


class OutOfOrderWorker(BlockProofWorker):
    """Proves block 1 only once block 2 is proven."""

    def prove(self, batch: int, witness: list[int]) -> ProofDone:
        flags = Path(os.environ[FLAGS_ENV])
        if batch == 1:
            wait_for(flags / "proved-2")
        done = super().prove(batch, witness)
        (flags / f"proved-{batch}").touch()
        return done


class FailingOnceWorker(BlockProofWorker):
    """Fails its first proof of block 2 the way the prover's own check does."""

    def prove(self, batch: int, witness: list[int]) -> ProofDone:
        flag = Path(os.environ[FLAGS_ENV]) / "failed-2"
        if batch == 2 and not flag.exists():
            flag.touch()
            raise ProofError("the block proof does not verify")
        return super().prove(batch, witness)


class HoldingWorker(BlockProofWorker):
    """The first worker given block 2 writes its pid to ``holding-2`` and waits there (to be
    killed); any later attempt proves it at once."""

    def prove(self, batch: int, witness: list[int]) -> ProofDone:
        flags = Path(os.environ[FLAGS_ENV])
        if batch == 2:
            try:
                os.close(os.open(flags / "claimed-2", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                pass  # the second attempt
            else:
                # written whole, then renamed, so the test never reads a half-written pid
                (flags / "holding-2.part").write_text(str(os.getpid()))
                os.replace(flags / "holding-2.part", flags / "holding-2")
                wait_for(flags / "never")
        return super().prove(batch, witness)


@pytest.fixture(scope="module")
def flags(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A local Ray instance, kept small, whose workers see the flag folder; shut down after."""
    folder = tmp_path_factory.mktemp("ray-flags")
    os.environ[FLAGS_ENV] = str(folder)
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=100 << 20,
        _node_ip_address="127.0.0.1",
        configure_logging=False,
    )
    try:
        yield folder
    finally:
        ray.shutdown()
        del os.environ[FLAGS_ENV]


def clear(folder: Path) -> None:
    for path in folder.iterdir():
        path.unlink()


def seal_three_blocks(env: RollupEnv) -> Operator:
    """Blocks 1, 2, 3 sealed (a deposit, a deposit, a key registration), none settled."""
    operator = env.open_operator()
    alice, bob = env.users
    for request in (lambda: env.deposit(alice, 10 * USDC), lambda: env.deposit(bob, 5 * USDC),
                    lambda: env.register_key(alice)):  # fmt: skip
        request()
        operator.watcher.poll()
        assert operator.seal_block() is not None
    assert [b.number for b in operator.unfinished] == [1, 2, 3]
    return operator


def assert_on_l1_once_in_order(env: RollupEnv, operator: Operator) -> None:
    events = env.rollup.events
    for event in (events.BatchCommitted, events.BatchVerified, events.BatchExecuted):
        logs = event().get_logs(from_block=env.start_block)
        numbers = [e["args"]["batchNumber"] for e in logs if e["args"]["batchNumber"]]
        assert numbers == [1, 2, 3], event.event_name  # (batch 0 is the genesis)
    assert events.BatchesReverted().get_logs(from_block=env.start_block) == []
    progress = get_l1_progress(env.rollup)
    assert progress.committed == progress.verified == progress.executed == 3
    assert operator.unfinished == [] and operator.proofs == {}
    assert all(operator.store.get_proof(n) is not None for n in (1, 2, 3))


def test_two_workers_prove_three_blocks_out_of_order_and_l1_gets_them_in_order(
    w3: Web3, tmp_path: Path, flags: Path
) -> None:
    clear(flags)
    env = deploy_env(w3, tmp_path, users=2)
    pool = RayProofPool(env.provers, "minimal", KEYS_DIR, 2, OutOfOrderWorker)
    try:
        operator = seal_three_blocks(env)
        operator.prover = pool
        operator.settle()
    finally:
        pool.close()

    proved = {e.batch: e for e in pool.events if e.kind == "proved"}
    sent = {e.batch: e for e in pool.events if e.kind == "sent"}
    assert proved[2].at < proved[1].at  # finished out of order
    assert proved[1].worker != proved[2].worker  # side by side
    assert sent[2].at < proved[1].at  # block 2's witness was built while block 1 was proven
    assert [e.kind for e in pool.events].count("died") == 0
    assert_on_l1_once_in_order(env, operator)
    assert operator.state.accounts[env.users[1].account].collateral == 5 * USDC


def test_a_killed_worker_has_its_block_proven_on_the_other(
    w3: Web3, tmp_path: Path, flags: Path
) -> None:
    clear(flags)
    env = deploy_env(w3, tmp_path, users=2)
    pool = RayProofPool(env.provers, "minimal", KEYS_DIR, 2, HoldingWorker)
    killed: list[int] = []

    def kill_the_holder() -> None:
        wait_for(flags / "holding-2")
        pid = int((flags / "holding-2").read_text())
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    killer = threading.Thread(target=kill_the_holder, daemon=True)
    try:
        pids = pool.get_worker_pids()
        operator = seal_three_blocks(env)
        operator.prover = pool
        killer.start()
        operator.settle()
    finally:
        killer.join(timeout=1)
        pool.close()

    assert len(killed) == 1 and killed[0] in pids
    died = [e for e in pool.events if e.kind == "died"]  # block 2, and 3 if queued behind it
    assert {e.batch for e in died} in ({2}, {2, 3}) and len(died) == len({e.batch for e in died})
    proved = {e.batch: e for e in pool.events if e.kind == "proved"}
    for death in died:  # proven elsewhere
        assert proved[death.batch].pid != killed[0]
        assert proved[death.batch].worker != death.worker
    assert_on_l1_once_in_order(env, operator)


def test_a_proof_failing_on_a_worker_is_reverted_and_resealed_with_the_blocks_after_it(
    w3: Web3, tmp_path: Path, flags: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clear(flags)
    env = deploy_env(w3, tmp_path, users=2)
    pool = RayProofPool(env.provers, "minimal", KEYS_DIR, 2, FailingOnceWorker)
    caplog.set_level(logging.INFO, logger="zkperp")
    try:
        operator = seal_three_blocks(env)
        operator.prover = pool
        operator.settle()
    finally:
        pool.close()

    assert "block 2 taken back: the prover failed: ProofError" in caplog.text
    events = env.rollup.events
    reverted = events.BatchesReverted().get_logs(from_block=env.start_block)
    assert [(e["args"]["totalBatchesCommitted"], e["args"]["reverted"]) for e in reverted] == [
        (1, 1)
    ]
    # blocks 2 and 3 were taken back; their two requests fit one block, sealed again as 2
    assert [b.number for b in operator.store.get_blocks()] == [1, 2]
    for event in (events.BatchVerified, events.BatchExecuted):
        numbers = [e["args"]["batchNumber"] for e in event().get_logs(from_block=env.start_block)]
        assert numbers == [1, 2], event.event_name
    progress = get_l1_progress(env.rollup)
    assert progress.committed == progress.verified == progress.executed == 2
    assert operator.unfinished == [] and operator.proofs == {}
    alice, bob = env.users
    assert operator.state.accounts[bob.account].collateral == 5 * USDC
    assert operator.state.accounts[alice.account].has_key()
