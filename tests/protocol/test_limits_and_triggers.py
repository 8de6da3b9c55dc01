"""Order limits (size, open orders, price band, open interest, nonces), stop-loss /
take-profit triggers, and the forced order / forced cancel-all L1 requests."""

from __future__ import annotations

import pytest

from protocol import pubdata
from protocol.block import compute_record, process_operation_with_claims
from protocol.commitment import update_state_root
from protocol.errors import (
    BelowMinOrderSize,
    Expired,
    MalformedTransaction,
    OpenInterestLimit,
    OrderBookFull,
    PriceOutOfBand,
    TooManyOpenOrders,
    TriggerNotReached,
    UnknownMarket,
)
from protocol.events import RequestRejected, TakerDone, Trade, TriggerRemoved
from protocol.markets import MarketParams
from protocol.ops.create_order import OrderKind, TimeInForce
from protocol.ops.forced_cancel_all import ForcedCancelAll
from protocol.ops.forced_order import ForcedOrder
from protocol.ops.registry import decode_op
from protocol.ops.trigger_order import FireTrigger
from protocol.types import RATE_SCALE
from tests.protocol.helpers import BTC, PRESET, Env, assert_rejected, owner_of

BUY, SELL = False, True
SL, TP, IOC = OrderKind.STOP_LOSS, OrderKind.TAKE_PROFIT, TimeInForce.IOC


@pytest.fixture
def env() -> Env:
    e = Env()
    e.open_many(4, 10_000_000)
    return e


def set_mark(env: Env, price: int) -> None:
    market = env.state.markets[BTC]
    with env.state.transaction():
        env.state.set_market_data(market, "mark_price", price)


def test_static_order_checks(env: Env) -> None:
    assert_rejected(env, env.order(3, 5, BUY, 10_000, 1), UnknownMarket)
    assert_rejected(env, env.order(3, BTC, BUY, 12_001, 1), PriceOutOfBand)
    assert_rejected(env, env.order(3, BTC, SELL, 7_999, 1), PriceOutOfBand)
    assert_rejected(
        env, env.order(3, BTC, BUY, 10_000, 1, order_expiry=5_000), MalformedTransaction
    )
    assert_rejected(
        env,
        env.order(3, BTC, BUY, 10_000, 1, time_in_force=TimeInForce.GTT, order_expiry=900),
        Expired,
    )
    assert_rejected(
        env, env.order(3, BTC, BUY, 10_000, 1, kind=OrderKind.MARKET), MalformedTransaction
    )
    assert_rejected(env, env.order(3, BTC, BUY, 10_000, 1, kind=9), MalformedTransaction)
    assert_rejected(
        env,
        env.order(3, BTC, BUY, 10_000, 1, kind=SL, time_in_force=IOC, trigger_price=9_000),
        MalformedTransaction,
    )


def test_min_order_size() -> None:
    env = Env(params=MarketParams(min_base_amount=5, price_band=200_000))
    env.open_many(1, 10_000_000)
    assert_rejected(env, env.order(3, BTC, BUY, 10_000, 4), BelowMinOrderSize)
    env.place(3, BTC, BUY, 10_000, 5)


def test_max_open_orders(env: Env) -> None:
    for i in range(PRESET.max_open_orders_per_account):
        env.place(3, BTC, BUY, 9_000 + i, 1)
    assert_rejected(env, env.order(3, BTC, BUY, 9_500, 1), TooManyOpenOrders)
    env.place(4, BTC, SELL, 9_000, 1, time_in_force=IOC)  # takes one: room again
    env.place(3, BTC, BUY, 9_500, 1)


def test_max_open_interest() -> None:
    env = Env(params=MarketParams(max_open_interest=10, price_band=200_000))
    env.open_many(3, 10_000_000)
    env.place(3, BTC, SELL, 10_000, 20)
    env.place(4, BTC, BUY, 10_000, 10)
    assert_rejected(env, env.order(5, BTC, BUY, 10_000, 1), OpenInterestLimit)
    env.place(5, BTC, BUY, 9_000, 1)
    events = env.place(4, BTC, SELL, 9_000, 1)  # closing 1 lot lowers open interest: allowed
    assert [e.size for e in events if isinstance(e, Trade)] == [1]


def test_the_open_interest_cap_fits_64_bits() -> None:
    """The block circuit compares open interest with the cap in 64 bits."""
    Env(params=MarketParams(max_open_interest=(1 << 64) - 1))
    with pytest.raises(MalformedTransaction, match="2\\^64"):
        Env(params=MarketParams(max_open_interest=1 << 64))


@pytest.mark.parametrize("name", ["interest_rate", "interest_clamp", "funding_cap"])
def test_funding_rates_are_from_zero_to_the_rate_scale(name: str) -> None:
    """The market leaf hashes them as field elements; the block circuit takes 27 bits."""
    Env(params=MarketParams(**{name: RATE_SCALE}))
    for value in (-1, RATE_SCALE + 1):
        with pytest.raises(MalformedTransaction, match="RATE_SCALE"):
            Env(params=MarketParams(**{name: value}))


def test_side_nonces_run_out_and_restart_when_the_side_empties() -> None:
    env = Env(preset=PRESET.with_overrides(order_nonce_bits=2, max_open_orders_per_account=8))
    env.open_many(2, 10**9)
    for _ in range(4):
        env.place(3, BTC, SELL, 11_000, 1)
    assert_rejected(env, env.order(3, BTC, SELL, 11_000, 1), OrderBookFull)
    env.place(4, BTC, BUY, 11_000, 4)
    env.place(3, BTC, SELL, 11_000, 1)
    (order,) = env.state.markets[BTC].book.iter_side(SELL)
    assert order.key & 3 == 0


def test_bids_run_out_before_nonce_0_so_the_state_root_stays_computable() -> None:
    """Bids count down from 3 and never take nonce 0: a counter of -1 would be no field
    element, and the state root (and with it the operator) would stop."""
    env = Env(preset=PRESET.with_overrides(order_nonce_bits=2, max_open_orders_per_account=8))
    env.open_many(2, 10**9)
    for _ in range(3):
        env.place(3, BTC, BUY, 9_000, 1)
    assert_rejected(env, env.order(3, BTC, BUY, 9_000, 1), OrderBookFull)
    book = env.state.markets[BTC].book
    assert [o.key & 3 for o in book.iter_side(BUY)] == [3, 2, 1] and book.bid_nonce == 0
    update_state_root(env.state)


def test_stop_loss_fires_on_the_mark_only(env: Env) -> None:
    env.place(3, BTC, SELL, 10_000, 2)
    env.place(4, BTC, BUY, 10_000, 2)  # 4 is long 2
    env.place(
        4, BTC, SELL, 9_000, 2, kind=SL, time_in_force=IOC, reduce_only=True, trigger_price=9_500
    )
    assert env.state.accounts[4].open_orders == 1
    assert_rejected(env, FireTrigger(BTC, 0), TriggerNotReached)
    env.place(5, BTC, BUY, 9_400, 3)
    set_mark(env, 9_500)
    done = process_operation_with_claims(env.state, FireTrigger(BTC, 0))
    events = [e for _, ev in done for e in ev]
    assert TriggerRemoved(BTC, 0, 4, "fired") in events
    assert [(e.maker, e.price, e.size) for e in events if isinstance(e, Trade)] == [(5, 9_400, 2)]
    assert BTC not in env.state.accounts[4].positions
    assert env.state.accounts[4].open_orders == 0


def test_take_profit_with_nothing_left_to_reduce_is_consumed(env: Env) -> None:
    env.place(3, BTC, SELL, 10_000, 2)
    env.place(4, BTC, BUY, 10_000, 2)
    env.place(
        4, BTC, SELL, 10_500, 2, kind=TP, time_in_force=IOC, reduce_only=True, trigger_price=10_500
    )
    env.place(5, BTC, BUY, 10_000, 2)
    env.place(4, BTC, SELL, 10_000, 2)  # closes by hand
    env.place(5, BTC, BUY, 10_550, 2)
    set_mark(env, 10_600)
    events = env.run(FireTrigger(BTC, 0))
    assert TakerDone(4, BTC, 2, "ReduceOnlyViolation") in events
    assert not env.state.markets[BTC].triggers


def test_forced_order_and_forced_cancel_all(env: Env) -> None:
    env.place(3, BTC, SELL, 10_000, 3)
    flags = pubdata.ORDER_FLAG_MARKET
    (rejected,) = env.run(ForcedOrder(4, owner_of(5), BTC, flags, 10_100, 1))
    assert isinstance(rejected, RequestRejected)
    (bad,) = env.run(ForcedOrder(4, owner_of(4), BTC, flags, 10_100, 0))
    assert isinstance(bad, RequestRejected)
    op = ForcedOrder(4, owner_of(4), BTC, flags, 10_100, 1)
    events = env.run(op)
    assert any(isinstance(e, Trade) for e in events)
    assert decode_op(compute_record(op, events)).get("status") == 1
    env.place(4, BTC, BUY, 9_000, 1)
    cancel = ForcedCancelAll(4, owner_of(4))
    events = env.run(cancel)
    assert env.state.accounts[4].open_orders == 0
    assert decode_op(compute_record(cancel, events)).get("status") == 1
