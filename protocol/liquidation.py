"""Liquidation helpers: moving a position between two accounts at a given quote, what the
insurance fund would look like after a takeover, and the deleverage round.

Zero price (``risk.compute_zero_price``): closing part of a position at it leaves TAV / MMR of
the account unchanged. Partial liquidations sell (buy) at it through the book; the LLP takes
positions over at it; a deleverage round moves a position at it, pro rata, to every holder of
the opposite side, except the round that closes an account's last position, which uses the
bankruptcy price (below; PROTOCOL 7.4, docs/ADL.md).

No liquidation path leaves a debt behind: an account that ends with no position ends with
collateral >= 0 (takeover: ``absorb_deficit``; the last round: the bankruptcy price, which the
counterparties pay), so the balances users can exit with never add up to more than the rollup
holds.
"""

from __future__ import annotations

from protocol.accounts import INSURANCE_FUND, Account
from protocol.errors import DeleverageNotAllowed, MarketDeleveraging
from protocol.events import Event
from protocol.markets import Market
from protocol.positions import apply_fill
from protocol.risk import Risk, compute_risk, compute_unsettled_funding
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
    back at ``mark + floor(TAV / |size|)`` pays the deficit exactly, rounded so that less than
    one micro-USDC per lot is left over rather than a debt. Not clamped at 0: a short with
    negative cash buys back at a negative price, the counterparties paying its debt pro rata.
    This is the zero price without the rounding up of MMR."""
    mark = market.data.mark_price
    if size > 0:
        return mark - risk.tav // size
    return mark + risk.tav // -size


def is_last_position(account: Account, market: int) -> bool:
    """Whether ``market`` is the only market where ``account`` holds a position."""
    return all(m == market or p.size == 0 for m, p in account.positions.items())


def absorb_deficit(state: State, account: Account) -> None:
    """After a takeover, an account left with negative collateral and no position is brought to
    zero by the insurance fund, which the takeover condition lets absorb it (PROTOCOL 7.4)."""
    if account.collateral < 0:
        state.decrease_collateral(state.accounts[INSURANCE_FUND], -account.collateral)
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


# -- the deleverage round (PROTOCOL 7.4) ----------------------------------------------------------


def require_no_round(market: Market) -> None:
    """Refuses to move a position in ``market`` while its deleverage round is open."""
    if market.data.adl_account:
        raise MarketDeleveraging(
            f"market {market.index} is deleveraging account {market.data.adl_account - 1}"
        )


def get_open_round(state: State, index: int) -> tuple[Market, Account]:
    """Market ``index`` and the bankrupt account of its open round (``DeleverageNotAllowed``
    when none is open)."""
    market = state.get_market(index)
    if not market.data.adl_account:
        raise DeleverageNotAllowed(f"market {index} has no open deleverage round")
    return market, state.accounts[market.data.adl_account - 1]


def find_round(state: State, account: int) -> Market | None:
    """The market whose open round closes ``account``'s position, if any."""
    for market in state.markets:
        if market.data.adl_account == account + 1:
            return market
    return None


def compute_round_share(state: State, market: Market, counterparty: Account) -> int:
    """The lots ``counterparty`` takes in the round, of its ``z``: ``floor(|s| * |z| / S)``,
    the remainder going to the fund at the end; in the fund's own round, which has nobody to
    leave a remainder to, ``ceil`` instead, capped by the lots left, so that its position
    closes. One lot fewer where that would close the counterparty's last position with a debt:
    it keeps a lot, and its debt with it."""
    data = market.data
    held = counterparty.get_size(market.index)
    exact = abs(data.adl_size) * abs(held)
    if data.adl_account - 1 == INSURANCE_FUND:
        share = min(-(-exact // data.adl_total), abs(data.adl_size) - data.adl_moved)
    else:
        share = exact // data.adl_total
    if share < abs(held) or not is_last_position(counterparty, market.index):
        return share
    owed = compute_unsettled_funding(counterparty.positions[market.index], market)
    moved = share if data.adl_size > 0 else -share  # what the counterparty takes on
    if counterparty.collateral - owed - moved * data.adl_price < 0:
        return share - 1
    return share


def list_round_counterparties(state: State, market: Market) -> list[int]:
    """The accounts the market's open round has still to serve, in the order it serves them:
    every holder of the side opposite to the bankrupt account's, from the cursor on."""
    data, index = market.data, market.index
    is_long = data.adl_size > 0
    return [
        i
        for i, account in sorted(state.accounts.items())
        if i >= data.adl_cursor
        and account.get_size(index)
        and (account.get_size(index) > 0) != is_long
    ]
