"""Index, mark, premium samples, hourly funding, lazy settlement, zero-sum."""

from __future__ import annotations

from protocol.accounts import FUNDING_POOL
from protocol.events import FundingApplied, FundingSettled, IndexUpdated, PremiumSampled
from protocol.funding import compute_funding_rate, compute_impact_price
from protocol.ops.transfer import Transfer
from protocol.risk import compute_unsettled_funding
from protocol.types import FUNDING_INDEX_SCALE, RATE_SCALE
from tests.protocol.helpers import BTC, Env

BUY, SELL = False, True


def mark_at(env: Env, index: int) -> int:
    (updated,) = [e for e in env.set_index(BTC, index) if isinstance(e, IndexUpdated)]
    return updated.mark_price


def test_mark_is_the_median_of_index_and_impact_prices() -> None:
    env = Env()  # impact notional 1,000,000: 100 lots at these prices
    env.open_many(2, 10**9)
    assert env.set_index(BTC, 10_000)[0] == IndexUpdated(BTC, 10_000, 10_000)
    env.place(3, BTC, BUY, 10_050, 1)
    env.place(4, BTC, SELL, 10_100, 1)
    assert mark_at(env, 10_000) == 10_000  # both sides too thin: each counts as the index
    env.place(3, BTC, BUY, 10_050, 199)
    env.place(4, BTC, SELL, 10_100, 199)
    assert mark_at(env, 10_000) == 10_050
    assert mark_at(env, 10_200) == 10_100
    assert mark_at(env, 10_070) == 10_070


def test_one_lot_at_the_top_of_the_book_does_not_move_the_mark() -> None:
    env = Env()
    env.open_many(2, 10**9)
    env.place(3, BTC, BUY, 10_050, 200)
    env.place(4, BTC, SELL, 10_100, 200)
    env.place(3, BTC, BUY, 10_099, 1)  # the best bid; a best-bid mark would be 10,099
    # impact bid: 10,099 + 99 lots at 10,050 = 1,005,049 quote for 100 lots, rounded down
    assert mark_at(env, 10_000) == 10_050


def test_impact_price_walks_the_book() -> None:
    env = Env()
    env.open_many(1, 10**9)
    env.place(3, BTC, SELL, 10_000, 50)
    env.place(3, BTC, SELL, 10_100, 100)
    book = env.state.markets[BTC].book
    assert compute_impact_price(book, True, 500_000) == 10_000
    # 1,000,000: 50 lots at 10,000 then 50 lots at 10,100 -> 1,005,000 / 100, rounded up
    assert compute_impact_price(book, True, 1_000_000) == 10_050
    assert compute_impact_price(book, True, 10**9) is None
    assert compute_impact_price(book, False, 1) is None


def test_premium_is_sampled_each_minute_and_funding_applied_each_hour() -> None:
    env = Env()  # block time 1,000 s: minute 16, hour 0
    env.open_many(2, 10**9)
    env.place(3, BTC, BUY, 10_100, 200)  # impact bid 10,100 > index: longs will pay
    env.place(4, BTC, SELL, 10_300, 200)
    events = env.set_index(BTC, 10_000)
    (sample,) = [e for e in events if isinstance(e, PremiumSampled)]
    assert sample == PremiumSampled(BTC, 100 * RATE_SCALE // 10_000, 16)
    assert not [e for e in env.set_index(BTC, 10_000) if isinstance(e, PremiumSampled)]
    env.next_block(3_600)  # hour 1: the market's first funding starts its clock, applies none
    events = env.set_index(BTC, 10_000)
    (started,) = [e for e in events if isinstance(e, FundingApplied)]
    assert started.funding_index == 0
    env.next_block(7_200)  # hour 2: one hour at the rate of the samples since
    events = env.set_index(BTC, 10_000)
    (applied,) = [e for e in events if isinstance(e, FundingApplied)]
    premium = 100 * RATE_SCALE // 10_000 // 8  # average / 8, then the interest clamp
    assert applied.rate == premium + max(-6_250, min(6_250, 1_250 - premium))
    data = env.state.markets[BTC].data
    assert data.funding_index == applied.rate * data.mark_price * FUNDING_INDEX_SCALE // RATE_SCALE
    assert (data.premium_sum, data.premium_samples) == (0, 0)


def test_rate_is_capped() -> None:
    env = Env()
    market = env.state.markets[BTC]
    with env.state.transaction():
        env.state.set_market_data(market, "premium_sum", 10 * RATE_SCALE)
        env.state.set_market_data(market, "premium_samples", 1)
    assert compute_funding_rate(market) == market.params.funding_cap


def test_funding_settles_lazily_and_sums_to_zero() -> None:
    env = Env()
    env.open_many(3, 10**9)
    env.place(3, BTC, SELL, 10_000, 7)
    env.place(4, BTC, BUY, 10_000, 7)
    env.place(5, BTC, BUY, 10_100, 500)  # a bid above the index: positive premium
    env.set_index(BTC, 10_000)
    env.next_block(3_600)
    env.set_index(BTC, 10_000)  # the market's first funding: its clock starts at hour 1
    env.next_block(3_600 * 3 + 5)
    env.set_index(BTC, 10_000)
    accounts, market = env.state.accounts, env.state.markets[BTC]
    owed = {a: compute_unsettled_funding(accounts[a].positions[BTC], market) for a in (3, 4)}
    assert owed[4] > 0 > owed[3]  # longs pay
    assert owed[3] + owed[4] in (0, 1)  # rounding: the payer's share rounds up
    pool_before = accounts[FUNDING_POOL].collateral
    events = env.place(4, BTC, SELL, 10_000, 1)  # touching the position settles it
    assert FundingSettled(4, BTC, owed[4]) in events
    assert env.state.accrued_funding == owed[4]  # the pool's, at the block's end
    env.end_block()
    assert accounts[FUNDING_POOL].collateral == pool_before + owed[4]
    env.run(env.signed(Transfer, 3, to=5, amount=1))  # a transfer does not settle
    assert compute_unsettled_funding(accounts[3].positions[BTC], market) == owed[3]
