"""The deleverage round (PROTOCOL 7.4, docs/ADL.md): a bankrupt account's position closed pro
rata against every holder of the opposite side, in account order, at one price; the market
frozen meanwhile; the remainder to the insurance fund."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from protocol.accounts import INSURANCE_FUND
from protocol.block import compute_record
from protocol.commitment import compute_market_leaf, get_market_data_lanes
from protocol.errors import DeleverageNotAllowed, LiquidationNotAllowed, MarketDeleveraging
from protocol.events import Deleveraged, DeleverageStarted, Event
from protocol.liquidation import is_takeover_possible, list_round_counterparties
from protocol.markets import ADL_FIELDS, MarketParams
from protocol.ops.deleverage import Deleverage
from protocol.ops.deleverage_end import DeleverageEnd
from protocol.ops.deleverage_step import DeleverageStep
from protocol.ops.forced_order import ForcedOrder
from protocol.ops.liquidate import Liquidate
from protocol.ops.registry import Operation, decode_op, get_operation
from protocol.ops.takeover import Takeover
from protocol.ops.transfer import Transfer
from protocol.risk import compute_risk
from tests.protocol.helpers import BTC, Env, assert_rejected, owner_of, total_collateral

BUY, SELL = False, True
NO_FEES = MarketParams(  # clean numbers; the oracle may move the index 30 % at once
    maker_fee=0, taker_fee=0, price_band=400_000, impact_notional=10**6, max_price_move=300_000
)
X, Y, S1, S2, S3, RICH = 3, 7, 4, 5, 6, 10**9


def tav(env: Env, account: int) -> int:
    return compute_risk(env.state.accounts[account], env.state.markets).tav


def sizes(env: Env, accounts: Sequence[int]) -> list[int]:
    return [env.state.accounts[a].get_size(BTC) for a in accounts]


def run_round(env: Env, account: int) -> list[Event]:
    """Opens the round of ``account`` in BTC, serves every counterparty and ends it."""
    events = list(env.run(Deleverage(account, BTC)))
    market = env.state.markets[BTC]
    for other in list_round_counterparties(env.state, market):
        events += env.run(DeleverageStep(BTC, other))
    return events + list(env.run(DeleverageEnd(BTC)))


@pytest.fixture
def env() -> Env:
    """X long 6 and Y long 4 at 10,000; S1, S2, S3 short 5, 3 and 2; X has 15,000 of its own
    and the fund nothing; then the index falls to 7,000: X is bankrupt (TAV -3,000)."""
    e = Env(params=NO_FEES)
    e.open_many(6, RICH)
    e.run(e.signed(Transfer, X, to=8, amount=RICH - 15_000))
    for seller, size in ((S1, 5), (S2, 3), (S3, 2)):
        e.place(seller, BTC, SELL, 10_000, size)
    e.place(X, BTC, BUY, 10_000, 6)
    e.place(Y, BTC, BUY, 10_000, 4)
    e.set_index(BTC, 8_000)
    e.set_index(BTC, 7_000)
    assert tav(e, X) == -3_000 and not is_takeover_possible(e.state, e.state.accounts[X])
    return e


def test_a_round_closes_the_position_pro_rata_at_the_bankruptcy_price(env: Env) -> None:
    total, flat = total_collateral(env.state), env.state.accounts[8].collateral
    before = {a: tav(env, a) for a in (S1, S2, S3, Y)}
    assert_rejected(env, Takeover(X), LiquidationNotAllowed)
    events = run_round(env, X)
    (started,) = [e for e in events if isinstance(e, DeleverageStarted)]
    assert (started.size, started.total) == (6, 10)
    assert started.price == 7_000 + 500  # mark + ceil(3,000 / 6): the last position
    moved = [(e.counterparty, e.size) for e in events if isinstance(e, Deleveraged)]
    # floor(6 * 5 / 10), floor(6 * 3 / 10), floor(6 * 2 / 10), the remainder to the fund
    assert moved == [(S1, 3), (S2, 1), (S3, 1), (INSURANCE_FUND, 1)]
    assert sizes(env, (X, S1, S2, S3, Y, INSURANCE_FUND)) == [0, -2, -2, -1, 4, 1]
    assert env.state.markets[BTC].data.open_interest == 5
    assert env.state.accounts[X].collateral == tav(env, X) == 0  # no debt left
    for account, lots in ((S1, 3), (S2, 1), (S3, 1)):  # each pays 500 a lot over the mark
        assert tav(env, account) == before[account] - 500 * lots
    assert tav(env, Y) == before[Y]  # same side as X: untouched
    assert env.state.accounts[8].collateral == flat  # no position: never charged
    assert total_collateral(env.state) == total
    assert all(getattr(env.state.markets[BTC].data, name) == 0 for name in ADL_FIELDS)


def test_the_round_serves_each_holder_once_in_order_and_all_of_them(env: Env) -> None:
    assert_rejected(env, DeleverageStep(BTC, S1), DeleverageNotAllowed)  # no round open
    env.run(Deleverage(X, BTC))
    assert_rejected(env, Deleverage(X, BTC), MarketDeleveraging)
    assert_rejected(env, DeleverageStep(BTC, Y), DeleverageNotAllowed)  # same side
    assert_rejected(env, DeleverageStep(BTC, 8), DeleverageNotAllowed)  # no position
    env.run(DeleverageStep(BTC, S2))
    assert_rejected(env, DeleverageStep(BTC, S1), DeleverageNotAllowed)  # behind the cursor
    assert_rejected(env, DeleverageStep(BTC, S2), DeleverageNotAllowed)  # served already
    env.run(DeleverageStep(BTC, S3))
    # S1 was skipped: the lots seen (3 + 2) fall short of S = 10, so the round cannot end
    with pytest.raises(DeleverageNotAllowed, match="served 5 of the opposite side's 10 lots"):
        env.run(DeleverageEnd(BTC))


def test_the_market_is_frozen_while_its_round_is_open(env: Env) -> None:
    env.run(Deleverage(X, BTC))
    assert_rejected(env, env.order(S1, BTC, BUY, 7_000, 1), MarketDeleveraging)
    y = env.state.accounts[Y]
    risk = compute_risk(y, env.state.markets)
    env.state.set_collateral(y, y.collateral - (risk.tav - risk.mmr) - 1)  # TAV = MMR - 1
    assert_rejected(env, Liquidate(Y, BTC, 1), MarketDeleveraging)
    op = ForcedOrder(S1, owner_of(S1), BTC, 0, 7_000, 1)
    events = env.run(op)  # an L1 request is consumed with status 0, never stalls the queue
    assert decode_op(compute_record(op, events)).get("status") == 0
    for other in list_round_counterparties(env.state, env.state.markets[BTC]):
        env.run(DeleverageStep(BTC, other))
    env.run(DeleverageEnd(BTC))
    env.place(S1, BTC, BUY, 6_600, 1)  # open again
    env.run(Liquidate(Y, BTC, 1))


def test_a_short_with_negative_cash_buys_back_at_a_negative_price() -> None:
    """X short 10 whose cash is negative: no price >= 0 covers its debt, so the round's price
    is negative and the longs pay it pro rata; X ends at 0, collateral conserved."""
    e = Env(params=NO_FEES)
    e.open_many(6, RICH)
    e.place(S1, BTC, BUY, 10_000, 6)
    e.place(S2, BTC, BUY, 10_000, 4)
    e.place(X, BTC, SELL, 10_000, 10)
    e.state.set_collateral(e.state.accounts[X], -20_000_000)  # cash gone to earlier losses
    total = total_collateral(e.state)
    before = {a: tav(e, a) for a in (S1, S2, X)}
    assert before[X] == -20_000_000 - 10 * 10_000
    events = run_round(e, X)
    (started,) = [ev for ev in events if isinstance(ev, DeleverageStarted)]
    assert started.price == 10_000 + before[X] // 10 < 0  # mark + floor(TAV / 10)
    assert sizes(e, (X, S1, S2)) == [0, 0, 0]
    assert 0 <= e.state.accounts[X].collateral < 10
    paid = {a: before[a] - tav(e, a) for a in (S1, S2)}
    assert paid[S1] * 4 == paid[S2] * 6  # pro rata: 6 and 4 lots at the same price
    assert total_collateral(e.state) == total


def test_a_holder_whose_whole_position_goes_keeps_a_lot_and_its_debt() -> None:
    """X holds the whole short side (|s| = S) at a negative price; S1, a long bought with
    borrowed cash, would close everything and end with a debt: it takes one lot fewer."""
    e = Env(params=NO_FEES)
    e.open_many(6, RICH)
    e.place(S1, BTC, BUY, 10_000, 10)
    e.place(X, BTC, SELL, 10_000, 10)
    e.state.set_collateral(e.state.accounts[S1], -50_000)  # S1's cash is borrowed
    e.state.set_collateral(e.state.accounts[X], -1_000)
    total = total_collateral(e.state)
    events = run_round(e, X)
    moved = [(ev.counterparty, ev.size) for ev in events if isinstance(ev, Deleveraged)]
    assert moved == [(S1, -9), (INSURANCE_FUND, -1)]
    assert sizes(e, (X, S1, INSURANCE_FUND)) == [0, 1, -1]
    assert e.state.accounts[X].collateral >= 0
    assert total_collateral(e.state) == total


def test_a_bankrupt_insurance_fund_closes_its_position_rounding_up(env: Env) -> None:
    """Nothing can take the fund over: its own round closes its position at its bankruptcy
    price; with nobody to leave a remainder to, its holders' shares round up, capped by the
    lots left, in account order."""
    run_round(env, X)  # the fund now holds a long of 1 at 7,500
    fund = env.state.accounts[INSURANCE_FUND]
    assert fund.get_size(BTC) == 1 and tav(env, INSURANCE_FUND) == -500
    assert_rejected(env, Takeover(INSURANCE_FUND), LiquidationNotAllowed)
    total = total_collateral(env.state)
    events = run_round(env, INSURANCE_FUND)
    moved = [(e.counterparty, e.size) for e in events if isinstance(e, Deleveraged)]
    # ceil(1 * 2 / 5) = 1 for S1, then no lot is left
    assert moved == [(S1, 1), (S2, 0), (S3, 0), (INSURANCE_FUND, 0)]
    assert fund.get_size(BTC) == 0 and fund.collateral == 0  # no debt left
    assert total_collateral(env.state) == total


def test_deleverage_needs_a_bankrupt_account_beyond_the_fund(env: Env) -> None:
    assert_rejected(env, Deleverage(Y, BTC), DeleverageNotAllowed)  # healthy
    assert_rejected(env, Deleverage(8, BTC), DeleverageNotAllowed)  # no position
    env.run(env.signed(Transfer, 8, to=INSURANCE_FUND, amount=10_000_000))
    assert is_takeover_possible(env.state, env.state.accounts[X])
    assert_rejected(env, Deleverage(X, BTC), DeleverageNotAllowed)  # the fund absorbs it


def test_the_round_is_in_the_market_leaf_and_its_records_replay(env: Env) -> None:
    """An open round changes the market leaf (its digest lane); each operation of the round
    comes back from its record alone, as reconstruction reads it from L1."""
    leaf = compute_market_leaf(env.state.markets[BTC])
    ops: list[Operation] = [Deleverage(X, BTC)]
    records = [compute_record(ops[0], env.run(ops[0]))]
    assert compute_market_leaf(env.state.markets[BTC]) != leaf
    for other in list_round_counterparties(env.state, env.state.markets[BTC]):
        ops.append(DeleverageStep(BTC, other))
        records.append(compute_record(ops[-1], env.run(ops[-1])))
    ops.append(DeleverageEnd(BTC))
    records.append(compute_record(ops[-1], env.run(ops[-1])))
    assert [get_operation(decode_op(r)) for r in records] == ops
    assert [decode_op(r).get("size") for r in records[1:]] == [3, 1, 1, 1]
    # the round closed: the digest lane is 0 again
    assert get_market_data_lanes(env.state.markets[BTC].data)[-1] == 0
