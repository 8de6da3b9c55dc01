"""The order-book tree in constraints: the twin of ``protocol.book_tree`` (nodes with subtree
sums, a leaf's path and its update) and of ``protocol.commitment.compute_order_leaf``, plus the
price-time-priority proofs that ``protocol.matching`` relies on.

**Nodes as lanes.** A native node is ``(hash, ask_base, ask_quote, bid_base, bid_quote)`` and
hashes ``hash8(c0, c1, c2, c3, ask(c0, c1), bid(c0, c1), ask(c2, c3), bid(c2, c3))`` over its
four children (the tree is 4-ary: ``protocol.book_tree``). Here a node is ``(hash, ask, bid)``
with the two *packed lanes* ``ask = ask_base * 2^Q + ask_quote`` and ``bid`` likewise, and a
pair of children's lanes are what the parent hashes. A subtree's quote sum stays below ``2^Q``
(``Q = quote_amount_bits + order_tree_depth``), so packing is additive: a parent's lane is the
sum of its children's, a linear combination. The sibling lanes are private inputs bound by the
root's hash like the sibling hashes: the parent's hash fixes the lanes of the pair the path is
in (so the partner's, the node's being known) and of the other pair, so they are the true sums
of the true tree (a lie changes the root). Only the other pair's sum is bound, not how it
splits between ``o0`` and ``o1``; nothing reads them apart. A lane is zero exactly when its
subtree holds no order of that side (every resting order has at least one lot), and lanes are
non-negative integers far below ``r`` (under ``2^(base_amount_bits + Q + order_tree_depth)``),
so a sum of a path's lanes is zero exactly when each of them is.

**A 4-ary level as two binary ones.** A path's siblings are 3 a level: the *partner* (the
other child of the node's pair), then the other pair ``(o0, o1)`` in key order. With the
level's key bits ``(b0, b1)``: ``(x, y) = b0 ? (partner, node) : (node, partner)`` (one
select), then the children ``b1 ? (o0, o1, x, y) : (x, y, o0, o1)`` (two selects), the pairs'
lanes ``b1 ? (other, own) : (own, other)`` (two selects, ask and bid), one ``hash8``; the lanes
are the node's plus the three siblings'. So a level is two *binary
levels* of the key: bit ``2j`` with the partner as its sibling, bit ``2j + 1`` with the pair
as its sibling (lanes ``o0 + o1``): ``BookPathVars.level_lanes``. Everything below reads a path
by its binary levels, as if the tree were binary.

**Keys and priority.** ``key = price << order_nonce_bits | nonce``: the path's bit ``i`` is bit
``i`` of the key, binary levels ``0 .. order_nonce_bits - 1`` are the nonce, the levels above
the price. Asks take nonces counting up and bids counting down (``protocol.book``), so the best
ask is the smallest ask key and the best bid the largest bid key; within a price the earlier
order has the higher priority in both cases. At binary level ``i`` the sibling of a path that is a
right child (bit 1) holds only smaller keys, the sibling of a left child only larger ones; at a
level below ``order_nonce_bits`` the sibling's keys share the path's price, at a level above
they have another price. So, from the path of one key ``K = L ‖ n`` alone (``Liquidity``):

- asks at a lower price than ``L``: the ask lanes of left siblings above the nonce levels;
- asks at ``L`` with a key below / above ``K``: left / right siblings' ask lanes in the nonce
  levels; bids at a higher price, and at ``L`` above / below ``K``, symmetrically.

**What the matching proves with it.**

- *A fill takes the best maker* (``assert_best_maker``): for an ask maker at ``K``, no ask at
  a lower price (``no_better_price``) and none at its price with a smaller key, i.e. an earlier
  nonce (``no_earlier_at_price``); for a bid maker, no bid at a higher price and none at its
  price with a larger key (bids count down: a larger nonce is earlier). Checked on the maker's
  own update path, so it costs ``2 * depth + 2`` constraints and no hash.
- *A remainder that rests or is cancelled crosses nothing* (``assert_no_crossing``): a bid
  taker with limit ``L`` would cross every ask at a price ``<= L``, an ask taker every bid at
  ``>= L``. Take the path of any key at price ``L`` (the resting order's own insertion path,
  or for a cancelled remainder the leaf at ``L ‖ n`` for any ``n``, empty or not): the
  crossing liquidity is the lower-price asks, the same-price asks on both sides of the key and
  the leaf's own ask lane (for a bid taker; mirrored for an ask taker), and all must be zero.
  Counting both sides of the key within the price matters: ask and bid nonces are separate
  counters, so an ask at ``L`` may sit above a bid taker's own key ``L ‖ n`` when many asks and
  bids rested since their sides last emptied; a check of the keys below the taker's own
  (empty) key alone would miss those.

Soundness rests on the tree being well formed (every leaf's lanes those of its order), which
holds by induction: the only leaves a circuit writes come from ``compute_order_node``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from circuits.gadgets.bits import from_bits, to_bits
from circuits.gadgets.boolean import assert_boolean
from circuits.gadgets.conditional import select
from circuits.gadgets.equality import is_zero
from circuits.gadgets.poseidon import hash4, hash8
from circuits.r1cs import ZERO, Builder, LinearCombination, weighted_sum
from protocol import book_tree as native

LC = LinearCombination


@dataclass(frozen=True)
class BookNodeVars:
    """A node (or leaf) of the book tree: its hash and its two packed lanes."""

    hash: LC
    ask: LC  # ask_base << Q | ask_quote of the subtree
    bid: LC  # bid_base << Q | bid_quote


def pack_node(node: native.Node, quote_shift: int) -> tuple[int, int, int]:
    """Witness side: ``(hash, ask lane, bid lane)`` of a native node."""
    h, ab, aq, bb, bq = node
    return (h, *native.pack_sums((ab, aq, bb, bq), quote_shift))


def compute_node(cs: Builder, children: Sequence[BookNodeVars]) -> BookNodeVars:
    """``protocol.book_tree.compute_node`` of four children: one ``hash8`` over their hashes
    and each pair's lanes; the lanes add up."""
    c0, c1, c2, c3 = children
    low, high = Lanes(c0.ask + c1.ask, c0.bid + c1.bid), Lanes(c2.ask + c3.ask, c2.bid + c3.bid)
    return _hash_node(cs, (c0.hash, c1.hash, c2.hash, c3.hash), low, high)


def _hash_node(cs: Builder, hashes: Sequence[LC], low: Lanes, high: Lanes) -> BookNodeVars:
    c0, c1, c2, c3 = hashes
    h = hash8(cs, c0, c1, c2, c3, low.ask, low.bid, high.ask, high.bid)
    return BookNodeVars(h, low.ask + high.ask, low.bid + high.bid)


def get_level_nodes(level: int) -> tuple[int, ...]:
    """The indices in a path's flat sibling list of the nodes that make binary level
    ``level``'s sibling: the partner at an even level, the other pair at an odd one."""
    first = native.SIBLINGS_PER_LEVEL * (level // 2)
    return (first + 1, first + 2) if level & 1 else (first,)


def get_level_lanes(siblings: Sequence[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """Witness side: ``(ask, bid)`` of each binary level's sibling, from a path's packed
    sibling nodes (3 a level; see the module docstring)."""
    levels = 2 * len(siblings) // native.SIBLINGS_PER_LEVEL
    return [
        (
            sum(siblings[i][1] for i in get_level_nodes(level)),
            sum(siblings[i][2] for i in get_level_nodes(level)),
        )
        for level in range(levels)
    ]


# -- leaves --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderVars:
    """The fields of an order leaf (``protocol.book.Order``); ``remaining == 0`` is no order."""

    account: LC
    remaining: LC  # lots, range-checked by whoever writes it
    is_ask: LC  # boolean
    reduce_only: LC  # boolean
    expiry: LC
    # its owner's cancel epoch when it rested (6.5): whoever reads a leaf range-checks it, so
    # that the flags split one way (``circuits.ops.book_unit``); 0 where the reader takes it so
    epoch: LC = ZERO


def compute_order_node(cs: Builder, order: OrderVars, price: LC, quote_shift: int) -> BookNodeVars:
    """The leaf of ``order`` at ``price``: ``compute_order_leaf`` (0 when ``remaining`` is 0)
    and the lanes of ``protocol.commitment.StateTrees.update_books``: ``b << Q | p * b`` on the
    order's side; ``is_ask`` and ``reduce_only`` proven boolean (else the packed flags would
    let a prover pick any ``is_ask``), the flags ``is_ask | reduce_only << 1 | epoch << 2``.
    7 constraints besides the ``hash4``."""
    with cs.scope("order_leaf"):
        assert_boolean(cs, order.is_ask, "is_ask_boolean")
        assert_boolean(cs, order.reduce_only, "reduce_only_boolean")
        flags = order.is_ask + 2 * order.reduce_only + 4 * order.epoch
        digest = hash4(cs, order.account, order.remaining, flags, order.expiry)
        live = 1 - is_zero(cs, order.remaining)
        leaf = cs.mul(live, digest, "empty_when_no_remaining")
        quote = cs.mul(price, order.remaining, "quote")
        lane = order.remaining * (1 << quote_shift) + quote
        ask = cs.mul(order.is_ask, lane, "ask_lane")
    return BookNodeVars(leaf, ask, lane - ask)


EMPTY_LEAF = BookNodeVars(ZERO, ZERO, ZERO)


# -- paths ---------------------------------------------------------------------------------------


def sum_lanes(lanes: Sequence[LC]) -> LC:
    return weighted_sum([1] * len(lanes), lanes)


@dataclass(frozen=True)
class Lanes:
    """The packed lanes of a set of subtrees: a pair of children, a binary level's sibling."""

    ask: LC
    bid: LC


@dataclass(frozen=True)
class BookPathVars:
    """A key's path: its bits (little-endian, bit ``i`` = binary level ``i``, two a level of
    the tree) and sibling nodes (3 a level: partner, o0, o1)."""

    bits: list[LC]
    siblings: list[BookNodeVars]
    nonce_bits: int

    @property
    def price(self) -> LC:
        return from_bits(self.bits[self.nonce_bits :])

    @property
    def nonce(self) -> LC:
        return from_bits(self.bits[: self.nonce_bits])

    @property
    def level_lanes(self) -> list[Lanes]:
        """Each binary level's sibling: the partner, then the other pair (see the module
        docstring); linear, no constraint."""
        lanes = []
        for level in range(len(self.bits)):
            nodes = [self.siblings[i] for i in get_level_nodes(level)]
            lanes.append(
                Lanes(sum_lanes([n.ask for n in nodes]), sum_lanes([n.bid for n in nodes]))
            )
        return lanes

    def level_siblings(self, level: int) -> tuple[BookNodeVars, BookNodeVars, BookNodeVars]:
        k = native.SIBLINGS_PER_LEVEL
        partner, o0, o1 = self.siblings[k * level : k * (level + 1)]
        return partner, o0, o1


SIBLING_ROLES = ("partner", "pair0", "pair1")  # a level's siblings, in order


def alloc_siblings(
    cs: Builder, levels: int, values: Sequence[tuple[int, int, int]] | None
) -> list[BookNodeVars]:
    """A path's sibling nodes as private inputs ``level<j>_<role>_<hash|ask|bid>``; ``values``
    packed (``pack_node``), 3 a level, or None (no witness)."""
    siblings = []
    for level in range(levels):
        for k, role in enumerate(SIBLING_ROLES):
            node = None if values is None else values[len(SIBLING_ROLES) * level + k]
            siblings.append(
                BookNodeVars(
                    *(
                        cs.private(f"level{level}_{role}_{lane}", None if node is None else v)
                        for lane, v in zip(("hash", "ask", "bid"), node or (None,) * 3, strict=True)
                    )
                )
            )
    return siblings


def alloc_path(
    cs: Builder, key: LC, siblings: Sequence[BookNodeVars], nonce_bits: int
) -> BookPathVars:
    """The path of ``key`` through ``siblings`` (3 a level); proves ``0 <= key < 2^(2 *
    levels)``."""
    levels, extra = divmod(len(siblings), native.SIBLINGS_PER_LEVEL)
    if extra:
        raise ValueError(f"{len(siblings)} siblings: a book path has 3 a level")
    with cs.scope("key"):
        bits = to_bits(cs, key, 2 * levels)
    return BookPathVars(bits, list(siblings), nonce_bits)


def _root_from_path(cs: Builder, leaf: BookNodeVars, path: BookPathVars) -> BookNodeVars:
    """Five selects and one ``hash8`` a level (see the module docstring)."""
    node = leaf
    for level in range(len(path.bits) // 2):
        b0, b1 = path.bits[2 * level], path.bits[2 * level + 1]
        partner, o0, o1 = path.level_siblings(level)
        with cs.scope(f"level{level}"):
            x = select(cs, b0, partner.hash, node.hash)
            y = node.hash + partner.hash - x
            c0 = select(cs, b1, o0.hash, x)
            c1 = select(cs, b1, o1.hash, y)
            c2, c3 = x + o0.hash - c0, y + o1.hash - c1
            own = Lanes(node.ask + partner.ask, node.bid + partner.bid)
            other = Lanes(o0.ask + o1.ask, o0.bid + o1.bid)
            low = Lanes(select(cs, b1, other.ask, own.ask), select(cs, b1, other.bid, own.bid))
            high = Lanes(own.ask + other.ask - low.ask, own.bid + other.bid - low.bid)
            node = _hash_node(cs, (c0, c1, c2, c3), low, high)
    return node


def compute_book_root(cs: Builder, leaf: BookNodeVars, path: BookPathVars) -> BookNodeVars:
    """``protocol.book_tree.compute_book_root``: the root node reached from ``leaf``."""
    with cs.scope("book_path"):
        return _root_from_path(cs, leaf, path)


def update_book_leaf(
    cs: Builder, path: BookPathVars, old_leaf: BookNodeVars, new_leaf: BookNodeVars
) -> tuple[BookNodeVars, BookNodeVars]:
    """``(old_root, new_root)`` through the same path: the tree's ``set`` then ``root``. A caller
    that constrains ``old_root`` to the current root gets the root after the write (sums
    recomputed up the path) as ``new_root``."""
    with cs.scope("book_update"):
        with cs.scope("old"):
            old_root = _root_from_path(cs, old_leaf, path)
        with cs.scope("new"):
            new_root = _root_from_path(cs, new_leaf, path)
    return old_root, new_root


def assert_root(cs: Builder, node: BookNodeVars, root_hash: LC, name: str) -> None:
    """The root node's hash is ``root_hash`` (its lanes follow: the hash binds them)."""
    cs.assert_equal(node.hash, root_hash, name)


# -- liquidity around a key ----------------------------------------------------------------------


@dataclass(frozen=True)
class Liquidity:
    """The packed lanes of the orders around a key ``L ‖ n``, read off its path's siblings."""

    asks_cheaper: LC  # asks at a price below L
    asks_at_price_below: LC  # asks at L with a smaller key (earlier asks)
    asks_at_price_above: LC  # asks at L with a larger key
    bids_dearer: LC  # bids at a price above L
    bids_at_price_above: LC  # bids at L with a larger key (earlier bids)
    bids_at_price_below: LC  # bids at L with a smaller key


def compute_liquidity(cs: Builder, path: BookPathVars) -> Liquidity:
    """``2 * depth`` constraints: each binary level's sibling lanes times the path bit."""
    nonce_bits = path.nonce_bits
    siblings = path.level_lanes
    with cs.scope("liquidity"):
        asks_left, bids_left = [], []  # the lanes of left siblings (smaller keys), else 0
        for level, (bit, sibling) in enumerate(zip(path.bits, siblings, strict=True)):
            asks_left.append(cs.mul(bit, sibling.ask, f"level{level}_asks_left"))
            bids_left.append(cs.mul(bit, sibling.bid, f"level{level}_bids_left"))
    asks = [s.ask for s in siblings]
    bids = [s.bid for s in siblings]

    def right(lanes: Sequence[LC], lefts: Sequence[LC]) -> LC:
        return sum_lanes(lanes) - sum_lanes(lefts)

    n = nonce_bits
    return Liquidity(
        asks_cheaper=sum_lanes(asks_left[n:]),
        asks_at_price_below=sum_lanes(asks_left[:n]),
        asks_at_price_above=right(asks[:n], asks_left[:n]),
        bids_dearer=right(bids[n:], bids_left[n:]),
        bids_at_price_above=right(bids[:n], bids_left[:n]),
        bids_at_price_below=sum_lanes(bids_left[:n]),
    )


def assert_best_maker(cs: Builder, liquidity: Liquidity, maker_is_ask: LC) -> None:
    """The order at the path's key is the best of its side (``OrderBook.best``): nothing of its
    side at a better price, nothing earlier at its price. Two constraints."""
    with cs.scope("priority"):
        m, q = maker_is_ask, liquidity
        # m * asks + (1 - m) * bids == 0, as m * (asks - bids) == -bids
        cs.assert_mul(m, q.asks_cheaper - q.bids_dearer, -q.bids_dearer, "no_better_price")
        cs.assert_mul(
            m,
            q.asks_at_price_below - q.bids_at_price_above,
            -q.bids_at_price_above,
            "no_earlier_at_price",
        )


def assert_no_crossing(
    cs: Builder,
    path: BookPathVars,
    liquidity: Liquidity,
    leaf: BookNodeVars,
    taker_is_ask: LC,
    limit_price: LC,
) -> None:
    """No opposite order crosses ``limit_price`` (``OrderBook.best_within`` is None): the path's
    key is at the limit and ``leaf`` is the leaf there before the step. Two constraints."""
    q = liquidity
    asks = q.asks_cheaper + q.asks_at_price_below + q.asks_at_price_above + leaf.ask
    bids = q.bids_dearer + q.bids_at_price_above + q.bids_at_price_below + leaf.bid
    with cs.scope("crossing"):
        cs.assert_equal(path.price, limit_price, "key_at_limit")
        # a bid taker crosses asks at <= L, an ask taker bids at >= L
        cs.assert_mul(taker_is_ask, bids - asks, -asks, "no_crossing")
