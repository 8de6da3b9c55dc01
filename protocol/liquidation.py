"""Liquidation helpers: moving a position between two accounts at a given quote, what the
insurance fund would look like after a takeover, and the auto-deleveraging ranking.

Zero price (``risk.compute_zero_price``): closing part of a position at it leaves TAV / MMR of
the account unchanged. Partial liquidations sell (buy) at it through the book; the LLP takes
positions over at it; deleveraging moves positions at it to the opposite side, except the
deleverage that closes an account's last position, which uses the bankruptcy price (below).

No liquidation path leaves a debt behind: an account that ends with no position ends with
collateral >= 0 (takeover: ``absorb_deficit``; that last deleverage: ``share_deficit``, which
the fund pays from its free value and the counterparty for the rest), so the balances users can
exit with never add up to more than the rollup holds.
"""

from __future__ import annotations

from fractions import Fraction

from protocol.accounts import INSURANCE_FUND, Account
from protocol.events import Event
from protocol.markets import Market
from protocol.positions import apply_fill
from protocol.risk import Risk, compute_risk
from protocol.state import State
from protocol.types import PPM


def transfer_position(
    state: State,
    source: Account,
    target: Account,
    market: Market,
    size: int,
    price: int,
    out: list[Event],
) -> int:
    """Moves ``size`` lots (signed, as held by ``source``) from ``source`` to ``target`` at
    ``price``: ``source`` closes them, ``target`` takes them on. Returns the quote ``source``
    received (negative: paid)."""
    quote = size * price
    apply_fill(state, source, market, -size, -quote, out)
    apply_fill(state, target, market, size, quote, out)
    state.check_accrued()
    return quote


def compute_bankruptcy_price(risk: Risk, market: Market, size: int) -> int:
    """The price at which closing ``size`` lots (signed, as held), the account's last position,
    leaves its collateral at zero or just above: its TAV is then its collateral after funding
    plus ``size * mark``, so selling a long at ``mark + ceil(-TAV / size)`` or buying a short
    back at ``mark + floor(TAV / |size|)`` (not below 0) pays the deficit exactly, rounded so
    that less than one micro-USDC per lot is left over rather than a debt. This is the zero
    price without the rounding up of MMR: the counterparty bears the account's deficit."""
    mark = market.data.mark_price
    if size > 0:
        return mark - risk.tav // size
    return max(0, mark + risk.tav // -size)


def is_last_position(account: Account, market: int) -> bool:
    """Whether ``market`` is the only market where ``account`` holds a position."""
    return all(m == market or p.size == 0 for m, p in account.positions.items())


def absorb_deficit(state: State, account: Account) -> None:
    """After a takeover, an account left with negative collateral and no position is brought to
    zero by the insurance fund, which the takeover condition lets absorb it (PROTOCOL 7.4)."""
    if account.collateral < 0:
        state.decrease_collateral(state.accounts[INSURANCE_FUND], -account.collateral)
        state.set_collateral(account, 0)


def compute_free_value(state: State) -> int:
    """What the insurance fund can pay toward a deficit: its TAV above its maintenance margin,
    never below 0 (with no position, its collateral)."""
    risk = compute_risk(state.accounts[INSURANCE_FUND], state.markets)
    return max(0, risk.tav - risk.mmr)


def share_deficit(state: State, account: Account, counterparty: Account) -> None:
    """After the deleverage that closed ``account``'s last position, its negative collateral
    (a short with negative cash: even a price of 0 left a debt) is paid by the insurance fund up
    to its free value (nothing when ``account`` is the fund), and the rest by ``counterparty``,
    as if the short had bought back at a negative price (PROTOCOL 7.4). Exact integers: the
    collateral moved is the debt, nothing is rounded."""
    deficit = -account.collateral
    if deficit <= 0:
        return
    fund = state.accounts[INSURANCE_FUND]
    paid = 0 if account.index == INSURANCE_FUND else min(deficit, compute_free_value(state))
    if paid:
        state.decrease_collateral(fund, paid)
    if deficit > paid:
        state.decrease_collateral(counterparty, deficit - paid)
    state.set_collateral(account, 0)


def has_position(account: Account) -> bool:
    """Whether ``account`` holds a position in any market."""
    return any(p.size for p in account.positions.values())


def compute_takeover_risk(state: State, account: Account) -> Risk:
    """The insurance fund's risk after taking every position of ``account`` over at its zero
    prices: TAV is the sum of both TAVs (moving positions between two accounts at any price
    conserves the sum), margins those of the merged positions."""
    fund = state.accounts[INSURANCE_FUND]
    tav = compute_risk(fund, state.markets).tav + compute_risk(account, state.markets).tav
    imr = mmr = cmr = 0
    for m in sorted(set(fund.positions) | set(account.positions)):
        market = state.markets[m]
        notional = abs(fund.get_size(m) + account.get_size(m)) * market.data.mark_price
        params = market.params
        imr += -(-notional * params.imf // PPM)
        mmr += -(-notional * params.mmf // PPM)
        cmr += -(-notional * params.cmf // PPM)
    return Risk(tav, imr, mmr, cmr)


def is_takeover_possible(state: State, account: Account) -> bool:
    """The fund can absorb the account: afterwards it keeps ``TAV >= MMR``."""
    after = compute_takeover_risk(state, account)
    return after.tav >= after.mmr


def compute_adl_ranking(state: State, market: int, bankrupt_is_long: bool) -> list[int]:
    """The documented deleveraging order (a sequencer policy; the rules check eligibility):
    accounts holding a position opposite to the bankrupt one, most profitable and most
    leveraged first. Score = (unrealized PnL / |cost basis|) x (notional / TAV), accounts with
    TAV <= 0 last; ties by account index."""
    candidates: list[tuple[tuple[int, Fraction, int], int]] = []
    mark = state.markets[market].data.mark_price
    for index, account in state.accounts.items():
        size = account.get_size(market)
        if size == 0 or (size > 0) == bankrupt_is_long:
            continue
        position = account.positions[market]
        tav = compute_risk(account, state.markets).tav
        pnl = size * mark - position.entry_quote
        score = Fraction(pnl * abs(size) * mark, max(1, abs(position.entry_quote)) * max(1, tav))
        candidates.append(((int(tav <= 0), -score, index), index))
    return [index for _, index in sorted(candidates)]
