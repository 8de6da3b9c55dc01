"""What pre-execution reads from a book, in constraints: the twins of ``OrderBook.best``,
``protocol.funding.compute_impact_price``, ``compute_mark_price`` and ``compute_premium``
(PROTOCOL 8.C, "The market slot"; the best order is not read by the block: the mark moved to
the impact prices, 7.6).

Each read is one READ-ONLY path (``BookRead``) into a book root that the caller knows (the
market's order root): the leaf's order fields, hashed into the leaf as
``compute_order_node`` does, and the key's siblings, hashed up to the root and checked against
it (``assert_root``), so the sibling lanes are the true sums of the true tree (see
``circuits.gadgets.book_tree``). The side is a constant of the circuit (the market slot reads
a market's impact bid and impact ask by two reads: ``circuits/ops/pre_execution.py``).

**Ahead of a key.** A side's priority order is its key order (asks ascending, bids descending:
``protocol.book``), so the orders of a side *ahead* of the key ``K`` are the asks with a key
below ``K`` (the ask lanes of the left siblings, bit 1) or the bids with a key above it (the bid
lanes of the right siblings, bit 0). Split at ``order_nonce_bits``: above it the orders at a
better price, below it those at ``K``'s price that came earlier. One constraint a binary
level (a key bit; the tree's levels are 4-ary: ``gadgets.book_tree``).

**Widths** (``Q = quote_amount_bits + order_tree_depth``, ``B = base_amount_bits +
order_tree_depth``): a lane of a set of disjoint subtrees is ``base << Q | quote`` with
``quote < 2^Q`` and ``base < 2^B`` (every order's lots below ``2^base_amount_bits`` and its
quote below ``2^quote_amount_bits``: the engine's checks, and the circuits' that write leaves),
so it unpacks uniquely (``unpack_lane``: ``B + Q`` is far below 253). The index price and the
prices of keys are below ``2^price_bits`` (the market leaf's and the key's range checks), and
``1 <= notional < 2^Q`` (the caller's range check: the market slot's ``widths``).
"""

from __future__ import annotations

from dataclasses import dataclass

from circuits.gadgets.bits import assert_range
from circuits.gadgets.book_tree import (
    BookNodeVars,
    BookPathVars,
    Lanes,
    OrderVars,
    alloc_path,
    assert_root,
    compute_book_root,
    compute_order_node,
)
from circuits.gadgets.compare import less_than
from circuits.gadgets.conditional import select
from circuits.gadgets.division import div_rem
from circuits.gadgets.equality import is_zero
from circuits.r1cs import ONE, Builder, LinearCombination, weighted_sum
from protocol.book import Order, OrderBook
from protocol.commitment import compute_quote_shift
from protocol.field import R
from protocol.params import Preset
from protocol.types import RATE_SCALE

LC = LinearCombination
RATE_BITS = RATE_SCALE.bit_length()


# -- one read-only path --------------------------------------------------------------------------


@dataclass(frozen=True)
class BookRead:
    """A key's leaf (its order fields) and path, proven to lead to the book's root."""

    order: OrderVars
    leaf: BookNodeVars
    path: BookPathVars
    root: BookNodeVars  # whose hash is the given root: its lanes are the whole book's


def read_book(
    cs: Builder,
    root_hash: LC,
    key: LC,
    order: OrderVars,
    siblings: list[BookNodeVars],
    preset: Preset,
) -> BookRead:
    """The leaf of ``order`` at ``key`` hashed up through ``siblings`` (3 a level) to
    ``root_hash``: the key's bits, ``compute_order_node`` and one ``hash8`` and five selects a
    level."""
    path = alloc_path(cs, key, siblings, preset.order_nonce_bits)
    leaf = compute_order_node(cs, order, path.price, compute_quote_shift(preset))
    root = compute_book_root(cs, leaf, path)
    assert_root(cs, root, root_hash, "root_matches")
    return BookRead(order, leaf, path, root)


def side_lane(node: BookNodeVars | Lanes, is_ask: bool) -> LC:
    return node.ask if is_ask else node.bid


@dataclass(frozen=True)
class Ahead:
    """The packed lanes of a side's orders ahead of a key: at a better price, and earlier at
    the key's price."""

    better_price: LC
    earlier_at_price: LC

    @property
    def lane(self) -> LC:
        return self.better_price + self.earlier_at_price


def compute_ahead(cs: Builder, path: BookPathVars, is_ask: bool) -> Ahead:
    """``depth`` constraints: asks take the left siblings' ask lanes (bit 1), bids the right
    siblings' bid lanes (bit 0), a sibling a binary level (``BookPathVars.level_lanes``)."""
    lanes = []
    with cs.scope("ahead"):
        for level, (bit, sibling) in enumerate(zip(path.bits, path.level_lanes, strict=True)):
            lane = side_lane(sibling, is_ask)
            left = cs.mul(bit, lane, f"level{level}")
            lanes.append(left if is_ask else lane - left)
    n = path.nonce_bits
    return Ahead(
        better_price=weighted_sum([1] * len(lanes[n:]), lanes[n:]),
        earlier_at_price=weighted_sum([1] * n, lanes[:n]),
    )


def unpack_lane(cs: Builder, lane: LC, preset: Preset, name: str) -> tuple[LC, LC]:
    """``(base, quote)`` of a lane of disjoint subtrees: ``quote < 2^Q``, ``base < 2^B`` (see
    the module docstring), so ``base << Q | quote`` cannot wrap: ``B + Q + 3`` constraints."""
    q = compute_quote_shift(preset)
    with cs.scope(name):
        base, quote = cs.hints("base_quote", 2, lambda v: [v >> q, v & ((1 << q) - 1)], lane)
        with cs.scope("quote"):
            assert_range(cs, quote, q)
        with cs.scope("base"):
            assert_range(cs, base, preset.base_amount_bits + preset.order_tree_depth)
        cs.assert_equal(base * (1 << q) + quote, lane, "lane_is_base_quote")
    return base, quote


def assert_order_of_side_if(cs: Builder, read: BookRead, is_ask: bool, present: LC) -> None:
    """When ``present``, the leaf holds an order of the side: its lane of that side is not zero
    (``compute_order_node`` gives a leaf a lane on its own side only, and a non-zero one exactly
    when it has lots). One constraint, ``lane * inverse == present`` (``present`` boolean)."""
    lane = side_lane(read.leaf, is_ask)
    inverse = cs.hint("lane_inverse", _inverse_if, lane, present)
    cs.assert_mul(lane, inverse, present, "order_of_side_at_key")


def _inverse_if(lane: int, present: int) -> int:
    return pow(lane, -1, R) * present % R if lane else 0


# -- 1. the best order of a side -----------------------------------------------------------------


def compute_best_order(cs: Builder, read: BookRead, is_ask: bool) -> tuple[LC, LC]:
    """``OrderBook.best(is_ask)`` as ``(present, price)``: ``present`` is 0 exactly when the
    root's lane of the side is 0 (the side is empty; then nothing else binds the path: every
    lane ahead is 0 anyway), else the leaf holds an order of the side and nothing of the side
    is ahead of it. ``price`` is the key's price (meaningless when absent). Lanes are sums of
    non-negative integers far below ``r``, so a sum of them is 0 exactly when each is.
    ``depth + 5`` constraints besides the read."""
    with cs.scope("best_ask" if is_ask else "best_bid"):
        present = 1 - is_zero(cs, side_lane(read.root, is_ask))
        assert_order_of_side_if(cs, read, is_ask, present)
        ahead = compute_ahead(cs, read.path, is_ask)
        cs.assert_zero(ahead.better_price, "no_better_price")
        cs.assert_zero(ahead.earlier_at_price, "no_earlier_at_price")
    return present, read.path.price


# -- 2. the impact price of a side ---------------------------------------------------------------


def compute_impact(
    cs: Builder, read: BookRead, is_ask: bool, notional: LC, preset: Preset
) -> tuple[LC, LC]:
    """``compute_impact_price(book, is_ask, notional)`` as ``(present, impact)``.

    ``present``: the side's total quote (the root lane's) is at least ``notional``. The key
    names the order where the walk stops: with ``(base, quote)`` before it (the lanes ahead,
    unpacked), ``quote_before < notional`` (``before_notional``; true whenever absent, as
    ``quote_before`` is at most the total) and, when present, ``notional <= quote_before +
    price * remaining`` (``reaches_notional``): every side of both is below ``2^Q``, so a
    ``Q``-bit range check proves each. Then ``lots = ceil(need / price)`` for ``need =
    notional - quote_before`` (``div_rem`` of ``need + price - 1``; ``lots <= remaining <
    2^base_amount_bits``), ``base = base_before + lots``, ``quote = quote_before + lots *
    price``, and the impact is ``ceil(quote / base)`` for asks, ``floor`` for bids (an average
    of prices: below ``2^price_bits``). When absent both divisions divide 0 by 1: ``impact``
    is 0."""
    q, price_bits = compute_quote_shift(preset), preset.price_bits
    base_bits = preset.base_amount_bits
    with cs.scope("impact_ask" if is_ask else "impact_bid"):
        _, total = unpack_lane(cs, side_lane(read.root, is_ask), preset, "total")
        present = 1 - less_than(cs, total, notional, q)
        assert_order_of_side_if(cs, read, is_ask, present)
        ahead = compute_ahead(cs, read.path, is_ask)
        base_before, quote_before = unpack_lane(cs, ahead.lane, preset, "before")
        with cs.scope("before_notional"):
            assert_range(cs, notional - quote_before - 1, q)
        leaf_quote = side_lane(read.leaf, is_ask) - read.order.remaining * (1 << q)
        reach = cs.mul(present, quote_before + leaf_quote - notional, "reach_if_present")
        with cs.scope("reaches_notional"):
            assert_range(cs, reach, q)
        need = cs.mul(present, notional - quote_before, "need_if_present")
        price = select(cs, present, read.path.price, ONE)
        with cs.scope("lots"):
            lots, lots_rem = div_rem(cs, need + price - 1, price, base_bits, price_bits)
        base = base_before + lots
        quote = quote_before + need + price - 1 - lots_rem  # quote_before + lots * price
        with cs.scope("average"):
            numerator = cs.mul(present, quote + base - 1 if is_ask else quote, "if_present")
            divisor = select(cs, present, base, ONE)
            impact, _ = div_rem(
                cs, numerator, divisor, price_bits, base_bits + preset.order_tree_depth
            )
    return present, impact


# -- 3. mark and premium -------------------------------------------------------------------------


def median_of_three(cs: Builder, a: LC, b: LC, c: LC, n: int) -> LC:
    """``sorted((a, b, c))[1]`` for values below ``2^n``: ``max(min(a, b), min(max(a, b), c))``,
    three comparisons and three selects."""
    with cs.scope("median"):
        lo = select(cs, _less_than(cs, a, b, n, "a_below_b"), a, b)
        hi = a + b - lo
        top = select(cs, _less_than(cs, hi, c, n, "max_below_c"), hi, c)
        return select(cs, _less_than(cs, lo, top, n, "min_below_rest"), top, lo)


def _less_than(cs: Builder, a: LC, b: LC, n: int, name: str) -> LC:
    with cs.scope(name):
        return less_than(cs, a, b, n)


def compute_mark(
    cs: Builder, index: LC, impact_bid: tuple[LC, LC], impact_ask: tuple[LC, LC], preset: Preset
) -> LC:
    """``compute_mark_price``: the median of the index, the impact bid and the impact ask, a
    missing impact price counting as the index. Every value is below ``2^price_bits``."""
    with cs.scope("mark"):
        bid = select(cs, impact_bid[0], impact_bid[1], index)
        ask = select(cs, impact_ask[0], impact_ask[1], index)
        return median_of_three(cs, index, bid, ask, preset.price_bits)


def compute_premium(
    cs: Builder,
    index: LC,
    impact_bid: tuple[LC, LC],
    impact_ask: tuple[LC, LC],
    preset: Preset,
) -> LC:
    """``compute_premium``: ``(max(0, bid - index) - max(0, index - ask)) * RATE_SCALE / index``
    toward zero, a missing impact price counting as the index; signed, carried as ``x mod r``.
    Prices below ``2^price_bits`` and ``index >= 1`` (``div_rem`` refuses a zero divisor): the
    magnitude times ``RATE_SCALE`` is below ``2^(price_bits + 27)``, and so is the quotient."""
    n = preset.price_bits
    with cs.scope("premium"):
        bid = select(cs, impact_bid[0], impact_bid[1], index)
        ask = select(cs, impact_ask[0], impact_ask[1], index)
        above = cs.mul(_less_than(cs, index, bid, n, "bid_above"), bid - index, "bid_excess")
        below = cs.mul(_less_than(cs, ask, index, n, "ask_below"), index - ask, "ask_shortfall")
        negative = _less_than(cs, above, below, n, "negative")
        magnitude = select(cs, negative, below - above, above - below)
        quotient, _ = div_rem(cs, magnitude * RATE_SCALE, index, n + RATE_BITS, n)
        return quotient - 2 * cs.mul(negative, quotient, "sign")


# -- witness side --------------------------------------------------------------------------------


def find_impact_order(book: OrderBook, is_ask: bool, notional: int) -> Order | None:
    """The order at which ``compute_impact_price``'s walk stops (None: the side is too thin):
    the key a prover reads for ``compute_impact``."""
    quote = 0
    for order in book.iter_side(is_ask):
        quote += order.remaining * order.price
        if quote >= notional:
            return order
    return None
