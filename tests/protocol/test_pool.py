"""Pool shares (PROTOCOL 7.7, 8.8, 8.27, 8.28): mint, burn and the L1 forced burn, each refusal
leaving the state byte-for-byte as it was, and a forced burn never refused."""

from __future__ import annotations

from protocol.accounts import FUNDING_POOL, INSURANCE_FUND, Position
from protocol.errors import (
    AmountOutOfRange,
    InsufficientShares,
    ReservedAccount,
    RiskCheckFailed,
)
from protocol.events import RequestRejected, SharesBurned, SharesMinted
from protocol.ops.burn_shares import BurnShares
from protocol.ops.forced_burn import ForcedBurn, compute_forced_burn_record
from protocol.ops.mint_shares import MintShares
from protocol.pool import compute_pool_value
from protocol.risk import compute_risk
from tests.protocol.helpers import BTC, Env, assert_rejected, owner_of

LP, OTHER, TRADER = 3, 4, 5


def funded() -> Env:
    env = Env()
    env.open_many(3, 10**9)
    return env


def minted(amount: int = 1_000_000) -> Env:
    env = funded()
    env.run(env.signed(MintShares, LP, amount=amount))
    return env


def fund_collateral(env: Env, value: int) -> None:
    env.state.set_collateral(env.state.accounts[INSURANCE_FUND], value)


def test_the_first_mint_gives_a_share_per_micro_usdc() -> None:
    env = funded()
    (event,) = env.run(env.signed(MintShares, LP, amount=1_000))
    assert event == SharesMinted(LP, 1_000, 1_000)
    assert env.state.accounts[INSURANCE_FUND].pool_shares == 1_000
    assert env.state.accounts[LP].collateral == 10**9 - 1_000


def test_the_first_mint_leaves_what_the_fund_held_to_the_pool() -> None:
    """The fund holds 5,000 (liquidation fees, say) before anyone mints: the first minter's
    1,000 buy 1,000 shares of a supply of 6,000, the other 5,000 owned by nobody, and burning
    them pays back 1,000, not the fund's 6,000."""
    env = funded()
    fund_collateral(env, 5_000)
    (event,) = env.run(env.signed(MintShares, LP, amount=1_000))
    assert event == SharesMinted(LP, 1_000, 1_000)
    assert env.state.accounts[INSURANCE_FUND].pool_shares == 6_000
    (burned,) = env.run(env.signed(BurnShares, LP, shares=1_000))
    assert burned == SharesBurned(LP, 1_000, 1_000)
    assert env.state.accounts[INSURANCE_FUND].collateral == 5_000


def test_a_fund_in_debt_takes_no_first_mint() -> None:
    env = funded()
    fund_collateral(env, -1)
    assert_rejected(env, env.signed(MintShares, LP, amount=1_000), InsufficientShares)


def test_a_later_mint_is_priced_at_the_pool_value_rounded_down() -> None:
    env = minted(1_000)
    fund_collateral(env, 3_000)  # the pool tripled: a share is worth 3
    (event,) = env.run(env.signed(MintShares, OTHER, amount=1_000))
    assert event == SharesMinted(OTHER, 1_000, 333)  # 1000 * 1000 / 3000, down
    assert env.state.accounts[INSURANCE_FUND].pool_shares == 1_333


def test_a_burn_pays_its_part_of_the_pool_rounded_down() -> None:
    env = minted(1_000)
    fund_collateral(env, 2_999)
    (event,) = env.run(env.signed(BurnShares, LP, shares=500))
    assert event == SharesBurned(LP, 500, 1_499)
    assert env.state.accounts[LP].pool_shares == 500
    assert compute_pool_value(env.state) == 1_500


def test_refused_mints_leave_the_state_as_it_was() -> None:
    env = minted(1_000)
    assert_rejected(env, env.signed(MintShares, OTHER, amount=0), AmountOutOfRange)
    assert_rejected(env, env.signed(MintShares, OTHER, amount=2**64), AmountOutOfRange)
    fund_collateral(env, 10**6)
    assert_rejected(env, env.signed(MintShares, OTHER, amount=999), InsufficientShares)  # 0
    fund_collateral(env, 0)
    assert_rejected(env, env.signed(MintShares, OTHER, amount=5), InsufficientShares)  # insolvent
    fund_collateral(env, -7)
    assert_rejected(env, env.signed(MintShares, OTHER, amount=5), InsufficientShares)
    fund_collateral(env, 1)  # 2^64 shares for 1 micro-USDC: past the supply's width
    assert_rejected(env, env.signed(MintShares, OTHER, amount=2**55), AmountOutOfRange)
    env.state.accounts[FUNDING_POOL].pubkey = env.state.accounts[OTHER].pubkey
    assert_rejected(env, env.signed(MintShares, FUNDING_POOL, amount=5), ReservedAccount)


def test_a_mint_that_breaks_the_risk_rule_is_refused() -> None:
    env = minted(1_000)
    env.place(TRADER, BTC, True, 10_000, 10**4)  # TRADER rests an ask...
    env.place(OTHER, BTC, False, 10_000, 10**4)  # ...OTHER takes it: long 10^4 lots at 10^4
    risk = compute_risk(env.state.accounts[OTHER], env.state.markets)
    free = risk.tav - risk.imr
    assert_rejected(env, env.signed(MintShares, OTHER, amount=free + 1), RiskCheckFailed)
    env.run(env.signed(MintShares, OTHER, amount=free))


def test_refused_burns_leave_the_state_as_it_was() -> None:
    env = minted(1_000)
    assert_rejected(env, env.signed(BurnShares, LP, shares=0), AmountOutOfRange)
    assert_rejected(env, env.signed(BurnShares, LP, shares=1_001), InsufficientShares)
    assert_rejected(env, env.signed(BurnShares, OTHER, shares=1), InsufficientShares)
    env.state.accounts[INSURANCE_FUND].pubkey = env.state.accounts[OTHER].pubkey
    assert_rejected(env, env.signed(BurnShares, INSURANCE_FUND, shares=1), ReservedAccount)


def test_a_burn_that_leaves_the_fund_under_maintenance_margin_is_refused() -> None:
    env = minted(10**8)
    # the fund holds a short of 10^4 lots at the mark (as after a takeover): TAV 10^8, MMR > 0
    env.state.accounts[INSURANCE_FUND].positions = {BTC: Position(-(10**4), -(10**8), 0, 0)}
    fund_collateral(env, 2 * 10**8)
    assert compute_pool_value(env.state) == 10**8
    assert_rejected(env, env.signed(BurnShares, LP, shares=10**8), RiskCheckFailed)
    env.run(env.signed(BurnShares, LP, shares=10**6))  # a part keeps it above


def test_an_insolvent_pool_pays_nothing() -> None:
    env = minted(1_000)
    fund_collateral(env, -5)
    env.state.accounts[INSURANCE_FUND].positions = {}
    assert_rejected(env, env.signed(BurnShares, LP, shares=10), RiskCheckFailed)  # TAV < MMR = 0


def test_a_forced_burn_is_applied_for_its_owner() -> None:
    env = minted(1_000)
    op = ForcedBurn(LP, owner_of(LP), 400)
    events = env.run(op)
    assert events == (SharesBurned(LP, 400, 400),)
    assert compute_forced_burn_record(op, events)[43] == 1


def test_a_forced_burn_the_rules_refuse_is_consumed_with_status_0() -> None:
    env = minted(1_000)
    fund = env.state.accounts[INSURANCE_FUND]
    for op in (
        ForcedBurn(LP, owner_of(OTHER), 1),  # not the owner
        ForcedBurn(9, owner_of(9), 1),  # no account
        ForcedBurn(INSURANCE_FUND, fund.owner, 1),  # the fund: its shares are the supply
        ForcedBurn(LP, owner_of(LP), 0),
        ForcedBurn(LP, owner_of(LP), 1_001),
        ForcedBurn(LP, owner_of(LP), 2**64 - 1),  # the record's whole width: never raises
    ):
        before = env.snapshot()
        events = env.run(op)
        assert len(events) == 1 and isinstance(events[0], RequestRejected), op
        assert compute_forced_burn_record(op, events)[35:44] == bytes(9)
        assert env.snapshot() == before
