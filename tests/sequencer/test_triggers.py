"""The operator's trigger pass (``sequencer/triggers.py``): each block fires the trigger orders
whose mark has reached their price and removes the dead ones, after the priority requests and
before the L2 transactions, with the claims each firing needs; the block is proven as built, and
a trigger whose mark has not reached it stays."""

from __future__ import annotations

import copy

from protocol.ops.cancel_all import CancelAll
from protocol.ops.claim import Claim
from protocol.ops.trigger_order import FireTrigger
from sequencer.builder import build_block
from sequencer.triggers import get_due_triggers
from sequencer.witness import build_block_inputs
from tests.circuits.test_block import FAR, check_block, next_block, signed
from tests.circuits.test_trigger_order import MARK, set_index, triggered_state
from tests.protocol.helpers import BTC


def test_only_the_triggers_the_mark_reached_are_due() -> None:
    state = triggered_state()  # sell stop-loss 0 and buy take-profit 3 fire at MARK - 5
    assert get_due_triggers(state) == []
    set_index(state, MARK - 30)  # the mark MARK - 10
    assert get_due_triggers(state) == [FireTrigger(BTC, 0), FireTrigger(BTC, 3)]
    set_index(state, MARK + 30)  # the mark MARK + 9
    assert get_due_triggers(state) == [FireTrigger(BTC, 1), FireTrigger(BTC, 2)]


def test_a_dead_trigger_is_due_whatever_the_mark() -> None:
    state = triggered_state()
    check_block(state, next_block(state, [signed(CancelAll(3, state.accounts[3].nonce, FAR), 3)]))
    assert get_due_triggers(state) == [FireTrigger(BTC, 1), FireTrigger(BTC, 3)]


def test_the_builder_fires_what_is_due_and_the_block_is_proven() -> None:
    state = triggered_state()
    set_index(state, MARK - 30)
    before = copy.deepcopy(state)
    sealed = build_block(state, state.block_number + 1, state.timestamp + 10, [], [])
    # two heavy slots: 4's stop-loss and its claim (the step limit); 3's take-profit waits
    assert sealed.block.operations == (FireTrigger(BTC, 0), Claim(4))
    assert sorted(state.markets[BTC].triggers) == [1, 2, 3]
    cs, values = build_block_inputs(before, sealed.block)
    cs.check(values)
    assert cs.public_inputs(values)[1] == sealed.state_root
