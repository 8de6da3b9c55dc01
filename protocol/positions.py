"""Position mutators: lazy funding settlement and applying a trade to one side.

``settle_funding`` charges (or pays) a position's funding since its snapshot against the funding
pool and moves the snapshot to the market's index; every trade settles first, so a position's
funding is always computed over a constant size. ``apply_fill`` moves cash and size for one
party of a fill (cash model: buying ``q`` lots for quote ``Q`` costs ``Q`` of collateral and adds
``q`` lots valued at the mark) and keeps the market's open interest (lots long == lots short).
"""

from __future__ import annotations

from protocol.accounts import Account
from protocol.errors import AmountOutOfRange
from protocol.events import Event, FundingSettled
from protocol.markets import Market
from protocol.risk import compute_unsettled_funding
from protocol.state import State


def settle_funding(state: State, account: Account, market: Market, out: list[Event]) -> None:
    """Settles the position's unsettled funding with the funding pool (no-op without one),
    which is credited at the block's end."""
    position = account.positions.get(market.index)
    if position is None or position.funding_index == market.data.funding_index:
        return
    owed = compute_unsettled_funding(position, market)
    state.set_position_field(account, market.index, "funding_index", market.data.funding_index)
    if owed:
        state.decrease_collateral(account, owed)
        state.accrue_funding(owed)
        out.append(FundingSettled(account.index, market.index, owed))


def compute_entry_quote(size: int, entry: int, delta: int, quote: int) -> int:
    """The cost basis after trading ``delta`` lots (signed) for ``quote`` (signed, paid).

    Increasing adds the quote; reducing keeps the remaining fraction (rounded toward zero);
    flipping keeps the share of the quote that opened the new side.
    """
    new = size + delta
    if size == 0 or (size > 0) == (delta > 0):
        return entry + quote
    if new == 0:
        return 0
    if (new > 0) == (size > 0):
        return _scale_toward_zero(entry, new, size)
    return _scale_toward_zero(quote, new, delta)


def _scale_toward_zero(value: int, num: int, den: int) -> int:
    product = value * num
    magnitude = abs(product) // abs(den)
    return magnitude if (product >= 0) == (den > 0) else -magnitude


def apply_fill(
    state: State,
    account: Account,
    market: Market,
    delta: int,
    quote: int,
    out: list[Event],
    fee: int = 0,
) -> None:
    """One party of a fill: ``delta`` lots (positive buys) for ``quote`` micro-USDC paid
    (negative: received), plus ``fee``. Settles funding first; updates size, cost basis,
    collateral and the market's open interest."""
    index, data = market.index, market.data
    position = account.positions.get(index)
    if position is None:  # a new position starts at the market's funding index: nothing owed
        position = state.ensure_position(account, index)
    elif position.funding_index != data.funding_index:
        settle_funding(state, account, market, out)
    size = position.size
    new = size + delta
    limit = 1 << state.preset.base_amount_bits
    if not -limit < new < limit:
        raise AmountOutOfRange(f"position size {new} overflows")
    entry = compute_entry_quote(size, position.entry_quote, delta, quote)
    collateral = account.collateral - quote - fee
    state.set_traded_position(account, index, position, new, entry, collateral)
    long_change = (new if new > 0 else 0) - (size if size > 0 else 0)
    if long_change:
        state.set_open_interest(market, data.open_interest + long_change)
    if new == 0 and entry == 0 and position.imf == 0:
        state.drop_empty_position(account, index)
