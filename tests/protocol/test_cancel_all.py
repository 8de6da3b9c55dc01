"""Cancel all and forced cancel-all, lazily (PROTOCOL 7.1, 8.6, 8.19): the account's cancel
epoch moves on, its count drops to 0, and its orders are dead at once (atomic: none fills
afterwards) while they wait in the book for a matching step to remove them."""

from __future__ import annotations

import pytest

from protocol.block import compute_record
from protocol.commitment import compute_order_leaf, compute_orders_field, update_state_root
from protocol.errors import AmountOutOfRange, InvalidNonce, UnknownOrder
from protocol.events import (
    AllOrdersCancelled,
    OrderCancelled,
    RequestRejected,
    Trade,
    TriggerRemoved,
)
from protocol.ops.cancel_all import CancelAll
from protocol.ops.cancel_order import CancelOrder
from protocol.ops.claim import Claim
from protocol.ops.create_order import OrderKind, TimeInForce
from protocol.ops.forced_cancel_all import ForcedCancelAll
from protocol.ops.modify_order import ModifyOrder
from protocol.ops.registry import decode_op
from protocol.ops.trigger_order import FireTrigger
from protocol.orders import is_live
from protocol.params import OPEN_ORDERS_BITS
from protocol.poseidon import hash4
from protocol.snapshot import encode_state
from sequencer.api_views import compute_levels
from tests.protocol.helpers import BTC, Env, assert_rejected, owner_of

BUY, SELL = False, True


@pytest.fixture
def env() -> Env:
    e = Env()
    e.open_many(4, 10_000_000)
    return e


def _rest_three(env: Env) -> None:
    env.place(3, BTC, SELL, 10_100, 1)
    env.place(3, BTC, SELL, 10_200, 2)
    env.place(3, BTC, BUY, 9_900, 1)


def test_cancel_all_kills_every_order_at_once_and_none_fills_after(env: Env) -> None:
    _rest_three(env)
    events = env.run(env.signed(CancelAll, 3))
    assert events == (AllOrdersCancelled(3, 3, 1, "user"),)
    account, book = env.state.accounts[3], env.state.markets[BTC].book
    assert (account.open_orders, account.cancel_epoch, account.orders) == (0, 1, {})
    assert len(book.orders) == 3 and not any(is_live(env.state, o) for o in book.orders.values())
    assert decode_op(compute_record(env.signed(CancelAll, 3), events)).get("cancelled") == 3
    assert compute_levels(env.state.markets[BTC], env.state.accounts) == {"bids": [], "asks": []}
    # a taker crossing both dead asks fills none: each is removed unfilled, the count stays 0
    taken = env.run_steps(env.order(4, BTC, BUY, 10_300, 2))
    assert not [e for e in taken if isinstance(e, Trade)]
    removed = [(e.account, e.reason) for e in taken if isinstance(e, OrderCancelled)]
    assert removed == [(3, "cancel-all"), (3, "cancel-all")]
    assert account.open_orders == 0 and env.state.accounts[4].open_orders == 1
    assert env.replay().accounts[3].open_orders == 0


def test_an_order_rested_after_the_cancel_all_is_live_and_fills(env: Env) -> None:
    env.place(3, BTC, SELL, 10_100, 1)
    env.run(env.signed(CancelAll, 3))
    env.place(3, BTC, SELL, 10_150, 1)
    assert env.state.accounts[3].open_orders == 1
    taken = env.run_steps(env.order(4, BTC, BUY, 10_200, 1))
    assert [(e.maker, e.price) for e in taken if isinstance(e, Trade)] == [(3, 10_150)]
    assert env.state.accounts[3].open_orders == 0


def test_cancel_and_modify_of_a_dead_order_are_refused(env: Env) -> None:
    env.place(3, BTC, SELL, 10_100, 2)
    (order,) = env.state.markets[BTC].book.orders.values()
    env.run(env.signed(CancelAll, 3))
    cancel = env.signed(CancelOrder, 3, market=BTC, key=order.key)
    assert_rejected(env, cancel, UnknownOrder)
    modify = env.signed(ModifyOrder, 3, market=BTC, key=order.key, price=10_100, size=1)
    assert_rejected(env, modify, UnknownOrder)
    moved = env.signed(ModifyOrder, 3, market=BTC, key=order.key, price=10_120, size=2)
    assert_rejected(env, moved, UnknownOrder)


def test_rejected_cancel_alls_leave_the_state_byte_identical(env: Env) -> None:
    _rest_three(env)
    assert_rejected(env, env.signed(CancelAll, 3, nonce=9), InvalidNonce)
    account = env.state.accounts[3]
    account.cancel_epoch = (1 << env.state.preset.account_nonce_bits) - 1  # the bound reached
    assert_rejected(env, env.signed(CancelAll, 3), AmountOutOfRange)
    before = env.snapshot()
    (rejected,) = env.run(ForcedCancelAll(3, owner_of(3)))
    assert isinstance(rejected, RequestRejected) and env.snapshot() == before


def test_forced_cancel_all_applies_for_the_owner_only(env: Env) -> None:
    _rest_three(env)
    before = env.snapshot()
    (rejected,) = env.run(ForcedCancelAll(3, owner_of(4)))
    assert isinstance(rejected, RequestRejected) and env.snapshot() == before
    op = ForcedCancelAll(3, owner_of(3))
    events = env.run(op)
    assert events == (AllOrdersCancelled(3, 3, 1, "forced"),)
    assert decode_op(compute_record(op, events)).get("status") == 1
    account = env.state.accounts[3]
    assert (account.nonce, account.open_orders, account.cancel_epoch) == (3, 0, 1)


def test_a_dead_trigger_order_is_removed_without_firing(env: Env) -> None:
    env.place(4, BTC, SELL, 10_000, 1)
    env.place(3, BTC, BUY, 10_000, 1)  # 3 is long one lot
    kind, ioc = OrderKind.STOP_LOSS, TimeInForce.IOC
    stop = env.order(
        3, BTC, SELL, 9_000, 1, kind=kind, time_in_force=ioc, trigger_price=9_500, reduce_only=True
    )
    env.run(stop)
    env.run(env.signed(CancelAll, 3))
    events = env.run(FireTrigger(BTC, 0))
    (removed,) = events
    assert isinstance(removed, TriggerRemoved) and (removed.account, removed.reason) == (
        3,
        "cancel-all",
    )
    assert env.state.pending is None and env.state.accounts[3].get_size(BTC) == 1


def test_the_epoch_is_in_the_leaves_and_the_snapshot(env: Env) -> None:
    env.place(3, BTC, SELL, 10_100, 1)
    (order,) = env.state.markets[BTC].book.orders.values()
    root, before = update_state_root(env.state), env.snapshot()
    env.run(env.signed(CancelAll, 3))
    assert env.snapshot() != before and update_state_root(env.state) != root
    env.place(3, BTC, SELL, 10_200, 1)
    env.run(env.signed(CancelAll, 3))
    env.place(3, BTC, SELL, 10_300, 1)
    account = env.state.accounts[3]
    # the count and the epoch share the balance half's third input
    assert compute_orders_field(account) == 1 + (2 << OPEN_ORDERS_BITS)
    newest = env.state.markets[BTC].book.orders[max(env.state.markets[BTC].book.orders)]
    assert (order.epoch, newest.epoch) == (0, 2)
    flags = int(newest.is_ask) | 2 << 2
    assert compute_order_leaf(newest) == hash4(3, 1, flags, 0)
    # a replay from genesis reaches the same bytes: the snapshot covers the epochs
    env.end_block()
    assert encode_state(env.replay()) == env.snapshot()


def test_a_claim_removes_a_dead_maker_and_goes_on(env: Env) -> None:
    env.place(3, BTC, SELL, 10_100, 1)
    env.place(5, BTC, SELL, 10_100, 1)
    env.run(env.signed(CancelAll, 3))
    first = env.run(env.order(4, BTC, BUY, 10_100, 1))
    assert [e.reason for e in first if isinstance(e, OrderCancelled)] == ["cancel-all"]
    assert env.state.pending is not None
    filled = env.run(Claim(4))
    assert [(e.maker, e.size) for e in filled if isinstance(e, Trade)] == [(5, 1)]
