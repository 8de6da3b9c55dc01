"""The L1 watcher: priority requests taken from the rollup's events only after N confirmations,
each exactly once and in queue order, across restarts, with its cursor persisted; a request that
does not extend the queue's hash chain stops it."""

from __future__ import annotations

from pathlib import Path

import pytest
from web3 import Web3

from protocol import pubdata
from scripts import chain
from sequencer.store import Store
from sequencer.watcher import CURSOR_KEY, L1Watcher, WatcherError
from tests.sequencer.rollup_env import USDC, RollupEnv, deploy_env

pytestmark = pytest.mark.devnet


@pytest.fixture
def env(w3: Web3, tmp_path: Path) -> RollupEnv:
    return deploy_env(w3, tmp_path, users=2)


def watcher(env: RollupEnv, confirmations: int) -> L1Watcher:
    """A watcher on the operator's file (a new one each time: as after a restart)."""
    return L1Watcher(env.w3, env.rollup, Store(env.store_path), confirmations, env.start_block)


def queued(env: RollupEnv) -> list[bytes]:
    """Every request the rollup queued, in id order, as its events carry them."""
    logs = env.rollup.events.PriorityRequestQueued().get_logs(from_block=env.start_block)
    return [bytes(e["args"]["request"]) for e in sorted(logs, key=lambda e: e["args"]["requestId"])]


def mine(w3: Web3, blocks: int) -> None:
    for _ in range(blocks):
        chain.rpc(w3, "evm_mine")


def test_requests_are_taken_after_confirmations_exactly_once(env: RollupEnv) -> None:
    alice, bob = env.users
    w = watcher(env, confirmations=2)
    env.deposit(alice, 5 * USDC)
    env.deposit(bob, 7 * USDC)
    # alice's deposit has bob's mint, approve and deposit on top; bob's has nothing yet
    assert [r.id for r in w.poll()] == [0]
    mine(env.w3, 1)
    assert w.poll() == []
    mine(env.w3, 1)
    assert [r.id for r in w.poll()] == [1]
    assert [r.request for r in w.store.get_requests(0)] == queued(env)
    mine(env.w3, 5)
    assert w.poll() == [] and w.store.count_requests() == 2
    assert w.cursor == env.w3.eth.block_number - 2


def test_a_restarted_watcher_resumes_from_its_cursor(env: RollupEnv) -> None:
    alice, _ = env.users
    env.deposit(alice, 5 * USDC)
    mine(env.w3, 1)
    first = watcher(env, confirmations=1)
    assert [r.id for r in first.poll()] == [0]
    cursor = first.cursor
    first.store.close()
    env.forced_withdraw(alice, USDC)
    env.deposit(alice, 2 * USDC)
    mine(env.w3, 1)
    again = watcher(env, confirmations=1)
    assert again.cursor == cursor  # persisted
    assert [r.id for r in again.poll()] == [1, 2]
    stored = again.store.get_requests(0)
    assert [r.request for r in stored] == queued(env)
    assert stored[-1].chain_hash == pubdata.compute_priority_chain(queued(env))


def test_scanning_the_same_blocks_again_takes_nothing_twice(env: RollupEnv) -> None:
    w = watcher(env, confirmations=0)
    for user in env.users:
        env.deposit(user, 5 * USDC)
    assert len(w.poll()) == 2
    w.store.set_meta(CURSOR_KEY, str(w.start_block - 1))  # as if the cursor were lost
    assert w.poll() == []
    assert w.store.count_requests() == 2


def test_a_request_off_the_hash_chain_stops_the_watcher(env: RollupEnv) -> None:
    alice, _ = env.users
    w = watcher(env, confirmations=0)
    env.deposit(alice, 5 * USDC)
    w.poll()
    w.store.db.execute("UPDATE priority_requests SET chain_hash = ? WHERE id = 0", (bytes(32),))
    env.deposit(alice, 5 * USDC)
    with pytest.raises(WatcherError, match="request 1"):
        w.poll()
    assert w.store.count_requests() == 1
