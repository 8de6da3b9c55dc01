"""The forced order (type 7, L1): status 0 only for what is decided before matching, every
failure of its first matching step ends the taker instead (status 1), as a claim's does
(docs/PROTOCOL.md 8.7)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from protocol import pubdata
from protocol.accounts import FEE_ACCOUNT, FUNDING_POOL, INSURANCE_FUND
from protocol.block import compute_record
from protocol.events import RequestRejected, TakerDone, Trade
from protocol.ops.claim import Claim
from protocol.ops.forced_order import ForcedOrder
from protocol.ops.registry import decode_op
from protocol.ops.transfer import Transfer
from tests.protocol.helpers import BTC, PRESET, Env, owner_of
from tests.protocol.helpers import MARKET as MARKET_PARAMS

BUY, SELL = False, True
MARKET, ASK = pubdata.ORDER_FLAG_MARKET, pubdata.ORDER_FLAG_ASK


@pytest.fixture
def env() -> Env:
    e = Env()
    e.open_many(4, 10_000_000)
    return e


def forced(account: int, flags: int, price: int, size: int, **kw: object) -> ForcedOrder:
    fields = dict(account=account, owner=owner_of(account), market=BTC, flags=flags)
    fields |= dict(price=price, size=size) | kw
    return ForcedOrder(**fields)  # type: ignore[arg-type]


def record_of(op: ForcedOrder, events: tuple[object, ...]) -> dict[str, object]:
    record = decode_op(compute_record(op, events))  # type: ignore[arg-type]
    return {name: record.get(name) for name in ("status", "maker", "filled")}


def claim_own(env: Env, owner: int, index: int) -> None:
    """``owner_of(owner)`` now owns reserved account ``index`` (so only its reservation refuses
    a forced order from it)."""
    env.state.accounts[index].owner = owner_of(owner)


REFUSED = {
    "not-the-owner": (forced(4, 0, 10_000, 1, owner=owner_of(5)), "not the owner"),
    "no-account": (forced(40, 0, 10_000, 1), "not the owner"),
    "unknown-flags": (forced(4, 0x80, 10_000, 1), "unknown flags"),
    "flag-bit-2": (forced(4, 0x04, 10_000, 1), "unknown flags"),
    "no-market": (forced(4, 0, 10_000, 1, market=2), "UnknownMarket"),
    "no-market-outside-tree": (forced(4, 0, 10_000, 1, market=7), "UnknownMarket"),
    "size-zero": (forced(4, 0, 10_000, 0), "BelowMinOrderSize"),
    "size-too-large": (forced(4, 0, 10_000, 1 << PRESET.base_amount_bits), "AmountOutOfRange"),
    "price-zero": (forced(4, 0, 0, 1), "AmountOutOfRange"),
    "market-price-zero": (forced(4, MARKET, 0, 1), "AmountOutOfRange"),
    "price-too-large": (forced(4, MARKET, 1 << PRESET.price_bits, 1), "AmountOutOfRange"),
    "limit-above-band": (forced(4, 0, 12_001, 1), "PriceOutOfBand"),
    "limit-below-band": (forced(4, ASK, 7_999, 1), "PriceOutOfBand"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_each_refusal_consumes_it_with_status_0_and_changes_nothing(env: Env, name: str) -> None:
    env.place(3, BTC, SELL, 10_000, 3)  # liquidity it would otherwise take
    op, reason = REFUSED[name]
    before = env.snapshot()
    events = env.run(op)
    assert events == (RequestRejected(op.op_type(), op.account, reason),)
    assert env.snapshot() == before and env.state.pending is None
    if name not in ("unknown-flags", "flag-bit-2", "size-too-large"):  # no record holds them
        assert record_of(op, events) == {"status": 0, "maker": 0, "filled": 0}


@pytest.mark.parametrize("index", [INSURANCE_FUND, FEE_ACCOUNT, FUNDING_POOL])
def test_a_reserved_account_cannot_place_one(env: Env, index: int) -> None:
    claim_own(env, 9, index)
    before = env.snapshot()
    op = forced(index, 0, 10_000, 1, owner=owner_of(9))
    assert env.run(op) == (RequestRejected(op.op_type(), index, "ReservedAccount"),)
    assert env.snapshot() == before


def test_a_market_order_outside_the_band_is_clamped_not_refused(env: Env) -> None:
    env.place(3, BTC, SELL, 10_000, 3)
    op = forced(4, MARKET, (1 << PRESET.price_bits) - 1, 2)
    events = env.run(op)
    assert next(e for e in events if isinstance(e, Trade)).size == 2
    assert record_of(op, events) == {"status": 1, "maker": 3, "filled": 2}


def test_it_fills_then_its_claim_rests_the_remainder_without_a_nonce(env: Env) -> None:
    env.place(3, BTC, SELL, 10_000, 1)
    nonce = env.state.accounts[4].nonce
    op = forced(4, 0, 10_010, 3)
    events = env.run(op)
    assert record_of(op, events) == {"status": 1, "maker": 3, "filled": 1}
    assert env.state.pending is not None and env.state.pending.remaining == 2
    done = env.run(Claim(4))
    assert TakerDone(4, BTC, 2, "rested") in done
    assert env.state.accounts[4].open_orders == 1 and env.state.accounts[4].nonce == nonce
    assert env.state.markets[BTC].book.best(False).price == 10_010  # type: ignore[union-attr]


def _poor(env: Env, account: int, left: int) -> None:
    """``account`` keeps ``left`` of its collateral (the rest to account 6)."""
    env.run(env.signed(Transfer, account, to=6, amount=10_000_000 - left))


def test_a_first_step_failing_the_takers_risk_ends_it_with_status_1(env: Env) -> None:
    env.place(3, BTC, SELL, 10_000, 100)
    _poor(env, 4, 10_000)  # 11 lots of 10,000 need 11,000 of initial margin
    before = env.snapshot()
    op = forced(4, MARKET, 10_100, 11)
    events = env.run(op)
    assert events == (TakerDone(4, BTC, 11, "RiskCheckFailed"),)
    assert record_of(op, events) == {"status": 1, "maker": 0, "filled": 0}
    # exactly as a refused step leaves it: nothing moved, no taker pending, no nonce used
    assert env.snapshot() == before and env.state.pending is None


def test_open_interest_over_its_cap_ends_the_taker() -> None:
    env = Env(params=replace(MARKET_PARAMS, max_open_interest=2))
    env.open_many(4, 10_000_000)
    env.place(3, BTC, SELL, 10_000, 5)
    before = env.snapshot()
    op = forced(4, MARKET, 10_100, 3)
    assert env.run(op) == (TakerDone(4, BTC, 3, "OpenInterestLimit"),)
    assert env.snapshot() == before


def test_a_remainder_without_room_is_cancelled(env: Env) -> None:
    for i in range(PRESET.max_open_orders_per_account):
        env.place(4, BTC, BUY, 9_000 + i, 1)
    before = env.snapshot()
    op = forced(4, 0, 9_500, 1)
    events = env.run(op)
    assert events == (TakerDone(4, BTC, 1, "TooManyOpenOrders"),)
    assert record_of(op, events) == {"status": 1, "maker": 0, "filled": 0}
    assert env.snapshot() == before


def test_a_remainder_without_its_margin_is_cancelled(env: Env) -> None:
    _poor(env, 4, 900)  # a lot at 10,000 rests with 1,000 of initial margin
    before = env.snapshot()
    op = forced(4, 0, 10_000, 1)
    assert env.run(op) == (TakerDone(4, BTC, 1, "RiskCheckFailed"),)
    assert env.snapshot() == before


def test_a_claim_after_it_may_end_it_too(env: Env) -> None:
    env.place(3, BTC, SELL, 10_000, 1)
    env.place(5, BTC, SELL, 10_010, 100)
    _poor(env, 4, 12_000)  # 1 lot fills; 19 more would need 20,000 of initial margin
    op = forced(4, MARKET, 10_100, 20)
    assert record_of(op, env.run(op)) == {"status": 1, "maker": 3, "filled": 1}
    assert env.run(Claim(4)) == (TakerDone(4, BTC, 19, "RiskCheckFailed"),)
    assert env.state.pending is None and env.state.accounts[4].get_size(BTC) == 1
