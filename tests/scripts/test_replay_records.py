"""Reconstruction's replay without a chain: the records of sealed blocks, turned back into
operations by the descriptors (``scripts.reconstruct.compute_operations``), replay to the same
records and the same state root."""

from __future__ import annotations

import copy

import pytest

from protocol.block import Block, process_block
from protocol.commitment import update_state_root
from protocol.pubdata import OpType
from scripts.reconstruct import ReconstructionError, compute_operations
from sequencer.builder import build_block
from sequencer.codec import encode_tx
from tests.sequencer.helpers import (
    CONFIG,
    USDC,
    chain_requests,
    forced_withdraw_request,
    open_accounts,
    transfer,
    withdraw,
)


def test_sealed_blocks_replay_from_their_records() -> None:
    state = CONFIG.make_genesis(check_signatures=False)
    live = CONFIG.make_genesis()
    opening = chain_requests(open_accounts([3, 4], 5 * USDC))
    txs = [(1, encode_tx(transfer(3, 0, 4, USDC))), (2, encode_tx(withdraw(4, 0, 2 * USDC)))]
    forced = chain_requests([forced_withdraw_request(3, USDC)], 4, opening[-1].chain_hash)
    blocks = [(1, 1_000, opening, []), (2, 1_001, forced, txs)]
    for number, timestamp, requests, l2 in blocks:
        sealed = build_block(live, number, timestamp, requests, l2)
        before = copy.deepcopy(state)
        ops = compute_operations(before, sealed.records, timestamp)
        result = process_block(state, Block(number, timestamp, ops))
        assert result.records == sealed.records
        assert update_state_root(state) == sealed.state_root
    types = [r[0] for r in sealed.records]
    assert types == [OpType.FORCED_WITHDRAW, OpType.TRANSFER, OpType.WITHDRAW, *[OpType.NOOP] * 3]


def test_a_record_that_is_no_operation_is_refused() -> None:
    state = CONFIG.make_genesis(check_signatures=False)
    with pytest.raises(ReconstructionError, match="not an operation type"):
        compute_operations(state, [b"\x09" + bytes(63)], 1_000)
