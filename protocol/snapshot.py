"""A canonical byte encoding of the whole state, for "unchanged byte for byte" checks and for
comparing two states (a replayed one and a live one).

Everything the rules read is included, in a fixed order: accounts and positions by index,
each book side in priority order (so FIFO position within a price counts), the nonce counters,
trigger orders by id, market data, the clock, the pending taker and the fees and funding
accrued in the block. Caches (dirty sets, trees) are not state and are left out.
"""

from __future__ import annotations

from dataclasses import astuple

from protocol.accounts import Account
from protocol.markets import Market
from protocol.state import State


def _account_tuple(account: Account) -> tuple[object, ...]:
    positions = tuple((m, astuple(p)) for m, p in sorted(account.positions.items()))
    return (
        account.index,
        account.owner,
        account.pubkey,
        account.nonce,
        account.collateral,
        positions,
        account.open_orders,
        account.pool_shares,
        account.cancel_epoch,
        tuple(sorted(account.orders)),
    )


def _market_tuple(market: Market) -> tuple[object, ...]:
    book = market.book
    sides = tuple(tuple(astuple(o) for o in book.iter_side(is_ask)) for is_ask in (True, False))
    return (
        market.index,
        astuple(market.params),
        astuple(market.data),
        book.ask_nonce,
        book.bid_nonce,
        sides,
        tuple(sorted(book.orders)),
        tuple(astuple(t) for _, t in sorted(market.triggers.items())),
    )


def encode_state(state: State) -> bytes:
    """The canonical encoding; equal states encode to equal bytes."""
    pending = None if state.pending is None else astuple(state.pending)
    accounts = tuple(_account_tuple(a) for _, a in sorted(state.accounts.items()))
    whole = (
        state.config.chain_id,
        state.block_number,
        state.timestamp,
        pending,
        (state.accrued_fees, state.accrued_funding, state.accrued_insurance),
        accounts,
        tuple(_market_tuple(m) for m in state.markets),
    )
    return repr(whole).encode()
