"""What each account exits with in desert mode (``protocol.exits``), for positions: valued at the
marks with their unsettled funding (owed rounds up, received down), nothing settled or closed."""

from __future__ import annotations

from protocol.accounts import FUNDING_POOL, INSURANCE_FUND
from protocol.exits import compute_exit_amount
from protocol.snapshot import encode_state
from tests.protocol.helpers import BTC, ETH, Env


def traded() -> Env:
    """3 short 4 BTC and long 6 ETH against 4, all at the index; funding snapshots 0."""
    env = Env()
    env.open_many(2, 10**9)
    env.place(3, BTC, True, 10_000, 4)
    env.place(4, BTC, False, 10_000, 4)
    env.place(4, ETH, True, 1_000, 6)
    env.place(3, ETH, False, 1_000, 6)
    return env


def test_positions_at_the_marks_with_unsettled_funding() -> None:
    env = traded()
    state = env.state
    btc, eth = state.markets
    state.set_market_data(btc, "mark_price", 9_000)
    state.set_market_data(btc, "funding_index", -1_250_001)  # shorts pay 1.25 per lot
    state.set_market_data(eth, "funding_index", 333_333)  # longs pay 1/3 per lot
    c3, c4 = state.accounts[3].collateral, state.accounts[4].collateral
    # 3: short 4 BTC at 9,000 owes ceil(-4 x -1.250001) = 6; long 6 ETH owes ceil(1.999998) = 2
    assert compute_exit_amount(state, 3) == c3 - 4 * 9_000 + 6 * 1_000 - 6 - 2
    # 4: long 4 BTC receives floor(5.000004) = 5; short 6 ETH receives floor(1.999998) = 1
    assert compute_exit_amount(state, 4) == c4 + 4 * 9_000 - 6 * 1_000 + 5 + 1


def test_computing_an_exit_settles_and_closes_nothing() -> None:
    env = traded()
    state = env.state
    state.set_market_data(state.markets[BTC], "funding_index", 7_000_000)
    before = encode_state(state)
    for index in state.accounts:
        compute_exit_amount(state, index)
    assert encode_state(state) == before
    assert state.markets[BTC].data.open_interest == 4
    assert state.markets[ETH].data.open_interest == 6


def test_a_negative_value_exits_with_nothing_and_reserved_accounts_never_exit() -> None:
    env = traded()
    state = env.state
    state.set_market_data(state.markets[BTC], "mark_price", 3 * 10**8)  # 3 loses 1.2e9 > 1e9
    assert compute_exit_amount(state, 3) == 0
    assert compute_exit_amount(state, 4) > 10**9
    assert compute_exit_amount(state, INSURANCE_FUND) == compute_exit_amount(state, FUNDING_POOL)
    assert compute_exit_amount(state, FUNDING_POOL) == 0
