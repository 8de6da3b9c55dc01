"""Partial liquidation at the zero price, LLP takeover, auto-deleveraging, pool shares."""

from __future__ import annotations

import pytest

from protocol.accounts import INSURANCE_FUND
from protocol.block import compute_record, process_block_end, process_operation_with_claims
from protocol.errors import (
    InsufficientShares,
    LiquidationNotAllowed,
    RiskCheckFailed,
)
from protocol.events import (
    AllOrdersCancelled,
    LiquidationFill,
    OrderCancelled,
    PositionTakenOver,
    Trade,
)
from protocol.exits import compute_exit_amount
from protocol.liquidation import is_takeover_possible
from protocol.ops.burn_shares import BurnShares
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
