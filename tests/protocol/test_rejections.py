"""The remaining rejections, each leaving the state byte-for-byte unchanged (the other
operations' rejections are in their own test files)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from protocol.errors import (
    AmountOutOfRange,
    InvalidNonce,
    InvalidOracleSignature,
    MalformedTransaction,
    NotOrderOwner,
    PostOnlyWouldCross,
    PriceMoveTooLarge,
    PriceOutOfBand,
    StalePrice,
    UnknownMarket,
    UnknownOrder,
)
from protocol.events import RequestRejected
from protocol.ops.cancel_all import CancelAll
from protocol.ops.forced_cancel_all import ForcedCancelAll
from protocol.ops.forced_order import ForcedOrder
from protocol.ops.modify_order import ModifyOrder
from protocol.ops.noop import Noop
from protocol.ops.set_leverage import SetLeverage
from protocol.oracle import sign_price
from protocol.params import PRICE_AGE_BITS, PRICE_MOVE_BITS
from protocol.types import PPM
from tests.protocol.helpers import (
    BTC,
    CHAIN_ID,
    ETH,
    MARKET,
    Env,
    assert_rejected,
    key_of,
    owner_of,
)

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
    assert_rejected(env, env.signed_price(BTC, 0), AmountOutOfRange)
    assert_rejected(env, env.signed_price(BTC, 1 << 16), AmountOutOfRange)
    assert_rejected(env, env.signed_price(5, 10_000), UnknownMarket)
    assert_rejected(
        env, replace(env.signed_price(BTC, 10_000), price_timestamp=1 << 40), AmountOutOfRange
    )


TEN_PERCENT = replace(MARKET, max_price_move=100_000)


def test_oracle_price_rejections() -> None:
    """Each refusal of PROTOCOL 8.23 leaves the state byte-identical (``assert_rejected``)."""
    env = Env(signatures=True, params=TEN_PERCENT)
    now, age = env.state.timestamp, MARKET.max_price_age
    good = env.signed_price(BTC, 10_500)
    assert_rejected(env, replace(good, signature=None), InvalidOracleSignature)
    other = sign_price(key_of(3), CHAIN_ID, BTC, 10_500, now)  # a trader's key
    assert_rejected(env, replace(good, signature=other), InvalidOracleSignature)
    assert_rejected(env, replace(good, index_price=10_400), InvalidOracleSignature)  # not signed
    assert_rejected(env, replace(good, market=ETH), InvalidOracleSignature)  # BTC's price
    assert_rejected(env, env.signed_price(BTC, 10_500, now + 1), StalePrice)  # from the future
    assert_rejected(env, env.signed_price(BTC, 10_500, now - age - 1), StalePrice)
    env.set_index(BTC, 10_000 + 1_000)  # exactly 10 %: allowed
    assert_rejected(env, env.signed_price(BTC, 9_899), PriceMoveTooLarge)  # 10 % of 11,000 is 1,100
    env.run(env.signed_price(BTC, 9_900, now - age))  # exactly max_price_age old, 10 % down
    assert env.state.markets[BTC].data.index_price == 9_900


def test_a_market_without_an_oracle_takes_no_price() -> None:
    env = Env(signatures=True, params=replace(MARKET, oracle_x=0, oracle_y=0))
    assert_rejected(env, env.signed_price(BTC, 10_000), InvalidOracleSignature)


def test_reconstruction_trusts_the_proofs_for_the_signature_only() -> None:
    """Without signature checks (reconstruction) the age and the move bound still hold."""
    env = Env(signatures=False, params=TEN_PERCENT)
    env.run(replace(env.signed_price(BTC, 10_100), signature=None))
    assert_rejected(env, replace(env.signed_price(BTC, 10_100, 0), signature=None), StalePrice)
    assert_rejected(env, env.signed_price(BTC, 20_000), PriceMoveTooLarge)


@pytest.mark.parametrize(
    "change",
    [
        {"oracle_x": 1, "oracle_y": 1},  # not on the curve
        {"oracle_x": 0, "oracle_y": 1},  # the identity (small order)
        {"max_price_age": 0},
        {"max_price_age": 1 << PRICE_AGE_BITS},
        {"max_price_move": 0},
        {"max_price_move": 1 << PRICE_MOVE_BITS},
    ],
)
def test_bad_oracle_parameters_are_refused_at_genesis(change: dict[str, int]) -> None:
    with pytest.raises(MalformedTransaction):
        Env(params=replace(MARKET, **change))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"price_band": PPM + 1}, "price_band"),
        ({"min_base_amount": 1 << 64}, "min_base_amount"),
        ({"max_open_interest": 1 << 64}, "max_open_interest"),
    ],
)
def test_market_parameters_the_circuit_cannot_take_are_refused_at_genesis(
    change: dict[str, int], message: str
) -> None:
    """Past these bounds a market's orders could not be proven, which would stop the operator."""
    with pytest.raises(MalformedTransaction, match=message):
        Env(params=replace(MARKET, **change))
    Env(params=replace(MARKET, **{k: v - 1 for k, v in change.items()}))  # the bound itself


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
