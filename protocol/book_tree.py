"""The order-book tree: a sparse 4-ary Merkle tree over ``price ‖ nonce`` keys whose every node
also carries the sums of its subtree (ask base, ask quote, bid base, bid quote).

Leaf of a resting order (``protocol.commitment.compute_order_leaf``) and its sums: an ask of
``b`` lots at price ``p`` contributes ``(b, p * b, 0, 0)``, a bid ``(0, 0, b, p * b)``. An empty
leaf is 0 with zero sums. A key has ``order_tree_depth`` bits (even at every preset), so the
tree has ``order_tree_depth / 2`` levels; the child of a node at level ``j`` on a key's path is
its digit ``j``, key bits ``(2j, 2j + 1)``. An internal node is

    hash8(c0, c1, c2, c3, ask(c0, c1), bid(c0, c1), ask(c2, c3), bid(c2, c3))

over its four children in key order, where ``ask(..)`` packs the ask sums of those children as
``ask_base << Q | ask_quote`` and ``bid(..)`` their bid sums, with
``Q = quote_amount_bits + order_tree_depth`` (a
subtree's quote sum is below ``2^Q`` and its base sum below ``2^(base_amount_bits +
order_tree_depth)``, so each packed lane stays below r: ``params`` checks the widths). A
circuit proving that a maker is the best order walks from its leaf to the root and checks that
the siblings on the better side hold no opposite liquidity. The node hashes each *pair* of
children's sums, not only the four together: a circuit reading one path takes its siblings'
sums as private inputs, and only sums that the hash fixes can tell it which side of the path
the liquidity is on (with the four's total alone, a prover could move a sibling's orders to
another sibling of the same level).

A path's siblings are 3 nodes a level, in this order: the *partner* (the other child of the
pair ``{c0, c1}`` or ``{c2, c3}`` the path's child is in, i.e. the child at digit ``d ^ 1``),
then the other pair ``(o0, o1)`` in key order. So a level reads as two binary levels: bit
``2j`` with the partner as sibling, then bit ``2j + 1`` with the pair as sibling (its sums those
of ``o0`` and ``o1``), which is how the circuit's priority proofs read it.

Like ``protocol.smt``, writing marks a leaf dirty and ``root`` rehashes the dirty paths once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from mypy_extensions import mypyc_attr

from protocol.poseidon import hash8

Sums = tuple[int, int, int, int]  # ask base, ask quote, bid base, bid quote
Node = tuple[int, int, int, int, int]  # hash, then the sums
Children = tuple[Node, Node, Node, Node]  # a node's, in key order
ZERO_SUMS: Sums = (0, 0, 0, 0)
ARITY = 4
SIBLINGS_PER_LEVEL = 3  # partner, then the other pair in key order


@cache
def empty_nodes(levels: int) -> tuple[Node, ...]:
    """The empty subtree of each height ``0 .. levels`` (hash, zero sums)."""
    nodes: list[Node] = [(0, 0, 0, 0, 0)]
    for _ in range(levels):
        h = nodes[-1][0]
        nodes.append((hash8(h, h, h, h, 0, 0, 0, 0), 0, 0, 0, 0))
    return tuple(nodes)


def compute_node(children: Children, quote_shift: int) -> Node:
    """The parent of four nodes in key order."""
    c0, c1, c2, c3 = children
    low, high = add_sums(c0, c1), add_sums(c2, c3)
    h = hash8(
        c0[0], c1[0], c2[0], c3[0], *pack_sums(low, quote_shift), *pack_sums(high, quote_shift)
    )
    return (h, low[0] + high[0], low[1] + high[1], low[2] + high[2], low[3] + high[3])


def add_sums(a: Node, b: Node) -> Sums:
    """The sums of two nodes' subtrees together."""
    return (a[1] + b[1], a[2] + b[2], a[3] + b[3], a[4] + b[4])


def pack_sums(sums: Sums, quote_shift: int) -> tuple[int, int]:
    """The packed lanes ``(ask_base << Q | ask_quote, bid_base << Q | bid_quote)``."""
    ab, aq, bb, bq = sums
    return ab << quote_shift | aq, bb << quote_shift | bq


def place_children(node: Node, digit: int, siblings: tuple[Node, Node, Node]) -> Children:
    """The four children in key order of a level where ``node`` is at ``digit`` and
    ``siblings`` are ``(partner, o0, o1)``."""
    partner, o0, o1 = siblings
    x, y = (partner, node) if digit & 1 else (node, partner)
    return (o0, o1, x, y) if digit & 2 else (x, y, o0, o1)


def get_level_siblings(siblings: list[Node], level: int) -> tuple[Node, Node, Node]:
    """The 3 siblings of ``level`` in a path's flat list."""
    partner, o0, o1 = siblings[SIBLINGS_PER_LEVEL * level : SIBLINGS_PER_LEVEL * (level + 1)]
    return partner, o0, o1


@dataclass(frozen=True)
class BookProof:
    """A leaf with its sums and its path's sibling nodes: 3 a level (partner, o0, o1; see the
    module docstring), leaf level first."""

    key: int
    leaf: Node
    siblings: list[Node]


def compute_book_root(leaf: Node, key: int, siblings: list[Node], quote_shift: int) -> Node:
    """The root node reached from ``leaf`` at ``key`` through ``siblings`` (3 a level)."""
    node = leaf
    for level in range(len(siblings) // SIBLINGS_PER_LEVEL):
        digit = key >> 2 * level & 3
        children = place_children(node, digit, get_level_siblings(siblings, level))
        node = compute_node(children, quote_shift)
    return node


@mypyc_attr(allow_interpreted_subclasses=True)  # see protocol.types: copyable when compiled
class OrderBookTree:
    """The tree of one market's book; see the module docstring. ``depth`` is the key's bits
    (``order_tree_depth``), ``levels = depth / 2`` the tree's height."""

    def __init__(self, depth: int, quote_shift: int) -> None:
        if depth % 2:
            raise ValueError(f"a 4-ary book tree needs an even key width, not {depth}")
        self.depth = depth
        self.levels = depth // 2
        self.quote_shift = quote_shift
        self._empty = empty_nodes(self.levels)
        self._nodes: list[dict[int, Node]] = [{} for _ in range(self.levels + 1)]
        self._dirty: set[int] = set()

    def get(self, key: int) -> Node:
        return self._nodes[0].get(key, self._empty[0])

    def leaves(self) -> list[tuple[int, Node]]:
        """The non-empty leaves, by key."""
        return sorted(self._nodes[0].items())

    def set(self, key: int, leaf: int, sums: Sums) -> None:
        """Writes a leaf (``leaf == 0`` with zero sums empties it); hashes nothing."""
        if not 0 <= key < 1 << self.depth:
            raise IndexError(f"order key {key} outside a tree of depth {self.depth}")
        if leaf:
            self._nodes[0][key] = (leaf, *sums)
        else:
            self._nodes[0].pop(key, None)
        self._dirty.add(key)

    def root(self) -> Node:
        """The root node (hash and the whole book's sums) after rehashing dirty paths."""
        self._rehash_dirty()
        return self._node(self.levels, 0)

    def proof(self, key: int) -> BookProof:
        self._rehash_dirty()
        siblings: list[Node] = []
        for level in range(self.levels):
            index = key >> 2 * level
            pair = (index ^ 2) & ~1  # the first child of the other pair
            siblings += [
                self._node(level, index ^ 1),
                self._node(level, pair),
                self._node(level, pair + 1),
            ]
        return BookProof(key, self.get(key), siblings)

    def _node(self, level: int, index: int) -> Node:
        return self._nodes[level].get(index, self._empty[level])

    def _rehash_dirty(self) -> None:
        dirty = self._dirty
        for level in range(self.levels):
            parents = {i >> 2 for i in dirty}
            store, empty = self._nodes[level + 1], self._empty[level + 1]
            for parent in parents:
                first = ARITY * parent
                node = compute_node(
                    (
                        self._node(level, first),
                        self._node(level, first + 1),
                        self._node(level, first + 2),
                        self._node(level, first + 3),
                    ),
                    self.quote_shift,
                )
                if node == empty:
                    store.pop(parent, None)
                else:
                    store[parent] = node
            dirty = parents
        self._dirty = set()
