"""The block circuit against the rules over random trading sessions: orders of every kind the
circuit proves (GTC, GTT, IOC, post-only, market with a worst price, reduce-only,
stop-loss / take-profit; both sides), cancels and modifies of the orders resting at the time,
cancels and firings of the trigger orders waiting, cancel-alls, leverage changes, and,
closing every block, a pre-execution that moves the index (or a noop), with blocks 10 s to an
hour apart, so that premiums are sampled and funding hours charged. After each block the
circuit's public inputs (old and new state root, timestamp, batch data) equal the rules'.
Cancel-alls leave their orders dead in the book (PROTOCOL 7.1), for later takers to remove.

An operation the rules refuse is left out of its block, as the builder does; that a refused
operation cannot be proven is shown by ``test_block.py``'s differential and named refusals.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from protocol.block import (
    Block,
    Operation,
    process_block,
    process_block_end,
    process_block_header,
    process_operation_with_claims,
)
from protocol.errors import InvalidTransaction
from protocol.events import (
    AllOrdersCancelled,
    FundingApplied,
    OrderCancelled,
    OrderRested,
    Trade,
    TriggerPlaced,
    TriggerRemoved,
)
from protocol.ops.cancel_all import CancelAll
from protocol.ops.cancel_order import CancelOrder
from protocol.ops.create_order import CreateOrder, OrderKind, TimeInForce
from protocol.ops.modify_order import ModifyOrder
from protocol.ops.noop import Noop
from protocol.ops.set_leverage import SetLeverage
from protocol.ops.trigger_order import FireTrigger
from protocol.params import MINIMAL
from protocol.state import State
from tests.circuits.test_block import USERS, check_block, new_state, signed
from tests.protocol.helpers import BTC, FAR, oracle_price

# two heavy slots for the session's operations and their claims, one market slot
PRESET = MINIMAL.with_overrides(ops_per_block=3, trading_slots=2, market_slots=1)
ACCOUNTS = st.sampled_from(USERS)
OFFSET = st.sampled_from([-20, -10, -1, 0, 1, 10, 20])  # ticks off the index
KIND = st.sampled_from(["gtc", "gtt", "ioc", "post_only", "market", "reduce_only"])
OP = st.one_of(
    st.tuples(
        st.just("order"), ACCOUNTS, st.booleans(), OFFSET, st.sampled_from([1, 30, 100]), KIND
    ),
    st.tuples(st.just("cancel"), ACCOUNTS, st.integers(0, 2)),
    st.tuples(st.just("cancel_all"), ACCOUNTS),
    st.tuples(
        st.just("modify"), ACCOUNTS, st.integers(0, 2), OFFSET, st.sampled_from([10, 60, 200])
    ),
    st.tuples(st.just("leverage"), ACCOUNTS, st.sampled_from([0, 150_000, 500_000])),
    st.tuples(
        st.just("trigger"),
        ACCOUNTS,
        st.booleans(),
        OFFSET,
        st.sampled_from(["stop_loss", "take_profit"]),
    ),
    st.tuples(st.just("cancel_trigger"), ACCOUNTS, st.integers(0, 2)),
    st.tuples(st.just("fire"), ACCOUNTS, st.integers(0, 3)),  # a trigger id (the account unused)
)
MOVE = st.sampled_from([None, -30, 0, 25])  # the index's move in the block's market slot
GAP = st.sampled_from([10, 1_800, 3_600])  # seconds since the last block
BLOCK = st.tuples(st.lists(OP, max_size=PRESET.operation_slots), MOVE, GAP)


def opening_state() -> State:
    """``new_state`` at this preset, then a book (placed natively): 50-lot asks from 3 and 4
    at the index + 10 and from 4 at + 20, bids from 5 at - 10 and from 3 at - 20."""
    state = new_state(PRESET)
    process_block_header(state, state.block_number + 1, state.timestamp + 10)
    index = state.markets[BTC].data.index_price
    for account, is_ask, offset in (
        (3, True, 10), (4, True, 10), (4, True, 20), (5, False, -10), (3, False, -20)
    ):  # fmt: skip
        op = CreateOrder(
            account, state.accounts[account].nonce, FAR, BTC, is_ask, 50, index + offset
        )
        process_operation_with_claims(state, signed(op, account))
    process_block_end(state)
    assert len(state.markets[BTC].book.orders) == 5
    return state


def resting_keys(state: State, account: int) -> list[int]:
    return sorted(o.key for o in state.markets[BTC].book.orders.values() if o.account == account)


def trigger_ids(state: State, account: int) -> list[int]:
    return sorted(i for i, t in state.markets[BTC].triggers.items() if t.account == account)


def make_op(state: State, spec: tuple[Any, ...]) -> Operation:
    """The signed operation ``spec`` describes, with the account's next nonce, against the
    index and the orders resting now (a pick past them names a key where none rests); a
    trigger order's worst price 50 past its trigger price."""
    kind, account, *rest = spec
    nonce, index = state.accounts[account].nonce, state.markets[BTC].data.index_price
    if kind == "fire":
        return FireTrigger(BTC, rest[0])
    if kind == "trigger":
        is_ask, offset, variant = rest
        worst = index + offset + (-50 if is_ask else 50)
        order = CreateOrder(
            account, nonce, FAR, BTC, is_ask, 30, worst, OrderKind[variant.upper()],
            TimeInForce.IOC, True, index + offset,
        )  # fmt: skip
        return signed(order, account)
    if kind == "cancel_trigger":
        ids = trigger_ids(state, account)
        trigger_id = ids[rest[0]] if rest[0] < len(ids) else 200
        return signed(CancelOrder(account, nonce, FAR, BTC, trigger_id, True), account)
    if kind == "order":
        is_ask, offset, size, variant = rest
        fields: dict[str, Any] = {}
        if variant == "market":
            fields = {"kind": OrderKind.MARKET, "time_in_force": TimeInForce.IOC}
        elif variant == "reduce_only":
            fields = {"reduce_only": True}
        elif variant != "gtc":
            fields = {"time_in_force": TimeInForce[variant.upper()]}
        if variant == "gtt":
            fields["order_expiry"] = state.timestamp + 1_000
        op: Any = CreateOrder(account, nonce, FAR, BTC, is_ask, size, index + offset, **fields)
    elif kind == "leverage":
        op = SetLeverage(account, nonce, FAR, BTC, rest[0])
    elif kind == "cancel_all":
        op = CancelAll(account, nonce, FAR)
    else:
        keys = resting_keys(state, account)
        key = keys[rest[0]] if rest[0] < len(keys) else (index << PRESET.order_nonce_bits) + 77
        if kind == "cancel":
            op = CancelOrder(account, nonce, FAR, BTC, key)
        else:
            op = ModifyOrder(account, nonce, FAR, BTC, key, index + rest[1], rest[2])
    return signed(op, account)


def build_block(state: State, specs: list[tuple[Any, ...]], move: int | None, gap: int) -> Block:
    """The operations the rules accept, each with its claims, while they fit the operation
    slots; noops; then the market slot's pre-execution (or a noop)."""
    scratch = copy.deepcopy(state)
    process_block_header(scratch, scratch.block_number + 1, scratch.timestamp + gap)
    ops: list[Operation] = []
    for spec in specs:
        before = copy.deepcopy(scratch)
        try:
            group = [o for o, _ in process_operation_with_claims(scratch, make_op(scratch, spec))]
        except InvalidTransaction:
            continue
        if len(ops) + len(group) > PRESET.operation_slots:
            scratch = before
            break
        ops += group
    ops += [Noop()] * (PRESET.operation_slots - len(ops))
    index = state.markets[BTC].data.index_price
    ops.append(Noop() if move is None else oracle_price(BTC, index + move, state.timestamp + gap))
    return Block(state.block_number + 1, state.timestamp + gap, tuple(ops))


Spec = tuple[Any, ...]
SESSION: tuple[tuple[tuple[Spec, ...], int | None, int], ...] = (
    ((("order", 5, False, 20, 100, "gtc"),), 25, 3_600),  # fills 3's and 4's asks at + 10
    ((("modify", 4, 0, 5, 60),), -30, 3_600),  # moves 4's ask (and its claim rests it); funding
    ((("cancel", 3, 0), ("order", 4, True, -20, 30, "market")), 10, 10),  # sells into 5's bid
    ((("cancel_all", 4),), None, 10),  # 4's ask at + 5 dead, no pre-execution
    # 5 (long) places a sell stop-loss, 3 (short) a buy take-profit at the index + 30; the
    # market slot's pre-execution after them
    ((("trigger", 5, True, -15, "stop_loss"), ("trigger", 3, False, 30, "take_profit")), 5, 10),
    ((("fire", 3, 1),), None, 10),  # 3's fires (the mark below it), its claim after
    ((("cancel_trigger", 5, 0),), None, 10),
)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(BLOCK, min_size=1, max_size=4))
@example([(list(specs), move, gap) for specs, move, gap in SESSION])
def test_the_circuit_follows_a_trading_session(blocks: list[tuple[Any, ...]]) -> None:
    state = opening_state()
    for specs, move, gap in blocks:
        block = build_block(state, specs, move, gap)
        check_block(state, block)  # advances the state


def test_the_example_session_trades_cancels_modifies_and_charges_funding() -> None:
    """The explicit session above does what it is there for (so the property is not hollow):
    trades, a user's cancel, a modify that moves an order, funding charged, a cancel-all, two
    trigger orders placed, one cancelled and one fired."""
    state = opening_state()
    events: list[Any] = []
    for specs, move, gap in SESSION:
        events += [e for op in process_block(state, build_block(state, list(specs), move, gap))
                   .events for e in op]  # fmt: skip
    assert sum(isinstance(e, Trade) for e in events) >= 3
    assert any(isinstance(e, OrderCancelled) and e.reason == "user" for e in events)
    assert any(isinstance(e, OrderRested) and e.account == 4 for e in events)  # the modify
    assert any(isinstance(e, FundingApplied) and e.funding_index != 0 for e in events)
    assert any(isinstance(e, AllOrdersCancelled) and e.account == 4 for e in events)
    assert sum(isinstance(e, TriggerPlaced) for e in events) == 2
    removed = {e.reason for e in events if isinstance(e, TriggerRemoved)}
    assert removed == {"user", "fired"}
