"""Trigger orders in the block circuit (``circuits/ops/trigger_order.py``): a stop-loss or
take-profit order fires when the block's mark has reached its trigger price, as a reduce-only
IOC market taker that claims continue, or, dead (its owner cancelled all), is removed; both
proven with the rules' roots, and a firing before the mark reaches the trigger price is refused
at ``mark_reached`` (docs/PROTOCOL.md 8.22). The trigger orders are placed natively (placing one
is not proven yet), and the mark moves by the oracle's signed prices, pre-executed natively (the
trading preset's blocks have no market slot)."""

from __future__ import annotations

import copy

import pytest

from protocol.block import (
    Block,
    process_block,
    process_block_end,
    process_block_header,
    process_operation_with_claims,
)
from protocol.errors import InvalidTransaction, TriggerNotReached
from protocol.events import TakerDone, TriggerRemoved
from protocol.ops import trigger_order
from protocol.ops.cancel_all import CancelAll
from protocol.ops.claim import Claim
from protocol.ops.create_order import CreateOrder, OrderKind, TimeInForce
from protocol.ops.trigger_order import FireTrigger
from protocol.orders import TRIGGER
from protocol.state import State
from sequencer.witness import build_slot_witness
from tests.circuits.forced import forced_witness
from tests.circuits.test_block import (
    FAR,
    PRICES,
    check_block,
    next_block,
    order,
    rejection,
    resting_state,
    signed,
    started_block,
    with_claims,
)
from tests.protocol.helpers import BTC, oracle_price

MARK = PRICES[BTC]
SL, TP = OrderKind.STOP_LOSS, OrderKind.TAKE_PROFIT
# resting_state: 3 asks 100 + 100 at MARK + 10, 4 bids 100 at MARK - 10; 3 short, 4 long 500.
# ``triggered_state`` adds 5's bid of 50 at MARK - 8 and ask of 50 at MARK + 8, then these
# trigger orders (ids 0..3): (account, nonce, is_ask, kind, size, worst price, trigger price)
TRIGGERS = (
    (4, 2, True, SL, 80, MARK - 50, MARK - 5),  # 4's sell stop-loss: fires at mark <= trigger
    (3, 3, False, SL, 80, MARK + 50, MARK + 5),  # 3's buy stop-loss: mark >= trigger
    (4, 3, True, TP, 30, MARK - 50, MARK + 5),  # 4's sell take-profit: mark >= trigger
    (3, 4, False, TP, 30, MARK + 50, MARK - 5),  # 3's buy take-profit: mark <= trigger
)


def triggered_state() -> State:
    """``resting_state`` with 5's two orders around the mark and the four trigger orders
    (placed natively: placing one is not proven yet)."""
    state = resting_state()
    process_block_header(state, state.block_number + 1, state.timestamp + 10)
    ops = [order(5, 0, False, MARK - 8, 50), order(5, 1, True, MARK + 8, 50)]
    for account, nonce, is_ask, kind, size, worst, trigger in TRIGGERS:
        op = CreateOrder(
            account, nonce, FAR, BTC, is_ask, size, worst, kind, TimeInForce.IOC, True, trigger
        )
        ops.append(signed(op, account))
    for op in ops:
        process_operation_with_claims(state, op)
    process_block_end(state)
    assert sorted(state.markets[BTC].triggers) == [0, 1, 2, 3]
    return state


def set_index(state: State, price: int) -> None:
    """A block of the oracle's signed index ``price`` for BTC (applied natively: these blocks
    have no market slot); its pre-execution moves the mark (about the book's impact prices:
    9,990 for an index of 9,970, 10,009 for 10,030)."""
    ts = state.timestamp + 10
    process_block(state, Block(state.block_number + 1, ts, (oracle_price(BTC, price, ts),)))


def set_mark(state: State, price: int) -> None:
    """The mark set directly, between blocks: a firing one tick before it is due."""
    with state.transaction():
        state.set_market_data(state.markets[BTC], "mark_price", price)


def fire(state: State, trigger_id: int) -> list[object]:
    """Proves a block of the firing and the claims it needs; returns its events' outcomes
    (how the trigger left its list, how its taker ended)."""
    ops = with_claims(state, [FireTrigger(BTC, trigger_id)])
    block = next_block(state, ops)
    events = process_block(copy.deepcopy(state), block).events
    check_block(state, block)
    assert state.pending is None
    assert trigger_id not in state.markets[BTC].triggers
    kinds = (TriggerRemoved, TakerDone)
    return [
        e.reason if isinstance(e, TriggerRemoved) else e.outcome
        for step in events
        for e in step
        if isinstance(e, kinds)
    ]


# trigger id, the signed index price that moves the mark past the trigger price, the outcomes
# (a buy stop-loss's claim meets 3's own asks, cancelled)
FIRED = {
    "sell stop-loss": (0, MARK - 30, ["fired", "step-limit"]),
    "sell stop-loss, index far below": (0, MARK - 200, ["fired", "step-limit"]),
    "buy stop-loss": (1, MARK + 30, ["fired", "step-limit"]),
    "sell take-profit": (2, MARK + 200, ["fired", "filled"]),
    "buy take-profit": (3, MARK - 30, ["fired", "filled"]),
}


@pytest.mark.parametrize("name", sorted(FIRED))
def test_a_trigger_order_whose_mark_is_reached_fires(name: str) -> None:
    trigger_id, index, outcomes = FIRED[name]
    state = triggered_state()
    trigger = state.markets[BTC].triggers[trigger_id]
    assert (TRIGGER, BTC, trigger_id) in state.accounts[trigger.account].orders
    set_index(state, index)
    assert trigger.is_triggered(state.markets[BTC].data.mark_price)
    owner = trigger.account
    assert fire(state, trigger_id) == outcomes
    assert (TRIGGER, BTC, trigger_id) not in state.accounts[owner].orders


def test_a_fired_stop_loss_takes_its_claims() -> None:
    """4's stop-loss sells 80: 50 to 5's bid, then its claims meet 4's own bid (cancelled,
    self-trade) and the step limit; trading_slots 2, so one claim."""
    state = triggered_state()
    set_index(state, MARK - 30)
    ops = with_claims(state, [FireTrigger(BTC, 0)])
    assert ops == [FireTrigger(BTC, 0), Claim(4)]
    position, count = state.accounts[4].positions[BTC].size, state.accounts[4].open_orders
    check_block(state, next_block(state, ops))
    assert state.accounts[4].positions[BTC].size == position - 50
    assert state.accounts[4].open_orders == count - 2  # the trigger order and its own bid


def test_a_dead_trigger_order_is_removed_whatever_the_mark() -> None:
    """4 cancels all (proven), then its stop-loss, the mark far from it, is removed."""
    state = triggered_state()
    nonce = state.accounts[4].nonce
    check_block(state, next_block(state, [signed(CancelAll(4, nonce, FAR), 4)]))
    position = state.accounts[4].positions[BTC].size
    assert fire(state, 0) == ["cancel-all"]
    assert state.accounts[4].open_orders == 0
    assert state.accounts[4].positions[BTC].size == position


def test_a_trigger_order_with_nothing_to_reduce_is_consumed() -> None:
    """3's buy take-profit after 3 closed its short: the taker ends (reduce-only) and the
    trigger is gone."""
    state = triggered_state()
    state.accounts[3].positions[BTC].size = 0  # as if closed: nothing to reduce
    state.accounts[3].positions.pop(BTC)
    state.dirty.accounts.add(3)
    set_index(state, MARK - 30)
    assert fire(state, 3) == ["fired", "ReduceOnlyViolation"]


def _early_record(state: State, trigger_id: int) -> bytes:
    """What a cheating operator posts for a firing the rules refuse: the owner, nothing filled."""
    owner = state.markets[BTC].triggers[trigger_id].account
    return trigger_order.RECORD.encode((owner, BTC, trigger_id, 0, 0))


# trigger id, a mark one tick short of its trigger price
EARLY = {
    "sell stop-loss": (0, MARK - 4),
    "buy stop-loss": (1, MARK + 4),
    "sell take-profit": (2, MARK + 4),
    "buy take-profit": (3, MARK - 4),
}


@pytest.mark.parametrize("name", sorted(EARLY))
def test_a_trigger_fired_before_the_mark_reaches_it_is_refused(name: str) -> None:
    trigger_id, mark = EARLY[name]
    state = triggered_state()
    set_mark(state, mark)
    scratch = started_block(state)
    op = FireTrigger(BTC, trigger_id)
    with pytest.raises(TriggerNotReached, match="has not reached"):
        build_slot_witness(copy.deepcopy(scratch), op)
    witness = forced_witness(scratch, op, _early_record(scratch, trigger_id))
    assert rejection(witness).startswith("slot0/trigger_order/mark_reached/")


def test_an_unknown_trigger_order_cannot_be_proven() -> None:
    state = triggered_state()
    scratch = started_block(state)
    with pytest.raises(InvalidTransaction, match="no trigger order 9"):
        build_slot_witness(copy.deepcopy(scratch), FireTrigger(BTC, 9))
