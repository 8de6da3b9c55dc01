"""Partial liquidation at the zero price, LLP takeover, auto-deleveraging, pool shares."""

from __future__ import annotations

import pytest

from protocol.accounts import INSURANCE_FUND
from protocol.block import compute_record, process_block_end, process_operation_with_claims
from protocol.errors import (
    DeleverageNotAllowed,
    InsufficientShares,
    LiquidationNotAllowed,
    RiskCheckFailed,
)
from protocol.events import (
    AllOrdersCancelled,
    Deleveraged,
    LiquidationFill,
    OrderCancelled,
    PositionTakenOver,
    Trade,
)
from protocol.exits import compute_exit_amount
from protocol.liquidation import compute_adl_ranking, is_takeover_possible
from protocol.ops.burn_shares import BurnShares
from protocol.ops.deleverage import Deleverage
from protocol.ops.forced_burn import ForcedBurn
from protocol.ops.liquidate import Liquidate
from protocol.ops.mint_shares import MintShares
from protocol.ops.registry import decode_op
from protocol.ops.takeover import Takeover
from protocol.ops.transfer import Transfer
from protocol.risk import Health, compute_risk
from tests.protocol.helpers import BTC, Env, assert_rejected, owner_of, total_collateral

BUY, SELL = False, True


def tav(env: Env, account: int) -> int:
    return compute_risk(env.state.accounts[account], env.state.markets).tav


@pytest.fixture
def env() -> Env:
    """3: long 10 at 10,000 with 20,000 own money; 4, 5, 6: rich; the fund holds 10 USDC."""
    e = Env()
    e.open_many(4, 100_000_000)
    e.run(e.signed(Transfer, 3, to=5, amount=100_000_000 - 20_050))
    e.run(e.signed(MintShares, 6, amount=10_000_000))
    e.place(4, BTC, SELL, 10_000, 10)
    e.place(3, BTC, BUY, 10_000, 10)
    return e


def test_partial_liquidation_trades_at_the_zero_price(env: Env) -> None:
    env.place(3, BTC, SELL, 11_000, 1)  # an order that liquidation cancels
    assert_rejected(env, Liquidate(3, BTC, 5), LiquidationNotAllowed)  # healthy
    env.set_index(BTC, 8_400)  # TAV 4,000 < MMR 4,200: partial liquidation
    before = compute_risk(env.state.accounts[3], env.state.markets)
    assert before.health == Health.PARTIAL_LIQUIDATION
    env.place(5, BTC, BUY, 8_390, 3)
    env.place(6, BTC, BUY, 8_385, 3)
    fund = env.state.accounts[INSURANCE_FUND].collateral
    epoch = env.state.accounts[3].cancel_epoch
    done = process_operation_with_claims(env.state, Liquidate(3, BTC, 5))
    events = [e for _, ev in done for e in ev]
    # its orders die lazily, as a cancel all's: the epoch moves on, the book keeps the order
    (cancelled,) = [e for e in events if isinstance(e, AllOrdersCancelled)]
    assert (cancelled.reason, cancelled.cancelled) == ("liquidation", 1)
    assert env.state.accounts[3].cancel_epoch == epoch + 1
    assert env.state.accounts[3].open_orders == 0
    assert not any(isinstance(e, OrderCancelled) for e in events)
    fills = [e for e in events if isinstance(e, LiquidationFill)]
    zero = fills[0].zero_price
    assert zero == 8_400 * (4_200 * 10**6 - 50_000 * 4_000) // (4_200 * 10**6)
    assert [(f.price, f.size) for f in fills] == [(8_390, 3), (8_385, 2)]
    spread = (8_390 - zero) * 3 + (8_385 - zero) * 2
    # the spread accrues for the fund, credited at the block's end as the fees are
    assert (env.state.accounts[INSURANCE_FUND].collateral, env.state.accrued_insurance) == (
        fund,
        spread,
    )
    process_block_end(env.state)
    assert env.state.accounts[INSURANCE_FUND].collateral == fund + spread
    assert env.state.accrued_insurance == 0
    after = compute_risk(env.state.accounts[3], env.state.markets)
    # TAV / MMR unchanged up to the rounding of the zero price (against the account)
    assert after.tav * before.mmr <= before.tav * after.mmr
    assert abs(after.tav * before.mmr - before.tav * after.mmr) <= 5 * before.mmr
    assert env.state.accounts[3].get_size(BTC) == 5


def test_takeover_below_close_out(env: Env) -> None:
    env.set_index(BTC, 8_300)  # TAV 3,000 < MMR 4,150; CMR 2,075 -> partial, not full
    assert_rejected(env, Takeover(3), LiquidationNotAllowed)
    env.set_index(BTC, 8_100)  # TAV 1,000 < CMR 2,025
    assert is_takeover_possible(env.state, env.state.accounts[3])
    assert_rejected(env, Liquidate(3, BTC, 1), LiquidationNotAllowed)
    total = tav(env, INSURANCE_FUND) + tav(env, 3)
    events = env.run(Takeover(3))
    (moved,) = [e for e in events if isinstance(e, PositionTakenOver)]
    assert moved.size == 10
    assert env.state.accounts[INSURANCE_FUND].get_size(BTC) == 10
    assert BTC not in env.state.accounts[3].positions
    assert 0 <= env.state.accounts[3].collateral <= 10  # equity taken, up to rounding dust
    assert tav(env, INSURANCE_FUND) + tav(env, 3) == total


def test_bankrupt_takeover_charges_the_fund(env: Env) -> None:
    env.set_index(BTC, 7_900)  # TAV -1,000
    fund_tav = tav(env, INSURANCE_FUND)
    env.run(Takeover(3))
    assert env.state.accounts[3].collateral == 0 and not env.state.accounts[3].positions
    assert tav(env, INSURANCE_FUND) == fund_tav - 1_000


def test_deleverage_when_the_fund_cannot_absorb(env: Env) -> None:
    env.run(env.signed(BurnShares, 6, shares=env.state.accounts[6].pool_shares))  # empty fund
    env.set_index(BTC, 7_901)  # TAV -990: the zero price 7,999 would leave a debt of 10
    assert not is_takeover_possible(env.state, env.state.accounts[3])
    assert_rejected(env, Takeover(3), LiquidationNotAllowed)
    assert_rejected(env, Deleverage(3, 5, BTC, 1), DeleverageNotAllowed)  # 5: no position
    assert_rejected(env, Deleverage(3, 4, BTC, 11), DeleverageNotAllowed)
    assert compute_adl_ranking(env.state, BTC, True) == [4]
    before = {a: tav(env, a) for a in (3, 4, 5)}
    events = env.run(Deleverage(3, 4, BTC, 10))
    (event,) = [e for e in events if isinstance(e, Deleveraged)]
    assert event.size == 10 and not env.state.accounts[3].positions
    assert env.state.accounts[4].get_size(BTC) == 0
    # the last position goes at the bankruptcy price, 7,901 + 99 = 8,000: no debt is left
    assert event.quote == 10 * 8_000
    assert env.state.accounts[3].collateral == tav(env, 3) == 0
    assert tav(env, 4) - before[4] == before[3] - tav(env, 3)  # the counterparty bears it
    assert tav(env, 5) == before[5]  # no position, never charged


def negative_cash_short(env: Env, cash: int) -> int:
    """Makes 4 (short 10 at 10,000) a short with negative cash: no price >= 0 covers it.
    Returns the collateral of all accounts together, which the deleverage must conserve."""
    env.state.set_collateral(env.state.accounts[4], cash)
    assert not is_takeover_possible(env.state, env.state.accounts[4])
    return total_collateral(env.state)


def test_a_negative_cash_short_is_paid_by_the_fund_then_the_counterparty(env: Env) -> None:
    """The fund pays what it has (its free value, 10 USDC), the counterparty the rest: the
    short ends at 0, nobody negative, collateral conserved (PROTOCOL 7.4)."""
    env.run(env.signed(Transfer, 5, to=3, amount=30_000_000))  # 3 can bear it
    total = negative_cash_short(env, -20_000_000)
    fund = env.state.accounts[INSURANCE_FUND]
    assert fund.collateral == 10_000_000 and tav(env, 4) == -20_100_000
    cash_3 = env.state.accounts[3].collateral
    events = env.run(Deleverage(4, 3, BTC, 10))
    (event,) = [e for e in events if isinstance(e, Deleveraged)]
    assert event.quote == 0  # bought back at the floor price 0
    assert env.state.accounts[4].collateral == 0 and not env.state.accounts[4].positions
    assert fund.collateral == 0  # all it had, never below 0
    assert env.state.accounts[3].collateral == cash_3 - 10_000_000  # sold at 0, paid the rest
    assert not any(p.size for p in env.state.accounts[3].positions.values())
    assert total_collateral(env.state) == total


def test_a_poor_fund_pays_nothing_below_zero(env: Env) -> None:
    env.run(env.signed(BurnShares, 6, shares=env.state.accounts[6].pool_shares))  # empty fund
    env.run(env.signed(Transfer, 5, to=3, amount=30_000_000))
    total = negative_cash_short(env, -1_000)
    fund = env.state.accounts[INSURANCE_FUND].collateral
    cash_3 = env.state.accounts[3].collateral
    env.run(Deleverage(4, 3, BTC, 10))
    assert env.state.accounts[4].collateral == 0
    assert env.state.accounts[INSURANCE_FUND].collateral == fund >= 0
    assert env.state.accounts[3].collateral == cash_3 - 1_000
    assert total_collateral(env.state) == total


def test_a_counterparty_that_cannot_bear_the_deficit_is_refused(env: Env) -> None:
    """3 (long 10 bought with 80,000 of borrowed cash) would sell at 0 and end with no position
    and a debt: refused; once it is rich enough, or keeps a position, it is allowed."""
    env.run(env.signed(BurnShares, 6, shares=env.state.accounts[6].pool_shares))
    negative_cash_short(env, -1_000)
    assert env.state.accounts[3].collateral < 0
    assert_rejected(env, Deleverage(4, 3, BTC, 10), DeleverageNotAllowed)
    env.run(Deleverage(4, 3, BTC, 9))  # 3 keeps a lot, and the debt with it: it is bankrupt
    assert env.state.accounts[3].get_size(BTC) == 1 and tav(env, 3) < 0
    assert env.state.accounts[4].get_size(BTC) == -1


def test_a_bankrupt_fund_short_with_negative_cash_leaves_no_debt(env: Env) -> None:
    """The fund itself cannot pay: its counterparty bears all of its deficit."""
    env.run(env.signed(Transfer, 4, to=5, amount=100_000_000 - 20_050))  # 4: own money 20,050
    env.set_index(BTC, 11_900)  # 4: TAV about 1,000 < CMR
    env.run(Takeover(4))
    fund = env.state.accounts[INSURANCE_FUND]
    assert fund.get_size(BTC) == -10
    env.state.set_collateral(fund, -5_000)  # its cash went to earlier deficits
    env.run(env.signed(Transfer, 5, to=3, amount=30_000_000))
    total = total_collateral(env.state)
    cash_3 = env.state.accounts[3].collateral
    env.run(Deleverage(INSURANCE_FUND, 3, BTC, 10))
    assert fund.collateral == 0 and not any(p.size for p in fund.positions.values())
    assert env.state.accounts[3].collateral == cash_3 - 5_000
    assert total_collateral(env.state) == total


def test_deleverage_needs_a_bankrupt_account(env: Env) -> None:
    env.set_index(BTC, 8_100)
    assert_rejected(env, Deleverage(3, 4, BTC, 1), DeleverageNotAllowed)


def test_pool_shares_mint_and_burn_at_pool_value(env: Env) -> None:
    fund = env.state.accounts[INSURANCE_FUND]
    assert fund.pool_shares == env.state.accounts[6].pool_shares == 10_000_000
    env.run(env.signed(Transfer, 5, to=INSURANCE_FUND, amount=10_000_000))  # value doubles
    env.run(env.signed(MintShares, 5, amount=1_000))
    assert env.state.accounts[5].pool_shares == 500
    env.run(env.signed(BurnShares, 5, shares=500))
    assert env.state.accounts[5].pool_shares == 0
    assert_rejected(env, env.signed(BurnShares, 5, shares=1), InsufficientShares)
    assert_rejected(env, env.signed(MintShares, 5, amount=1), InsufficientShares)  # 0.5 share


def test_burn_may_not_leave_the_fund_under_maintenance(env: Env) -> None:
    env.set_index(BTC, 8_100)
    env.run(Takeover(3))  # the fund now holds a long of 10 (MMR about 4,050)
    shares = env.state.accounts[6].pool_shares
    assert_rejected(env, env.signed(BurnShares, 6, shares=shares), RiskCheckFailed)
    op = ForcedBurn(6, owner_of(6), shares)
    events = env.run(op)
    assert decode_op(compute_record(op, events)).get("status") == 0
    op = ForcedBurn(6, owner_of(6), shares // 2)
    events = env.run(op)
    record = decode_op(compute_record(op, events)).as_dict()
    assert record["status"] == 1 and record["collateral_out"] > 0  # type: ignore[operator]
    assert not any(isinstance(e, Trade) for e in events)


def test_a_bankrupt_insurance_fund_is_deleveraged(env: Env) -> None:
    """The fund took a long over and the price kept falling: nothing can take the fund over, so
    its position is deleveraged at its bankruptcy price and it ends with no debt."""
    env.run(env.signed(BurnShares, 6, shares=10_000_000 - 5_000))  # the fund keeps 5,000
    env.set_index(BTC, 8_100)  # 3: TAV 1,000 < CMR
    env.run(Takeover(3))
    assert env.state.accounts[INSURANCE_FUND].get_size(BTC) == 10
    env.set_index(BTC, 7_000)
    fund_tav = tav(env, INSURANCE_FUND)
    assert fund_tav == 6_000 - 10 * 1_100
    assert_rejected(env, Takeover(INSURANCE_FUND), LiquidationNotAllowed)
    events = env.run(Deleverage(INSURANCE_FUND, 4, BTC, 10))
    (event,) = [e for e in events if isinstance(e, Deleveraged)]
    assert event.quote == 10 * (7_000 + 500)  # the bankruptcy price: mark + 5,000 / 10
    fund = env.state.accounts[INSURANCE_FUND]
    assert fund.collateral == 0 and not any(p.size for p in fund.positions.values())


def test_exit_amounts_in_desert_mode(env: Env) -> None:
    """Each account exits with max(0, TAV); share holders with their part of the fund's value;
    the fund and the funding pool with nothing of their own (PROTOCOL 9.4)."""
    state = env.state
    env.run(env.signed(Transfer, 5, to=INSURANCE_FUND, amount=5_000_001))  # fund: 15,000,001
    env.run(env.signed(MintShares, 5, amount=3_000_000))  # 1,999,999 shares (rounded down)
    supply, fund_value = state.accounts[INSURANCE_FUND].pool_shares, tav(env, INSURANCE_FUND)
    held = state.accounts[5].pool_shares
    assert (supply, fund_value, held) == (11_999_999, 18_000_001, 1_999_999)
    assert compute_exit_amount(state, INSURANCE_FUND) == compute_exit_amount(state, 2) == 0
    assert compute_exit_amount(state, 3) == tav(env, 3) == 20_000
    assert compute_exit_amount(state, 5) == tav(env, 5) + held * fund_value // supply
    assert compute_exit_amount(state, 6) == tav(env, 6) + 10_000_000 * fund_value // supply
    env.set_index(BTC, 7_000)  # 3 is bankrupt: it exits with nothing, not a debt
    assert compute_exit_amount(state, 3) == 0
    held_usdc = total_collateral(state)
    total = sum(compute_exit_amount(state, i) for i in state.accounts)
    assert held_usdc < total <= held_usdc + 10_000  # 3's debt of 10,000: liquidate first
    env.run(Takeover(3))  # the fund absorbs it
    assert sum(compute_exit_amount(state, i) for i in state.accounts) <= held_usdc
