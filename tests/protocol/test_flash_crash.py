"""The flash crash: the index gaps down 30 % -> partial liquidations -> LLP takeover ->
auto-deleveraging (a pro-rata round), with the final balances asserted; then the whole history
is replayed from genesis and gives the same state and the same state root."""

from __future__ import annotations

from protocol.accounts import FEE_ACCOUNT, FUNDING_POOL, INSURANCE_FUND
from protocol.commitment import update_state_root
from protocol.events import Deleveraged, LiquidationFill, PositionTakenOver
from protocol.liquidation import is_takeover_possible, list_round_counterparties
from protocol.markets import MarketParams
from protocol.ops.deleverage import Deleverage
from protocol.ops.deleverage_end import DeleverageEnd
from protocol.ops.deleverage_step import DeleverageStep
from protocol.ops.liquidate import Liquidate
from protocol.ops.mint_shares import MintShares
from protocol.ops.takeover import Takeover
from protocol.ops.transfer import Transfer
from protocol.risk import Health, compute_risk
from protocol.snapshot import encode_state
from tests.protocol.helpers import BTC, Env, total_collateral

BUY, SELL = False, True
NO_FEES = MarketParams(  # the oracle may move the index 30 % at once: the gap modelled here
    maker_fee=0, taker_fee=0, price_band=400_000, impact_notional=10**6, max_price_move=300_000
)
MM, A, B, C, D, E, LP = 3, 4, 5, 6, 7, 8, 9
RICH = 10**9


def tav(env: Env, account: int) -> int:
    return compute_risk(env.state.accounts[account], env.state.markets).tav


def health(env: Env, account: int) -> Health:
    return compute_risk(env.state.accounts[account], env.state.markets).health


def leave(env: Env, account: int, equity: int) -> None:
    """Sends everything but ``equity`` of ``account``'s collateral to the market maker."""
    env.run(env.signed(Transfer, account, to=MM, amount=RICH - equity))


def build() -> Env:
    env = Env(params=NO_FEES)
    env.open_many(7, RICH)
    env.run(env.signed(MintShares, LP, amount=20_000))  # the insurance fund holds 20,000
    for account, equity in ((A, 40_000), (B, 33_000), (C, 31_000), (E, 20_000)):
        leave(env, account, equity)
    env.place(D, BTC, SELL, 10_000, 25)
    env.place(E, BTC, SELL, 10_000, 15)
    env.place(A, BTC, BUY, 10_000, 20)  # 5x
    env.place(B, BTC, BUY, 10_000, 10)
    env.place(C, BTC, BUY, 10_000, 10)
    env.place(D, BTC, SELL, 9_000, 1)  # an ask that the crash leaves above the mark
    for price in (7_000, 6_990, 6_950):
        env.place(MM, BTC, BUY, price, 10)
    return env


def test_flash_crash() -> None:
    env = build()
    total = total_collateral(env.state)
    env.next_block(1_060)
    env.set_index(BTC, 7_000)  # -30 %: mark = median(7,000, bid 7,000, ask 9,000)
    assert env.state.markets[BTC].data.mark_price == 7_000
    assert [health(env, a) for a in (A, B, C)] == [
        Health.BANKRUPT,  # 40,000 - 20 x 3,000
        Health.PARTIAL_LIQUIDATION,  # 3,000 against MMR 3,500
        Health.FULL_LIQUIDATION,  # 1,000 against CMR 1,750
    ]

    # partial liquidation of B: 5 lots at the zero price 7,000 (1 - 0.05 x 3,000 / 3,500)
    events = env.run_with_claims(Liquidate(B, BTC, 5))
    (fill,) = [e for e in events if isinstance(e, LiquidationFill)]
    assert (fill.zero_price, fill.price, fill.size, fill.fund_fee) == (6_700, 7_000, 5, 1_500)
    assert tav(env, B) == 1_500 and health(env, B) == Health.PARTIAL_LIQUIDATION
    assert env.state.accrued_insurance == 1_500  # the fund's at the block's end
    env.next_block(1_061)

    # C below close-out: the fund (20,000 + 1,500 of liquidation fee) takes it over
    assert is_takeover_possible(env.state, env.state.accounts[C])
    taken = env.run(Takeover(C))
    (moved,) = [e for e in taken if isinstance(e, PositionTakenOver)]
    # zero price 7,000 x (1 - 0.05 x 1,000 / 3,500) = 6,900: C receives 69,000 for 10 lots
    assert (moved.size, moved.quote) == (10, 69_000)
    assert env.state.accounts[C].collateral == 0 and not env.state.accounts[C].positions
    assert tav(env, INSURANCE_FUND) == 20_000 + 1_500 + 1_000

    # A is bankrupt by 20,000: the fund (22,500, MMR 3,500 + 7,000 after) cannot absorb it,
    # so A's 20 lots are closed pro rata against every short (D 25, E 15 of S = 40), in
    # account order, at its bankruptcy price 7,000 + 20,000 / 20 = 8,000 (its last position)
    assert tav(env, A) == -20_000
    assert not is_takeover_possible(env.state, env.state.accounts[A])
    adl = list(env.run(Deleverage(A, BTC)))
    assert list_round_counterparties(env.state, env.state.markets[BTC]) == [D, E]
    adl += env.run(DeleverageStep(BTC, D)) + env.run(DeleverageStep(BTC, E))
    adl += env.run(DeleverageEnd(BTC))
    rounds = [(e.counterparty, e.size, e.quote) for e in adl if isinstance(e, Deleveraged)]
    # floor(20 x 25 / 40) = 12, floor(20 x 15 / 40) = 7, the remaining lot to the fund
    assert rounds == [(D, 12, 12 * 8_000), (E, 7, 7 * 8_000), (INSURANCE_FUND, 1, 8_000)]
    accounts = env.state.accounts
    assert not accounts[A].positions and tav(env, A) == 0
    assert accounts[E].get_size(BTC) == -8 and tav(env, E) == 20_000 + 15 * 3_000 - 7 * 1_000
    assert accounts[D].get_size(BTC) == -13 and tav(env, D) == RICH + 25 * 3_000 - 12 * 1_000
    assert tav(env, B) == 1_500 and tav(env, C) == 0
    assert accounts[MM].get_size(BTC) == 5 and accounts[INSURANCE_FUND].get_size(BTC) == 11
    assert tav(env, INSURANCE_FUND) == 22_500 - 1_000

    # conservation: no money created or destroyed, open interest balanced
    assert total_collateral(env.state) == total
    longs = sum(max(0, a.get_size(BTC)) for a in accounts.values())
    shorts = sum(max(0, -a.get_size(BTC)) for a in accounts.values())
    assert longs == shorts == env.state.markets[BTC].data.open_interest == 21
    assert accounts[FEE_ACCOUNT].collateral == 0 and accounts[FUNDING_POOL].collateral == 0

    # replay from genesis: the same state, the same root
    env.end_block()
    replayed = env.replay()
    assert encode_state(replayed) == encode_state(env.state)
    assert update_state_root(replayed) == update_state_root(env.state)
