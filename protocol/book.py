"""The engine's fast order book: price levels and FIFO queues, ordered exactly as the tree.

The order-book tree (``protocol.book_tree``) keys a resting order by ``price ‖ nonce``. Asks
take nonces counting up from 0 and bids counting down from ``2^order_nonce_bits - 1``; a side's
counter starts over when that side of the book is empty. So the best ask is the smallest ask
key and the best bid the largest bid key, and within a price the earlier order has priority.

Here each side is a dict ``price -> list of orders`` plus a sorted list of its prices. Orders
join the end of their level, which is their key order because nonces move monotonically while
a side is non-empty; so "first of the best level" is exactly the tree's best key (a test walks
both and compares). Every change goes through the journal, which restores list positions too.
Nothing here hashes: the tree is rebuilt from these orders when a block is sealed.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass

from mypy_extensions import mypyc_attr

from protocol.errors import OrderBookFull
from protocol.journal import Journal
from protocol.types import AccountIndex, BaseAmount, MarketIndex, Price, Timestamp


@mypyc_attr(allow_interpreted_subclasses=True)  # see protocol.types: copyable when compiled
@dataclass(slots=True, eq=False)
class Order:
    """A resting limit order (a leaf of its market's order-book tree)."""

    market: MarketIndex
    key: int  # price << order_nonce_bits | nonce
    price: Price
    account: AccountIndex
    is_ask: bool
    remaining: BaseAmount  # lots still open
    reduce_only: bool
    expiry: Timestamp  # after which it may not fill; 0 = good till cancelled
    epoch: int = 0  # its owner's cancel epoch when it rested: live while it is the owner's


@mypyc_attr(allow_interpreted_subclasses=True)
class OrderBook:
    """One market's resting orders, both sides, with the side nonce counters."""

    __slots__ = (
        "ask_nonce",
        "ask_prices",
        "asks",
        "bid_nonce",
        "bid_prices",
        "bids",
        "nonce_bits",
        "orders",
    )

    def __init__(self, nonce_bits: int) -> None:
        self.nonce_bits = nonce_bits
        self.asks: dict[int, list[Order]] = {}
        self.bids: dict[int, list[Order]] = {}
        self.ask_prices: list[int] = []  # ascending
        self.bid_prices: list[int] = []  # ascending; the best bid is the last
        self.orders: dict[int, Order] = {}
        self.ask_nonce = 0
        self.bid_nonce = (1 << nonce_bits) - 1

    # -- reading --------------------------------------------------------------------------------

    def best(self, is_ask: bool) -> Order | None:
        """The highest-priority order of a side, or None."""
        if is_ask:
            return self.asks[self.ask_prices[0]][0] if self.ask_prices else None
        return self.bids[self.bid_prices[-1]][0] if self.bid_prices else None

    def best_within(self, is_ask: bool, limit: int) -> Order | None:
        """The best order of a side if a taker with this limit price crosses it (an ask at or
        below ``limit``, a bid at or above), else None."""
        if is_ask:
            prices = self.ask_prices
            return self.asks[prices[0]][0] if prices and prices[0] <= limit else None
        prices = self.bid_prices
        return self.bids[prices[-1]][0] if prices and prices[-1] >= limit else None

    def iter_side(self, is_ask: bool) -> Iterator[Order]:
        """A side's orders in priority order (best first)."""
        if is_ask:
            for price in self.ask_prices:
                yield from self.asks[price]
        else:
            for price in reversed(self.bid_prices):
                yield from self.bids[price]

    def get_next_nonce(self, is_ask: bool) -> int:
        """The nonce the next order of this side takes; raises OrderBookFull when exhausted."""
        if is_ask:
            nonce = 0 if not self.ask_prices else self.ask_nonce
            if nonce >= 1 << self.nonce_bits:
                raise OrderBookFull("ask nonces exhausted")
        else:
            nonce = (1 << self.nonce_bits) - 1 if not self.bid_prices else self.bid_nonce
            if nonce < 1:  # a bid never takes nonce 0: its counter stays a field element
                raise OrderBookFull("bid nonces exhausted")
        return nonce

    def compute_key(self, price: int, nonce: int) -> int:
        return price << self.nonce_bits | nonce

    # -- mutators -------------------------------------------------------------------------------

    def insert(self, order: Order, journal: Journal) -> None:
        """Rests ``order`` (its key from ``get_next_nonce``) and advances the side's counter
        (one journal entry, undone by ``_undo_insert``)."""
        nonce, price = order.key & ((1 << self.nonce_bits) - 1), order.price
        journal.entries.append((_undo_insert, self, order, (self.ask_nonce, self.bid_nonce)))
        if order.is_ask:
            levels, prices = self.asks, self.ask_prices
            self.ask_nonce = nonce + 1
        else:
            levels, prices = self.bids, self.bid_prices
            self.bid_nonce = nonce - 1
        level = levels.get(price)
        if level is None:
            level = levels[price] = []
            prices.insert(bisect_left(prices, price), price)
        level.append(order)
        self.orders[order.key] = order

    def remove(self, order: Order, journal: Journal) -> None:
        """Takes ``order`` off the book, filled or cancelled (one journal entry, undone by
        ``_undo_remove``)."""
        price = order.price
        levels, prices = (
            (self.asks, self.ask_prices) if order.is_ask else (self.bids, self.bid_prices)
        )
        level = levels[price]
        index = level.index(order)
        del level[index]
        if not level:
            del levels[price]
            del prices[bisect_left(prices, price)]
        del self.orders[order.key]
        journal.entries.append((_undo_remove, self, order, (level, index)))

    def set_remaining(self, order: Order, remaining: int, journal: Journal) -> None:
        """A partial fill or a size reduction that keeps the order's place."""
        journal.entries.append((setattr, order, "remaining", order.remaining))
        order.remaining = remaining


# Undo entries run newest first, so each finds its part of the book exactly as its mutator
# left it: the inserted order still last in its level, a removed order's level (the same list,
# emptied or not) still without it.


def _undo_insert(book: OrderBook, order: Order, nonces: tuple[int, int]) -> None:
    book.ask_nonce, book.bid_nonce = nonces
    levels, prices = (book.asks, book.ask_prices) if order.is_ask else (book.bids, book.bid_prices)
    level = levels[order.price]
    level.pop()
    if not level:
        del levels[order.price]
        del prices[bisect_left(prices, order.price)]
    del book.orders[order.key]


def _undo_remove(book: OrderBook, order: Order, place: tuple[list[Order], int]) -> None:
    levels, prices = (book.asks, book.ask_prices) if order.is_ask else (book.bids, book.bid_prices)
    level, index = place
    if not level:
        levels[order.price] = level
        prices.insert(bisect_left(prices, order.price), order.price)
    level.insert(index, order)
    book.orders[order.key] = order
