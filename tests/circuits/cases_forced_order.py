"""Cases of ``test_necessity`` for the forced order (``circuits/ops/forced_order.py``).

The order every case starts from is account 3's forced GTC bid of 100 lots at the mark, which
rests (or, ``FILLING``, takes 40 lots of account 4's ask). A refusal is a boolean: a prover
free of one of its constraints moves that wire so that a valid order is consumed with status
0 (its record says 0, the slot changes nothing), or a refused one fills; the other checks of
the chain are recomputed, so only the constraint moved breaks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from circuits.ops.book_unit import BookWitness
from protocol.ops import forced_order
from protocol.ops.forced_order import ForcedOrder
from protocol.pubdata import ORDER_FLAG_ASK, ORDER_FLAG_MARKET
from protocol.state import State
from sequencer.witness import capture_book
from tests.circuits.cases_claim import _a, _market_one_book, _record, second_market
from tests.circuits.forced import get_circuit
from tests.circuits.violations import (
    ASK_PRICE,
    FILL_LOTS,
    MARK,
    TwoSlots,
    Violation,
    add,
    flip,
    key_book,
    resting,
    to,
    two_asks,
    two_slots,
    violation,
    with_unused_byte,
)
from tests.protocol.helpers import owner_of

ON = "slot0/forced_order/"
HIGH, LOW = MARK * 6 // 5, MARK * 4 // 5  # the band's edges (20 %)


def forced(
    price: int = MARK, size: int = 100, flags: int = 0, account: int = 3, owner: int | None = None
) -> ForcedOrder:
    """Account 3's forced order in market 0 (``owner``: the requester, by default 3)."""
    requester = owner_of(account if owner is None else owner)
    return ForcedOrder(account, requester, 0, flags, price, size)


def record(op: ForcedOrder, status: int = 1, maker: int = 0, filled: int = 0) -> bytes:
    """The record of ``op`` with these results (what the operator posts)."""
    fields = (op.account, op.owner, op.market, op.flags, op.price, op.size)
    return forced_order.RECORD.encode((*fields, status, maker, filled))


def refused(
    wire: str, change: Callable[[int], int] | None = None, op: ForcedOrder | None = None
) -> Callable[[], Violation]:
    """``op`` (by default the resting bid), valid, consumed with status 0: ``wire`` moved
    (by default to 0)."""

    def make() -> Violation:
        o = op or forced()
        return violation(o, record(o, 0), wires={ON + wire: change or to(0)})

    return make


def rest_at(price: int, is_ask: bool = False) -> Callable[[State], BookWitness]:
    """The book unit at the key a ``price`` order of that side rests at in market 0."""

    def capture(state: State) -> BookWitness:
        book = state.markets[0].book
        return capture_book(state, 0, book.compute_key(price, book.get_next_nonce(is_ask)))

    return capture


def _taker(name: str, change: Callable[[int], int], **kw: Any) -> Violation:
    return violation(forced(), wires={f"{ON}taker_{name}": change}, **kw)


def _filling(maker: int, filled: int, wires: dict[str, Callable[[int], int]]) -> Violation:
    """The bid of ``FILL_LOTS`` at ``ASK_PRICE`` taking account 4's ask (5's where ``maker``
    says 5), its record naming ``maker`` and ``filled``."""
    op = forced(ASK_PRICE, FILL_LOTS)
    return violation(
        op, record(op, 1, 4, filled), prepare=resting(account=maker, price=ASK_PRICE), wires=wires
    )


def _market_limit_moved(name: str, is_ask: bool = False) -> Callable[[], Violation]:
    """A forced market order's limit one tick past the clamp (the path at that price)."""

    def make() -> Violation:
        worst = 1 if is_ask else 2**16 - 1
        op = forced(worst, flags=ORDER_FLAG_MARKET | int(is_ask))
        clamped = LOW if is_ask else HIGH
        return violation(op, book=key_book(clamped + 1), wires={ON + name: add(1)})

    return make


def _taker_account() -> TwoSlots:
    """The order's taker moved to account 5: its remainder claimed and filled for 5."""
    return two_slots(
        forced(ASK_PRICE, 150),  # type: ignore[arg-type]
        two_asks,
        0,
        {ON + "taker_account": to(5)},
        lambda s: _a(s, 5) | _record(5, 0, 4, 50),
    )


NON_OWNER = forced(owner=4)
# a non-owner's order whose record reads, as a forced withdrawal's, as withdrawing 0 (bytes
# 35..42 zero: the size 2^40) and, as a key registration's, as refused (status byte 0)
NEGATED = forced(size=1 << 40, owner=4)
MARKET_BID = forced(MARK, flags=ORDER_FLAG_MARKET)

FORCED_ORDER_CASES: dict[str, Callable[[], Violation | TwoSlots]] = {
    # status 0 claimed for a valid order (it rests all the same)
    "forced_order/status_is_valid": lambda: violation(forced(), record(forced(), 0)),
    # a fill claimed for an order the rules refuse (its requester does not own account 3)
    "forced_order/refused_fills_nothing": lambda: violation(
        NON_OWNER, record(NON_OWNER, 0, 4, FILL_LOTS)
    ),
    # a valid order placed without its step (nothing rests)
    "forced_order/placed": lambda: violation(forced(), wires={ON + "placed": to(0)}),
    # each refusal moved: a valid order consumed with status 0
    **{
        f"forced_order/valid/{name}": refused(f"valid/{name}")
        for name in ("owned", "not_reserved", "owned_unreserved", "price_ok")
    },
    "forced_order/valid/and#": refused("valid/and0"),
    # a valid order in a market read as deleveraging (``MarketDeleveraging``)
    "forced_order/valid/deleveraging/lane#": refused("valid/deleveraging/lane0", to(1)),
    "forced_order/valid/in_band": refused("valid/in_band"),
    "forced_order/valid/band_ok": refused("valid/band_ok"),
    "forced_order/valid/listed#": refused("valid/listed0"),
    "forced_order/valid/on_market#": refused("valid/on_market0"),
    "forced_order/valid/min_size#": refused("valid/min_size0", to(101)),
    # the band's top moved below a bid at its edge, or its bottom above an ask at its edge
    "forced_order/valid/band#": refused("valid/band0", add(-1), forced(HIGH)),
    "forced_order/valid/index#": refused("valid/index0", add(-1), forced(HIGH)),
    "forced_order/valid/band/high_notional": refused(
        "valid/band/high_notional", add(-1), forced(HIGH)
    ),
    "forced_order/valid/band/low_notional": refused(
        "valid/band/low_notional", add(1), forced(LOW, flags=ORDER_FLAG_ASK)
    ),
    # the step handed another market, or none
    "forced_order/selected#": lambda: violation(
        MARKET_BID, book=key_book(MARK), wires={ON + "selected0": to(0)}
    ),
    # the taker rests at another price, size, side, market, or rests where it is IOC
    "forced_order/taker_limit": lambda: _taker("limit", add(1), book=rest_at(MARK + 1)),
    "forced_order/taker_remaining": lambda: _taker("remaining", add(1)),
    "forced_order/taker_is_ask": lambda: _taker("is_ask", flip, book=rest_at(MARK, True)),
    "forced_order/taker_market": lambda: _taker(
        "market", to(1), prepare=second_market, book=_market_one_book
    ),
    "forced_order/taker_rests": lambda: violation(
        MARKET_BID, book=rest_at(MARK), wires={ON + "taker_rests": to(1)}
    ),
    "forced_order/taker_account": _taker_account,
    # the step told of another maker, or another size, than the record names
    "forced_order/maker": lambda: _filling(5, FILL_LOTS, {ON + "maker": to(5)}),
    "forced_order/filled": lambda: _filling(4, 30, {ON + "filled": to(FILL_LOTS)}),
    "forced_order/limit/market_limit": _market_limit_moved("limit/market_limit"),
    "forced_order/limit/select": _market_limit_moved("limit/select"),
    "forced_order/limit/above_high/select": _market_limit_moved("limit/above_high/select"),
    "forced_order/limit/below_low/select": _market_limit_moved("limit/below_low/select", True),
    "forced_order/unused_bytes_zero": lambda: violation(
        forced(), record=with_unused_byte(get_circuit(forced()), record(forced()))
    ),
}


def _negated_selector() -> Violation:
    """A selector of -1, its operation's arithmetic negated, and two others' of 1 (which the
    record reads as a refused key and a withdrawal of nothing)."""
    selectors = (("forced_order", -1), ("register_key", 1), ("forced_withdraw", 1))
    inputs = {f"slot0/type/is_{name}": v for name, v in selectors}
    return violation(NEGATED, record(NEGATED, 0), inputs=inputs)


# (witness, the other constraints that refuse it): the negated selector negates the market's
# index it reads, so the band's gated range refuses it too
FORCED_ORDER_GUARDED = {
    "type/is_forced_order_boolean": (
        _negated_selector,
        {"forced_order/valid/band/low/quotient/range/bits_sum"},
    ),
}

FORCED_ORDER_FAMILIES = {
    "forced_order/selected#",
    *(f"forced_order/valid/{n}#" for n in ("and", "listed", "on_market", "min_size", "band")),
    "forced_order/valid/deleveraging/lane#",
    "forced_order/valid/index#",
}

# more witnesses for a constraint above: a non-owner's order claimed applied
FORCED_ORDER_MORE = {
    "a non-owner's forced order applied": (
        "forced_order/status_is_valid",
        lambda: violation(NON_OWNER, record(NON_OWNER, 1)),
    ),
}
