"""Margin, health states, the valid-risk-change rule, per-position leverage."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.accounts import Account, Position
from protocol.book import OrderBook
from protocol.errors import AmountOutOfRange, MalformedTransaction, RiskCheckFailed
from protocol.markets import Market, MarketData, MarketParams
from protocol.ops.set_leverage import SetLeverage
from protocol.ops.transfer import Transfer
from protocol.ops.withdraw import Withdraw
from protocol.risk import (
    Health,
    Risk,
    compute_free_margin,
    compute_risk,
    compute_zero_price,
    is_valid_risk_change,
)
from tests.protocol.helpers import BTC, Env, assert_rejected

BUY, SELL = False, True


def risk_of(env: Env, account: int) -> Risk:
    return compute_risk(env.state.accounts[account], env.state.markets)


@pytest.fixture
def env() -> Env:
    """Account 3 long 10 BTC at 10,000 with 20,000 of own money (5x); 4 short, rich; 5 rich."""
    e = Env()
    e.open_many(3, 100_000_000)
    e.run(e.signed(Transfer, 3, to=5, amount=100_000_000 - 20_000 - 50))
    e.place(4, BTC, SELL, 10_000, 10)
    e.place(3, BTC, BUY, 10_000, 10)
    return e


def test_margins_and_tav(env: Env) -> None:
    risk = risk_of(env, 3)
    assert risk == Risk(tav=20_000, imr=10_000, mmr=5_000, cmr=2_500)
    assert risk.health == Health.HEALTHY


@pytest.mark.parametrize(
    ("index", "health"),
    # TAV = 10 m - 80,000 against IMR m, MMR m / 2, CMR m / 4 (rounded up)
    [
        (8_889, Health.HEALTHY),
        (8_888, Health.PRE_LIQUIDATION),
        (8_421, Health.PARTIAL_LIQUIDATION),
        (8_205, Health.FULL_LIQUIDATION),
        (8_000, Health.FULL_LIQUIDATION),
        (7_999, Health.BANKRUPT),
    ],
)
def test_five_health_states(env: Env, index: int, health: Health) -> None:
    env.set_index(BTC, index)
    assert risk_of(env, 3).health == health


def test_healthy_account_must_stay_healthy(env: Env) -> None:
    assert_rejected(env, env.signed(Withdraw, 3, amount=10_001), RiskCheckFailed)
    env.run(env.signed(Withdraw, 3, amount=10_000))
    assert_rejected(env, env.order(3, BTC, BUY, 10_000, 1), RiskCheckFailed)


def test_unhealthy_account_may_only_reduce_risk(env: Env) -> None:
    env.set_index(BTC, 8_800)  # TAV 8,000 < IMR 8,800: pre-liquidation
    assert_rejected(env, env.signed(Transfer, 3, to=4, amount=1), RiskCheckFailed)
    env.place(5, BTC, SELL, 8_800, 5)
    assert_rejected(env, env.order(3, BTC, BUY, 8_800, 1, time_in_force=2), RiskCheckFailed)
    env.place(5, BTC, BUY, 8_790, 5)
    before = risk_of(env, 3)
    env.place(3, BTC, SELL, 8_790, 5, time_in_force=2)  # reduces: TAV/MMR improves
    after = risk_of(env, 3)
    assert after.mmr < before.mmr and is_valid_risk_change(before, after)


def test_negative_value_without_a_position_may_only_grow(env: Env) -> None:
    """TAV < 0 with no margin at all: TAV / MMR is 0 / 0, so the ratio cannot be the test."""
    in_debt = Risk(tav=-5, imr=0, mmr=0, cmr=0)
    assert not is_valid_risk_change(in_debt, in_debt._replace(tav=-105))
    assert is_valid_risk_change(in_debt, in_debt._replace(tav=-3))
    assert not is_valid_risk_change(in_debt, Risk(tav=-5, imr=10, mmr=5, cmr=2))
    env.state.accounts[5].collateral = -5  # as a bankruptcy the insurance fund absorbed leaves it
    assert_rejected(env, env.signed(Withdraw, 5, amount=100), RiskCheckFailed)
    assert_rejected(env, env.signed(Transfer, 5, to=4, amount=1), RiskCheckFailed)


def test_set_leverage_raises_the_initial_margin(env: Env) -> None:
    env.run(env.signed(SetLeverage, 3, market=BTC, imf=200_000))  # 5x: IMR 20,000 = TAV
    assert risk_of(env, 3).imr == 20_000
    assert_rejected(env, env.signed(SetLeverage, 3, market=BTC, imf=200_001), RiskCheckFailed)
    assert_rejected(env, env.signed(SetLeverage, 3, market=BTC, imf=99_999), MalformedTransaction)
    env.run(env.signed(SetLeverage, 3, market=BTC, imf=0))
    assert risk_of(env, 3).imr == 10_000


def test_leverage_on_an_empty_position_is_kept_and_dropped_when_reset(env: Env) -> None:
    env.run(env.signed(SetLeverage, 5, market=BTC, imf=500_000))
    assert env.state.accounts[5].positions[BTC].imf == 500_000
    env.run(env.signed(SetLeverage, 5, market=BTC, imf=0))
    assert BTC not in env.state.accounts[5].positions


def test_zero_price_keeps_tav_over_mmr() -> None:
    risk = Risk(tav=4_000, imr=10_000, mmr=5_000, cmr=2_500)
    env = Env()
    market = env.state.markets[BTC]
    zero = compute_zero_price(risk, market, True)
    assert zero == 10_000 * (5_000 * 10**6 - 50_000 * 4_000) // (5_000 * 10**6)
    # selling q lots at the zero price: (4000 + q(zero - 10000)) / (5000 - 500 q) ~ 0.8
    q = 2
    assert abs((4_000 + q * (zero - 10_000)) * 5_000 - 4_000 * (5_000 - 500 * q)) <= 5_000 * q


_signed = st.integers(-(1 << 60), 1 << 60)
_position = st.builds(
    Position, _signed, _signed, _signed, st.sampled_from([0, 50_000, 100_000, 333_333, 10**6])
)


@settings(max_examples=300, deadline=None)
@given(
    collateral=_signed,
    marks=st.lists(st.integers(1, 1 << 40), min_size=3, max_size=3),
    funding=st.lists(_signed, min_size=3, max_size=3),
    positions=st.dictionaries(st.integers(0, 2), _position),
)
def test_free_margin_is_tav_minus_imr(
    collateral: int, marks: list[int], funding: list[int], positions: dict[int, Position]
) -> None:
    """The hot path's ``compute_free_margin`` equals ``compute_risk``'s TAV - IMR exactly."""
    params = MarketParams(imf=200_000, mmf=100_000, cmf=30_000)
    markets = [
        Market(i, params, MarketData(mark, mark, funding_index=f), OrderBook(8))
        for i, (mark, f) in enumerate(zip(marks, funding, strict=True))
    ]
    account = Account(3, collateral=collateral, positions=positions)
    risk = compute_risk(account, markets)
    assert compute_free_margin(account, markets) == risk.tav - risk.imr


# -- boundaries a mutation of the rules must not get past (issue 12, item 9) -----------------


def test_a_withdrawal_of_zero_is_refused(env: Env) -> None:
    """``0 < amount``: a withdrawal of nothing is malformed, not a no-op that bumps the nonce."""
    assert_rejected(env, env.signed(Withdraw, 5, amount=0), AmountOutOfRange)
    env.run(env.signed(Withdraw, 5, amount=1))


def test_an_unchanged_tav_over_mmr_ratio_is_a_valid_change() -> None:
    """``TAV/MMR`` may stay equal (``>=``, not ``>``): halving an unhealthy position at the
    zero price keeps the ratio exactly, and must be allowed (partial liquidation relies on it)."""
    before = Risk(tav=4_000, imr=10_000, mmr=5_000, cmr=2_500)
    same_ratio = Risk(tav=2_000, imr=5_000, mmr=2_500, cmr=1_250)
    assert is_valid_risk_change(before, same_ratio)
    assert not is_valid_risk_change(before, same_ratio._replace(tav=1_999))


def test_an_unhealthy_account_may_trade_at_exactly_its_ratio(env: Env) -> None:
    """The same boundary through the rules: account 3 sells 1 of its 10 lots at a price that
    leaves TAV / MMR exactly where it was, taker fee included."""
    env.set_index(BTC, 8_800)  # TAV 8,000, IMR 8,800, MMR 4,400: pre-liquidation
    before = risk_of(env, 3)
    assert (before.tav, before.mmr) == (8_000, 4_400)
    # selling 1 at 8,005: TAV 8,000 - 795 - fee 5 = 7,200, MMR 3,960: 7,200 / 3,960 = 8,000 / 4,400
    env.place(5, BTC, BUY, 8_005, 1)
    env.place(3, BTC, SELL, 8_005, 1, time_in_force=2)
    after = risk_of(env, 3)
    assert (after.tav, after.mmr) == (7_200, 3_960)
    assert env.state.accounts[3].get_size(BTC) == 9


def test_no_margin_and_an_unchanged_value_is_a_valid_change(env: Env) -> None:
    """With MMR = 0 before, TAV may stay where it is (``>=``): e.g. choosing leverage on an
    empty position while in debt."""
    in_debt = Risk(tav=-5, imr=0, mmr=0, cmr=0)
    assert is_valid_risk_change(in_debt, in_debt)
    env.state.accounts[5].collateral = -5
    env.run(env.signed(SetLeverage, 5, market=BTC, imf=500_000))
    assert env.state.accounts[5].positions[BTC].imf == 500_000
