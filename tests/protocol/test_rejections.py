"""The remaining rejections, each leaving the state byte-for-byte unchanged (the other
operations' rejections are in their own test files)."""

from __future__ import annotations

import pytest

from protocol.errors import (
    AmountOutOfRange,
    InvalidNonce,
    MalformedTransaction,
    NotOrderOwner,
    PostOnlyWouldCross,
    PriceOutOfBand,
    UnknownMarket,
    UnknownOrder,
)
from protocol.events import RequestRejected
from protocol.ops.cancel_all import CancelAll
from protocol.ops.forced_cancel_all import ForcedCancelAll
from protocol.ops.forced_order import ForcedOrder
from protocol.ops.modify_order import ModifyOrder
from protocol.ops.noop import Noop
from protocol.ops.pre_execution import PreExecution
from protocol.ops.set_leverage import SetLeverage
from tests.protocol.helpers import BTC, Env, assert_rejected, owner_of

BUY, SELL = False, True


@pytest.fixture
def env() -> Env:
    e = Env()
    e.open_many(3, 10**9)
    e.place(3, BTC, SELL, 10_100, 2)
    e.place(4, BTC, BUY, 9_900, 2)
    return e


def key_of_order(env: Env, account: int) -> int:
    ((_, _, key),) = env.state.accounts[account].orders
    return key


def test_modify_rejections(env: Env) -> None:
    key = key_of_order(env, 3)
    modify = env.signed(ModifyOrder, 3, market=BTC, key=key, price=10_100, size=1)
    assert_rejected(
        env, env.signed(ModifyOrder, 4, market=BTC, key=key, price=10_100, size=1), NotOrderOwner
    )
    assert_rejected(
        env, env.signed(ModifyOrder, 3, market=BTC, key=key + 1, price=10_100, size=1), UnknownOrder
    )
    assert_rejected(
        env, env.signed(ModifyOrder, 3, market=BTC, key=key, price=12_500, size=1), PriceOutOfBand
    )
    assert_rejected(
        env,
        env.signed(ModifyOrder, 3, market=BTC, key=key, price=9_900, size=1),
        PostOnlyWouldCross,
    )
    assert_rejected(
        env, env.signed(ModifyOrder, 3, market=BTC, key=key, price=10_100, size=0), AmountOutOfRange
    )
    env.run(modify)
    assert_rejected(env, modify, InvalidNonce)


def test_cancel_all_and_set_leverage_rejections(env: Env) -> None:
    assert_rejected(env, env.signed(CancelAll, 3, nonce=7), InvalidNonce)
    assert_rejected(env, env.signed(SetLeverage, 3, market=9, imf=0), UnknownMarket)
    assert_rejected(
        env, env.signed(SetLeverage, 3, market=BTC, imf=1_000_001), MalformedTransaction
    )


def test_pre_execution_rejections(env: Env) -> None:
    assert_rejected(env, PreExecution(BTC, 0), AmountOutOfRange)
    assert_rejected(env, PreExecution(BTC, 1 << 16), AmountOutOfRange)
    assert_rejected(env, PreExecution(5, 10_000), UnknownMarket)


@pytest.mark.parametrize(
    "op",
    [
        ForcedCancelAll(3, owner_of(4)),
        ForcedCancelAll(40, owner_of(40)),
        ForcedOrder(3, owner_of(4), BTC, 0, 10_000, 1),
        ForcedOrder(3, owner_of(3), BTC, 0x80, 10_000, 1),
        ForcedOrder(3, owner_of(3), 7, 0, 10_000, 1),
        ForcedOrder(3, owner_of(3), BTC, 0, 20_000, 1),
    ],
    ids=[
        "cancel-not-owner",
        "cancel-no-account",
        "order-not-owner",
        "bad-flags",
        "bad-market",
        "off-band",
    ],
)
def test_refused_forced_requests_are_consumed_as_noops(env: Env, op: object) -> None:
    before = env.snapshot()
    (event,) = env.run(op)
    assert isinstance(event, RequestRejected)
    assert env.snapshot() == before


def test_noop_changes_nothing(env: Env) -> None:
    before = env.snapshot()
    assert env.run(Noop()) == ()
    assert env.snapshot() == before
