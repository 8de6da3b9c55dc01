"""Taking sealed blocks back (what the operator does to a block L1 refused or never got): their
transactions are pending again in log order, their proofs and records gone, the drops final;
and sealing again from the same log at a later time gives the same block."""

from __future__ import annotations

from pathlib import Path

from sequencer.builder import build_block
from sequencer.mempool import Mempool
from sequencer.store import Store
from tests.sequencer.helpers import CONFIG, USDC, chain_requests, open_accounts, transfer


def test_discarded_blocks_give_their_transactions_back_in_log_order(tmp_path: Path) -> None:
    store = Store(tmp_path / "op.sqlite")
    mempool = Mempool(store)
    state = CONFIG.make_genesis()
    store.add_requests(chain_requests(open_accounts([3, 4], 10 * USDC)), "c", 1)
    first = build_block(state, 1, 1_000, store.get_requests(0, 4), [])
    store.add_block(first.record, first.dropped)
    seqs = [mempool.submit(transfer(3, n, 4, USDC)) for n in range(3)]
    bad = mempool.submit(transfer(4, 7, 3, USDC))  # a nonce gap: dropped
    second = build_block(state, 2, 2_000, [], mempool.get_pending())
    store.add_block(second.record, second.dropped, second.records)
    assert store.get_block_records(2) == second.records and store.get_block_records(1) == ()
    store.set_proof(1, b"p1")
    store.set_proof(2, b"p2")
    assert second.record.l2_seqs == tuple(seqs) and second.dropped.keys() == {bad}

    (taken,) = store.discard_blocks_from(2)
    assert taken == second.record
    assert [r.number for r in store.get_blocks()] == [1]
    assert [seq for seq, _ in mempool.get_pending()] == seqs  # in log order, the drop not back
    assert store.get_dropped().keys() == {bad}
    assert (store.get_proof(1), store.get_proof(2)) == (b"p1", None)
    assert store.get_block_records(2) == ()  # its records gone with it

    state = CONFIG.make_genesis()
    build_block(state, 1, 1_000, store.get_requests(0, 4), [])
    again = build_block(state, 2, 90_000, [], mempool.get_pending())
    assert again.record.l2_seqs == second.record.l2_seqs and again.dropped == {}
    assert again.record.timestamp == 90_000

    store.drop_txs(seqs[1:], 2, "ProofFailed: the prover failed")
    assert [seq for seq, _ in mempool.get_pending()] == seqs[:1]
    assert store.get_dropped()[seqs[2]] == "ProofFailed: the prover failed"
    assert store.discard_blocks_from(2) == []
