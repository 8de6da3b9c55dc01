"""The block builder: priority requests first, then L2 transactions, noop padding; rejected
transactions dropped with their error and no trace in the state; the same result as the rules'
own process_block."""

from __future__ import annotations

import pytest

from protocol import pubdata
from protocol.block import Block, process_block
from protocol.commitment import update_state_root
from protocol.ops.deposit import RECORD as DEPOSIT
from protocol.ops.registry import request_of
from protocol.state import State
from sequencer.builder import BuilderError, build_block
from sequencer.codec import encode_tx
from tests.sequencer.helpers import (
    CONFIG,
    USDC,
    chain_requests,
    forced_withdraw_request,
    open_accounts,
    owner_of,
    state_digest,
    transfer,
    withdraw,
)

SLOTS = CONFIG.preset.operation_slots  # the market slots after them: no prices, noops


def opened() -> tuple[State, int]:
    """Accounts 3 and 4 funded with keys (block 1); returns the state and the next request id."""
    state = CONFIG.make_genesis()
    requests = chain_requests(open_accounts([3, 4], 5 * USDC))
    sealed = build_block(state, 1, 1_000, requests, [])
    assert sealed.priority_count == SLOTS == len(requests)
    return state, SLOTS


def replicate(*blocks: Block) -> State:
    """A fresh genesis with ``blocks`` applied by the rules' own process_block."""
    state = CONFIG.make_genesis()
    for block in blocks:
        process_block(state, block)
    return state


def test_priority_requests_first_then_transactions_then_noops() -> None:
    state, first = opened()
    requests = chain_requests([forced_withdraw_request(3, USDC)], first)
    txs = [(10, encode_tx(transfer(3, 0, 4, USDC))), (11, encode_tx(withdraw(4, 0, USDC)))]
    sealed = build_block(state, 2, 1_001, requests, txs)
    types = [r[0] for r in sealed.records]
    assert types == [pubdata.OpType.FORCED_WITHDRAW, pubdata.OpType.TRANSFER,
                     pubdata.OpType.WITHDRAW, *[pubdata.OpType.NOOP] * 3]  # fmt: skip
    assert sealed.record.l2_seqs == (10, 11) and sealed.dropped == {}
    assert sealed.record.priority_first == first and sealed.priority_count == 1
    assert len(sealed.pubdata) == CONFIG.preset.ops_per_block * pubdata.OP_BYTES
    assert state.accounts[3].collateral == 3 * USDC and state.accounts[4].collateral == 5 * USDC


def test_a_rejected_transaction_is_dropped_and_leaves_no_trace() -> None:
    state, _ = opened()
    twin, _ = opened()
    bad = [(20, encode_tx(transfer(3, 7, 4, USDC))), (21, b"\x03not json")]
    sealed = build_block(state, 2, 1_001, [], [*bad, (22, encode_tx(transfer(3, 0, 4, USDC)))])
    build_block(twin, 2, 1_001, [], [(22, encode_tx(transfer(3, 0, 4, USDC)))])
    assert sealed.dropped.keys() == {20, 21}
    assert sealed.dropped[20].startswith("InvalidNonce")
    assert sealed.dropped[21].startswith("CodecError")
    assert sealed.record.l2_seqs == (22,)
    assert state_digest(state) == state_digest(twin)


def test_a_full_block_leaves_the_rest_pending() -> None:
    state, _ = opened()
    txs = [(30 + n, encode_tx(transfer(3, n, 4, 1))) for n in range(SLOTS + 2)]
    sealed = build_block(state, 2, 1_001, [], txs)
    assert sealed.record.l2_seqs == tuple(30 + n for n in range(SLOTS))
    assert sealed.dropped == {} and state.accounts[3].nonce == SLOTS


def test_the_result_is_the_rules_own() -> None:
    state, first = opened()
    requests = chain_requests([forced_withdraw_request(4, 2 * USDC)], first)
    sealed = build_block(state, 2, 1_005, requests, [(1, encode_tx(transfer(3, 0, 4, USDC)))])
    first_block = build_block(CONFIG.make_genesis(), 1, 1_000, chain_requests(
        open_accounts([3, 4], 5 * USDC)), []).block  # fmt: skip
    replica = replicate(first_block)
    result = process_block(replica, sealed.block)
    assert result.records == sealed.records
    assert update_state_root(replica) == sealed.state_root
    assert state_digest(replica) == state_digest(state)


def test_a_request_the_circuit_cannot_prove_stops_the_builder() -> None:
    state, first = opened()
    before = state_digest(state)
    # every request type is proven; an account outside the tree is not (L1 never queues it)
    outside = 1 << state.preset.account_tree_depth
    deposit = request_of(DEPOSIT.make(account=outside, owner=owner_of(3), amount=5).encode())
    with pytest.raises(BuilderError, match="priority request 4"):
        build_block(state, 2, 1_001, chain_requests([deposit], first), [])
    assert state_digest(state) == before
