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
from tests.contracts.support import USDC, Rollup, deploy

pytestmark = pytest.mark.devnet


@pytest.fixture
def env(w3: Web3) -> Rollup:
    return deploy(w3)


def watcher(env: Rollup, path: Path, confirmations: int = 2) -> L1Watcher:
    start = env.w3.eth.get_transaction_receipt(
        env.rollup.events.BatchCommitted().get_logs(from_block=0)[0]["transactionHash"]
    )["blockNumber"]
    return L1Watcher(env.w3, env.rollup, Store(path), confirmations, start)


def mine(w3: Web3, blocks: int) -> None:
    for _ in range(blocks):
        chain.rpc(w3, "evm_mine")


def test_requests_are_taken_after_confirmations_exactly_once(env: Rollup, tmp_path: Path) -> None:
    alice, bob = env.users[:2]
    w = watcher(env, tmp_path / "op.sqlite", confirmations=2)
    env.deposit(alice, 3, 5 * USDC)
    env.deposit(bob, 4, 7 * USDC)
    # alice's deposit has bob's three transactions on top; bob's has none yet
    assert [r.id for r in w.poll()] == [0]
    mine(env.w3, 1)
    assert w.poll() == []
    mine(env.w3, 1)
    assert [r.id for r in w.poll()] == [1]
    assert [r.request for r in w.store.get_requests(0)] == env.requests
    assert w.poll() == [] and w.store.count_requests() == 2
    mine(env.w3, 5)
    assert w.poll() == []
    assert w.cursor == env.w3.eth.block_number - 2


def test_a_restarted_watcher_resumes_from_its_cursor(env: Rollup, tmp_path: Path) -> None:
    path = tmp_path / "op.sqlite"
    alice = env.users[0]
    env.deposit(alice, 3, 5 * USDC)
    mine(env.w3, 1)
    first = watcher(env, path, confirmations=1)
    assert [r.id for r in first.poll()] == [0]
    cursor = first.cursor
    first.store.close()
    env.queue(env.rollup.functions.requestForcedWithdraw(3, USDC), alice)
    env.deposit(alice, 3, 2 * USDC)
    mine(env.w3, 1)
    again = watcher(env, path, confirmations=1)
    assert again.cursor == cursor  # persisted
    assert [r.id for r in again.poll()] == [1, 2]
    stored = again.store.get_requests(0)
    assert [r.request for r in stored] == env.requests
    assert stored[-1].chain_hash == pubdata.compute_priority_chain(env.requests)


def test_scanning_the_same_blocks_again_takes_nothing_twice(env: Rollup, tmp_path: Path) -> None:
    w = watcher(env, tmp_path / "op.sqlite", confirmations=0)
    env.deposit(env.users[0], 3, 5 * USDC)
    env.deposit(env.users[1], 4, 5 * USDC)
    assert len(w.poll()) == 2
    w.store.set_meta(CURSOR_KEY, str(w.start_block - 1))  # as if the cursor were lost
    assert w.poll() == []
    assert w.store.count_requests() == 2


def test_a_request_off_the_hash_chain_stops_the_watcher(env: Rollup, tmp_path: Path) -> None:
    w = watcher(env, tmp_path / "op.sqlite", confirmations=0)
    env.deposit(env.users[0], 3, 5 * USDC)
    w.poll()
    w.store.db.execute("UPDATE priority_requests SET chain_hash = ? WHERE id = 0", (bytes(32),))
    env.deposit(env.users[0], 3, 5 * USDC)
    with pytest.raises(WatcherError, match="request 1"):
        w.poll()
    assert w.store.count_requests() == 1
