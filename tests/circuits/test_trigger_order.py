"""Trigger orders in the block circuit (``circuits/ops/trigger_order.py``): a stop-loss or
take-profit order fires when the block's mark has reached its trigger price, as a reduce-only
IOC market taker that claims continue, or, dead (its owner cancelled all), is removed; both
proven with the rules' roots, and a firing before the mark reaches the trigger price is refused
at ``mark_reached`` (docs/PROTOCOL.md 8.22). Placing one (a create order of a trigger kind,
8.16) and cancelling one (8.18) are proven too, each refused at its own constraint where the
rules refuse it. The mark moves by the oracle's signed prices, pre-executed natively (the
trading preset's blocks have no market slot)."""

from __future__ import annotations

import copy
from dataclasses import replace
from functools import cache
from typing import Any

import pytest

from protocol.block import (
    Block,
    Operation,
    process_block,
    process_block_end,
    process_block_header,
    process_operation_with_claims,
)
from protocol.errors import (
    InvalidTransaction,
    MalformedTransaction,
    NotOrderOwner,
    ReduceOnlyViolation,
    TooManyOpenOrders,
    TriggerNotReached,
    UnknownOrder,
)
from protocol.events import TakerDone, TriggerRemoved
from protocol.ops import trigger_order
from protocol.ops.cancel_all import CancelAll
from protocol.ops.cancel_order import CancelOrder
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


def place_trigger(
    account: int, nonce: int, is_ask: bool, kind: int, size: int, worst: int, trigger: int
) -> CreateOrder:
    op = CreateOrder(
        account, nonce, FAR, BTC, is_ask, size, worst, kind, TimeInForce.IOC, True, trigger
    )
    placed: CreateOrder = signed(op, account)
    return placed


@cache
def _triggered_state() -> State:
    state = resting_state()
    process_block_header(state, state.block_number + 1, state.timestamp + 10)
    for op in (order(5, 0, False, MARK - 8, 50), order(5, 1, True, MARK + 8, 50)):
        process_operation_with_claims(state, op)
    process_block_end(state)
    placements: list[Operation] = [place_trigger(*spec) for spec in TRIGGERS]
    for start in range(0, len(placements), state.preset.ops_per_block):
        check_block(state, next_block(state, placements[start : start + 2]))
    assert sorted(state.markets[BTC].triggers) == [0, 1, 2, 3]
    return state


def triggered_state() -> State:
    """``resting_state`` with 5's two orders around the mark (natively), then the four trigger
    orders, placed in proven blocks."""
    return copy.deepcopy(_triggered_state())


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
    state.dirty.positions.add((3, BTC))
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


# -- placing and cancelling ----------------------------------------------------------------------


def test_placed_trigger_orders_are_the_rules_leaves() -> None:
    """The four placements (proven in ``triggered_state``) wrote ids 0..3 with their owners'
    epochs, counted one open order each and moved the market's trigger nonce to 4."""
    state = triggered_state()
    market = state.markets[BTC]
    assert market.data.trigger_nonce == 4
    for trigger_id, (account, _, is_ask, kind, size, worst, price) in enumerate(TRIGGERS):
        trigger = market.triggers[trigger_id]
        assert (trigger.account, trigger.is_ask, trigger.size) == (account, is_ask, size)
        assert (trigger.worst_price, trigger.trigger_price) == (worst, price)
        assert trigger.is_stop_loss == (kind == SL)
        assert (TRIGGER, BTC, trigger_id) in state.accounts[account].orders


def test_a_trigger_order_is_placed_cancelled_and_another_fired_in_one_block() -> None:
    """3 places a buy take-profit (id 4) and cancels its buy stop-loss (id 1); then its
    take-profit 3, placed blocks earlier, fires."""
    state = triggered_state()
    count, nonce = state.accounts[3].open_orders, state.accounts[3].nonce
    ops = [
        place_trigger(3, nonce, False, TP, 20, MARK + 50, MARK - 6),
        signed(CancelOrder(3, nonce + 1, FAR, BTC, 1, True), 3),
    ]
    check_block(state, next_block(state, ops))
    assert sorted(state.markets[BTC].triggers) == [0, 2, 3, 4]
    assert state.accounts[3].open_orders == count
    set_index(state, MARK - 30)
    assert fire(state, 3) == ["fired", "filled"]


def _refused(state: State, op: object, error: type[Exception], match: str) -> str:
    """The rules refuse ``op``; the circuit refuses its forced slot: the constraint's name."""
    scratch = started_block(state)
    with pytest.raises(error, match=match):
        build_slot_witness(copy.deepcopy(scratch), op)  # type: ignore[arg-type]
    return rejection(forced_witness(scratch, op))  # type: ignore[arg-type]


def _cancel(state: State, account: int, trigger_id: int) -> CancelOrder:
    nonce = state.accounts[account].nonce
    op: CancelOrder = signed(CancelOrder(account, nonce, FAR, BTC, trigger_id, True), account)
    return op


def test_cancelling_another_accounts_trigger_order_is_refused() -> None:
    state = triggered_state()  # trigger 0 is 4's
    name = _refused(state, _cancel(state, 3, 0), NotOrderOwner, "belongs to account 4")
    assert name == "slot0/cancel_order/trigger_is_signers"


def test_cancelling_a_dead_trigger_order_is_refused() -> None:
    """4's cancel-all killed its trigger orders: cancelling one is UnknownOrder, as a dead
    resting order's."""
    state = triggered_state()
    check_block(state, next_block(state, [signed(CancelAll(4, state.accounts[4].nonce, FAR), 4)]))
    name = _refused(state, _cancel(state, 4, 0), UnknownOrder, "no order 0")
    assert name == "slot0/cancel_order/trigger_is_live"


def test_cancelling_an_unknown_trigger_order_cannot_be_proven() -> None:
    state = triggered_state()
    with pytest.raises(UnknownOrder, match="no order 9"):
        build_slot_witness(started_block(state), _cancel(state, 3, 9))


def _placement(state: State, account: int = 3, **kw: Any) -> CreateOrder:
    """``account``'s buy stop-loss (3 is short), changed by ``kw``."""
    nonce = state.accounts[account].nonce
    fields: dict[str, Any] = {"kind": SL, "time_in_force": TimeInForce.IOC, "reduce_only": True}
    fields |= {"trigger_price": MARK + 5, **kw}
    op = CreateOrder(account, nonce, FAR, BTC, False, 10, MARK + 50, **fields)
    placed: CreateOrder = signed(op, account)
    return placed


# what the rules refuse of a placement, and the constraint that refuses its slot
BAD_PLACEMENTS = {
    "not reduce-only": (
        {"reduce_only": False},
        MalformedTransaction,
        "reduce-only",
        "trigger_is_reduce_only",
    ),
    "no trigger price": (
        {"trigger_price": 0},
        MalformedTransaction,
        "trigger_price is set",
        "trigger_price_positive",
    ),
    "good till cancelled": (
        {"time_in_force": TimeInForce.GTC},
        MalformedTransaction,
        "immediate-or-cancel",
        "market_is_ioc",
    ),
    "a sell stop-loss of a short": (
        {"is_ask": True},
        ReduceOnlyViolation,
        "without an opposite position",
        "reduce_only_has_position",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_PLACEMENTS))
def test_a_placement_the_rules_refuse_is_refused(name: str) -> None:
    change, error, match, constraint = BAD_PLACEMENTS[name]
    state = triggered_state()
    op = replace(_placement(state), signature=None, **change)  # type: ignore[arg-type]
    op = signed(op, 3)
    assert _refused(state, op, error, match) == f"slot0/create_order/{constraint}"


def test_a_placement_past_the_open_order_cap_is_refused() -> None:
    state = triggered_state()
    account = state.accounts[3]
    account.open_orders = state.preset.max_open_orders_per_account
    state.dirty.accounts.add(3)
    name = _refused(state, _placement(state), TooManyOpenOrders, "open orders")
    assert name == "slot0/create_order/open_orders_below_max"
