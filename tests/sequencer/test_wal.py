"""The mempool's write-ahead log: an acknowledged transaction survives a crash (SIGKILL of the
writing process), and replaying the log rebuilds exactly the state the operator had."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from protocol.commitment import update_state_root
from protocol.state import State
from sequencer.builder import BuilderError, build_block, replay_block
from sequencer.codec import L2Transaction
from sequencer.mempool import Mempool
from sequencer.store import Store
from tests.sequencer.helpers import (
    CONFIG,
    USDC,
    chain_requests,
    open_accounts,
    state_digest,
    transfer,
    withdraw,
)

ROOT = Path(__file__).resolve().parents[2]


def replay(store: Store) -> tuple[State, dict[int, str]]:
    """A fresh genesis with the store's blocks replayed; the digest after each block."""
    state = CONFIG.make_genesis()
    digests = {}
    for record in store.get_blocks():
        replay_block(state, store, record)
        digests[record.number] = state_digest(state)
    return state, digests


def run_child_until(path: Path, acks: int) -> tuple[list[int], dict[int, str]]:
    """Runs the writer until it has acknowledged ``acks`` transactions, then SIGKILLs it."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.sequencer.wal_child", str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    acked: list[int] = []
    sealed: dict[int, str] = {}
    assert child.stdout is not None
    try:
        for line in child.stdout:
            kind, *rest = line.split()
            if kind == "ack":
                acked.append(int(rest[0]))
            else:
                sealed[int(rest[0])] = rest[1]
            if len(acked) >= acks:
                break
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    return acked, sealed


def test_the_store_runs_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    store = Store(tmp_path / "op.sqlite")
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_acknowledged_transactions_survive_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "op.sqlite"
    acked, sealed = run_child_until(path, acks=14)
    store = Store(path)
    state, digests = replay(store)
    for number, digest in sealed.items():
        assert digests[number] == digest  # every block it reported comes back the same
    logged = {seq for seq, _ in Mempool(store).get_pending()}
    included = {seq for r in store.get_blocks() for seq in r.l2_seqs}
    assert set(acked) <= logged | included  # nothing acknowledged is lost
    assert not logged & included
    # the operator goes on from there: the pending transfers fit the replayed nonces
    pending = Mempool(store).get_pending()
    nonce_before = state.accounts[3].nonce
    sealed_next = build_block(state, state.block_number + 1, 2_000, [], pending)
    assert sealed_next.dropped == {}
    assert state.accounts[3].nonce == nonce_before + min(len(pending), 4)


def test_replaying_the_log_rebuilds_the_same_state(tmp_path: Path) -> None:
    path = tmp_path / "op.sqlite"
    store = Store(path)
    mempool = Mempool(store)
    state = CONFIG.make_genesis()
    store.add_requests(chain_requests(open_accounts([3, 4, 5], 10 * USDC)), "c", 1)
    txs: list[L2Transaction] = [transfer(3, 0, 4, USDC), transfer(3, 9, 5, USDC)]
    txs += [withdraw(4, 0, 2 * USDC)]
    txs += [transfer(5, 0, 3, USDC), transfer(4, 1, 5, 3 * USDC), transfer(5, 1, 4, 1)]
    txs += [transfer(5, 2, 4, 1), transfer(5, 3, 4, 1)]  # the last one stays pending
    for tx in txs:
        mempool.submit(tx)
    for number in (1, 2, 3):
        first = sum(r.priority_count for r in store.get_blocks())
        requests = store.get_requests(first, 4)
        sealed = build_block(state, number, 1_000 * number, requests, mempool.get_pending())
        store.add_block(sealed.record, sealed.dropped)
    store.close()

    reopened = Store(path)
    replayed, _ = replay(reopened)
    assert state_digest(replayed) == state_digest(state)
    assert update_state_root(replayed) == update_state_root(state)
    assert Mempool(reopened).get_pending_transactions() == [txs[-1]]
    (error,) = reopened.get_dropped().values()
    assert error.startswith("InvalidNonce")


def test_replay_refuses_a_log_that_does_not_give_the_sealed_root(tmp_path: Path) -> None:
    store = Store(tmp_path / "op.sqlite")
    state = CONFIG.make_genesis()
    store.add_requests(chain_requests(open_accounts([3], 10 * USDC)), "c", 1)
    sealed = build_block(state, 1, 1_000, store.get_requests(0), [])
    store.add_block(sealed.record, sealed.dropped)
    store.db.execute("UPDATE blocks SET state_root = '0x1234' WHERE number = 1")
    with pytest.raises(BuilderError, match="block 1"):
        replay(store)
