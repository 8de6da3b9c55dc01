"""Cancel all and forced cancel-all in the block circuit (PROTOCOL 7.1, 8.6, 8.19, 8.C): proven
in a heavy slot and in a light one exactly as the rules do them (the differential over random
blocks of them, applied and refused), a taker meeting the dead makers they leave, and the
refusals of each new rule at its named constraint: a dead maker filled, a dead order cancelled
or modified, a forced cancel-all by a non-owner applied, a cancel-all past the last epoch."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from protocol.block import (
    Operation,
    process_block_end,
    process_block_header,
    process_operation_with_claims,
)
from protocol.events import OrderCancelled
from protocol.ops import cancel_all, create_order
from protocol.ops.cancel_all import CancelAll
from protocol.ops.cancel_order import CancelOrder
from protocol.ops.claim import Claim
from protocol.ops.create_order import CreateOrder
from protocol.ops.forced_cancel_all import ForcedCancelAll
from protocol.ops.modify_order import ModifyOrder
from protocol.ops.transfer import Transfer
from protocol.pubdata import OpType
from protocol.state import State
from sequencer.witness import build_slot_witness
from tests.circuits.forced import forced_witness
from tests.circuits.test_block import (
    check_block,
    new_state,
    next_block,
    order_key,
    rejection,
    resting_state,
    signed,
    started_block,
)
from tests.protocol.helpers import BTC, FAR, PRICES, owner_of

MARK = PRICES[BTC]


def _cancel_all(state: State, account: int) -> CancelAll:
    op: CancelAll = signed(CancelAll(account, state.accounts[account].nonce, FAR), account)
    return op


def _with_asks(state: State, account: int, count: int) -> State:
    """``state`` after ``account`` rested ``count`` asks of 10 lots above the mark (natively)."""
    process_block_header(state, state.block_number + 1, state.timestamp + 10)
    for i in range(count):
        nonce = state.accounts[account].nonce
        ask = CreateOrder(account, nonce, FAR, BTC, True, 10, MARK + 10 + i)
        process_operation_with_claims(state, signed(ask, account))
    process_block_end(state)
    return state


def test_cancel_all_and_forced_cancel_all_are_proven_in_heavy_and_light_slots() -> None:
    """The minimal test block: a heavy slot, then a light one."""
    state = _with_asks(_with_asks(new_state(), 3, 2), 4, 1)
    transfer = signed(Transfer(5, 0, FAR, 4, 7), 5)
    check_block(state, next_block(state, [transfer, _cancel_all(state, 3)]))  # light
    assert (state.accounts[3].open_orders, state.accounts[3].cancel_epoch) == (0, 1)
    forced = ForcedCancelAll(4, owner_of(4))
    check_block(state, next_block(state, [forced, ForcedCancelAll(5, owner_of(3))]))
    assert (state.accounts[4].open_orders, state.accounts[4].cancel_epoch) == (0, 1)
    assert state.accounts[5].cancel_epoch == 0  # not the owner: status 0
    check_block(state, next_block(state, [_cancel_all(state, 3), ForcedCancelAll(9, owner_of(9))]))
    assert state.accounts[3].cancel_epoch == 2 and len(state.markets[BTC].book.orders) == 3


def test_a_taker_removes_the_dead_makers_it_meets_and_fills_a_live_one() -> None:
    """3's two asks die with its cancel-all; 5's bid meets the first (removed unfilled, 3's
    count untouched), its claim the second; 3 rests again, and 4's bid fills that order."""
    state = resting_state()
    check_block(state, next_block(state, [_cancel_all(state, 3)]))
    bid = signed(CreateOrder(5, 0, FAR, BTC, False, 100, MARK + 10), 5)
    check_block(state, next_block(state, [bid, Claim(5)]))
    assert state.accounts[3].open_orders == 0 and not state.accounts[3].orders
    assert all(o.account != 3 for o in state.markets[BTC].book.orders.values())
    ask = signed(CreateOrder(3, state.accounts[3].nonce, FAR, BTC, True, 5, MARK + 20), 3)
    check_block(state, next_block(state, [ask]))
    assert state.accounts[3].open_orders == 1
    taker = signed(CreateOrder(4, state.accounts[4].nonce, FAR, BTC, False, 5, MARK + 20), 4)
    check_block(state, next_block(state, [taker]))
    assert state.accounts[3].open_orders == 0 and state.accounts[3].positions[BTC].size < -5


def test_a_dead_order_cannot_be_cancelled_or_modified() -> None:
    state = resting_state()
    ask = order_key(state, 3, True)
    check_block(state, next_block(state, [_cancel_all(state, 3)]))
    scratch = started_block(state)
    nonce = state.accounts[3].nonce
    cancel = signed(CancelOrder(3, nonce, FAR, BTC, ask), 3)
    assert rejection(forced_witness(scratch, cancel)) == "slot0/cancel_order/order_is_live"
    modify = signed(ModifyOrder(3, nonce, FAR, BTC, ask, MARK + 10, 50), 3)
    assert rejection(forced_witness(scratch, modify)) == "slot0/modify_order/order_is_live"


def test_a_dead_maker_cannot_be_filled() -> None:
    """A cheating operator's record: 5's bid fills 3's first (dead) ask."""
    state = resting_state()
    check_block(state, next_block(state, [_cancel_all(state, 3)]))
    scratch = started_block(state)
    bid = signed(CreateOrder(5, 0, FAR, BTC, False, 100, MARK + 10), 5)
    record = bytearray(_record_of(scratch, bid))
    (start, _), (end, length) = (create_order.RECORD.offset(f) for f in ("maker", "filled"))
    record[start : end + length] = (3).to_bytes(6, "big") + (100).to_bytes(6, "big")
    failed = rejection(forced_witness(scratch, bid, bytes(record)))
    assert failed == "slot0/step/fill_step/maker_live"


def _record_of(state: State, op: Operation) -> bytes:
    return build_slot_witness(copy.deepcopy(state), op).record


def test_a_forced_cancel_all_by_a_non_owner_cannot_be_applied() -> None:
    state = resting_state()
    op = ForcedCancelAll(3, owner_of(4))
    record = bytearray(_record_of(started_block(state), op))
    assert record[27] == 0
    record[27] = 1
    failed = rejection(forced_witness(started_block(state), op, bytes(record)))
    assert failed == "slot0/forced_cancel_all/status_field"


def test_a_cancel_all_past_the_last_epoch_cannot_be_proven() -> None:
    state = resting_state()
    state.accounts[3].cancel_epoch = (1 << state.preset.account_nonce_bits) - 1
    op = _cancel_all(state, 3)
    record = cancel_all.RECORD.encode((3, state.accounts[3].open_orders))
    failed = rejection(forced_witness(started_block(state), op, record))
    assert failed == "slot0/cancel_all/epoch_not_spent"


SPEC = st.tuples(
    st.sampled_from(["cancel_all", "forced", "order"]),
    st.sampled_from([3, 4, 5, 9]),
    st.sampled_from([0, 0, 1]),  # a nonce shift (cancel all), another owner (forced)
    st.booleans(),  # a bid crossing the asks (order)
)


def _make(state: State, spec: tuple[Any, ...], nonces: dict[int, int]) -> Operation:
    kind, account, shift, crossing = spec
    if kind == "forced":
        return ForcedCancelAll(account, owner_of(account + shift))
    nonce = nonces.get(account, state.accounts[account].nonce if account in state.accounts else 0)
    nonces[account] = nonce + 1
    if kind == "cancel_all":
        return signed(CancelAll(account, nonce + shift, FAR), account)
    price = MARK + 10 if crossing else MARK - 20
    return signed(CreateOrder(account, nonce, FAR, BTC, False, 50, price), account)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(SPEC, min_size=1, max_size=2), min_size=1, max_size=2))
@example([[("cancel_all", 3, 0, False)], [("order", 5, 0, True), ("cancel_all", 3, 1, False)]])
@example([[("forced", 4, 0, False), ("forced", 3, 1, False)], [("order", 4, 0, True)]])
def test_the_circuit_cancels_all_as_the_rules_do(blocks: list[list[tuple[Any, ...]]]) -> None:
    """Random blocks of cancel-alls (some with a wrong nonce), forced cancel-alls (some from
    another owner, of no account) and bids meeting the asks they kill: each block proven with
    the rules' roots, or its first refused operation refused at a rule's constraint."""
    from tests.circuits.test_block import check_differential_ops

    check_differential_ops(resting_state(), blocks, _make)


def test_cancel_all_is_a_light_slot_operation() -> None:
    from circuits.ops.slot import LIGHT_TYPES, NOT_PROVEN_YET

    assert {OpType.CANCEL_ALL, OpType.FORCED_CANCEL_ALL} <= LIGHT_TYPES
    assert not {OpType.CANCEL_ALL, OpType.FORCED_CANCEL_ALL} & NOT_PROVEN_YET


def test_a_dead_maker_removed_by_a_claim_keeps_the_reason() -> None:
    state = resting_state()
    check_block(state, next_block(state, [_cancel_all(state, 3)]))
    scratch = started_block(state)
    done = process_operation_with_claims(
        scratch, signed(CreateOrder(5, 0, FAR, BTC, False, 100, MARK + 10), 5)
    )
    reasons = [e.reason for _, events in done for e in events if isinstance(e, OrderCancelled)]
    assert reasons == ["cancel-all", "cancel-all"]


def test_pre_execution_reads_a_book_with_orders_of_a_later_epoch() -> None:
    """The market slot's impact reads open order leaves whose flags carry an epoch (6.5)."""
    from tests.circuits.test_pre_execution import MID, check_pre_execution, only_side

    env = only_side(True, 3)  # three asks, one per account 3, 4, 5
    for account in (3, 4, 5):
        env.run(env.signed(CancelAll, account))
        env.place(account, BTC, True, MID + 1, 30)  # rests in epoch 1
    env.next_block(3600)
    check_pre_execution(env, BTC, MID - 30)
