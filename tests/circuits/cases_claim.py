"""Cases of ``test_necessity`` for the taker a create order hands its slot's step unit
(``circuits/ops/create_order.py``'s ``taker_*``, ``maker``, ``filled``), the taker a step
leaves pending (``circuits/ops/step_unit.py``'s ``pending/*``) and the claim that takes the
pending taker's next step (``circuits/ops/claim.py``).

A create order's taker fields are the order's as signed; each is moved by a prover that drops
its constraint so that the order rests (or fills) otherwise than signed: at another price, side,
size, market, expiry, reduce-only, or rests where it is IOC.

A claim needs a pending taker, which only a step of an earlier slot leaves: in slot 0 the
running taker is the constant none, so a claim there always breaks ``claim/taker_pending``
(the one-slot case of that constraint: a claim with nothing pending). The claim's other
constraints, and the pending taker's fields, have their cases in the two-slot block of
``TWO_SLOT_CASES`` (``tests/circuits/violations.py``'s ``two_slots``).
"""

from __future__ import annotations

from collections.abc import Callable

from circuits.ops.book_unit import BookWitness
from protocol.book import OrderBook
from protocol.markets import Market, MarketData
from protocol.ops import claim
from protocol.ops.claim import Claim
from protocol.ops.create_order import TimeInForce
from protocol.state import State
from sequencer.witness import capture_book
from tests.circuits.cases_fill import _filling
from tests.circuits.violations import (
    ASK_PRICE,
    MARK,
    PRESET,
    Violation,
    add,
    fill,
    flip,
    key_book,
    order,
    rest_book,
    resting,
    to,
    violation,
)
from tests.protocol.helpers import FAR, MARKET

ON = "slot0/create_order/"
TOP = (1 << PRESET.order_nonce_bits) - 1  # the first nonce of an empty bid side


def _taker(name: str, change: Callable[[int], int], **kw: object) -> Violation:
    return violation(order(), wires={f"{ON}taker_{name}": change}, **kw)  # type: ignore[arg-type]


def _second_market(state: State) -> None:
    """Market 1 (ETH at 1,000) added to the state."""
    data = MarketData(index_price=1_000, mark_price=1_000)
    state.markets.append(Market(1, MARKET, data, OrderBook(PRESET.order_nonce_bits)))
    state.dirty.markets.add(1)
    state.dirty.books.add(1)


def _market_one_book(state: State) -> BookWitness:
    """The book unit where ``order()`` would rest in market 1's (empty) book."""
    return capture_book(state, 1, MARK << PRESET.order_nonce_bits | TOP)


def _claim_nothing_pending() -> Violation:
    """A claim of account 0 (the running taker's account when none is pending) in slot 0: a
    step of no taker, at the book's key 0, which the rules refuse."""
    op = Claim(0)
    return violation(op, claim.RECORD.encode((0, 0, 0, 0)), book=key_book(0))


CLAIM_CASES: dict[str, Callable[[], Violation]] = {
    # the order rests at limit + 1, 101 lots, as an ask, reduce-only (no margin), with an
    # expiry, in market 1's book, or rests where IOC
    "create_order/taker_limit": lambda: _taker(
        "limit", add(1), book=rest_book(order(), price=MARK + 1)
    ),
    "create_order/taker_remaining": lambda: _taker("remaining", add(1)),
    "create_order/taker_is_ask": lambda: _taker("is_ask", flip, book=rest_book(order(True))),
    "create_order/taker_reduce_only": lambda: _taker("reduce_only", to(1)),
    "create_order/taker_expiry": lambda: _taker("expiry", to(FAR)),
    "create_order/taker_market": lambda: _taker(
        "market", to(1), prepare=_second_market, book=_market_one_book
    ),
    "create_order/taker_rests": lambda: violation(
        order(time_in_force=TimeInForce.IOC),
        book=rest_book(order()),
        wires={f"{ON}taker_rests": to(1)},
    ),
    # the taker's account only reaches the pending taker: a fill that leaves none pending
    "create_order/taker_account": lambda: violation(
        fill()[0], prepare=fill()[1], wires={f"{ON}taker_account": add(1)}
    ),
    # account 5's ask filled while the record names account 4 as the maker
    "create_order/maker": lambda: _filling(
        fill()[0], resting(account=5, price=ASK_PRICE), b=5, wires={f"{ON}maker": to(5)}
    ),
    # a post-only bid that takes
    "create_order/post_only_on": lambda: _filling(
        fill(time_in_force=TimeInForce.POST_ONLY)[0],
        fill()[1],
        wires={f"{ON}post_only_on": to(0)},
    ),
    "claim/taker_pending": _claim_nothing_pending,
}


CLAIM_GUARDED: dict[str, tuple[Callable[[], Violation], set[str]]] = {}

CLAIM_FAMILIES: set[str] = set()
