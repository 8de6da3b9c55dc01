"""The order-book tree: a sparse Merkle tree over ``price ‖ nonce`` keys whose every node also
carries the sums of its subtree (ask base, ask quote, bid base, bid quote).

Leaf of a resting order (``protocol.commitment.compute_order_leaf``) and its sums: an ask of
``b`` lots at price ``p`` contributes ``(b, p * b, 0, 0)``, a bid ``(0, 0, b, p * b)``. An empty
leaf is 0 with zero sums. An internal node is

    hash4(left, right, ask_base << Q | ask_quote, bid_base << Q | bid_quote)

with ``Q = quote_amount_bits + order_tree_depth`` (a subtree's quote sum is below ``2^Q`` and its
base sum below ``2^(base_amount_bits + order_tree_depth)``, so each packed lane stays below r:
``params`` checks the widths). A circuit proving that a maker is the best order walks from its
leaf to the root and checks that the siblings on the better side hold no opposite liquidity.

Like ``protocol.smt``, writing marks a leaf dirty and ``root`` rehashes the dirty paths once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from mypy_extensions import mypyc_attr

from protocol.poseidon import hash4

Sums = tuple[int, int, int, int]  # ask base, ask quote, bid base, bid quote
Node = tuple[int, int, int, int, int]  # hash, then the sums
ZERO_SUMS: Sums = (0, 0, 0, 0)


@cache
def empty_nodes(depth: int) -> tuple[Node, ...]:
    """The empty subtree of each height ``0 .. depth`` (hash, zero sums)."""
    nodes: list[Node] = [(0, 0, 0, 0, 0)]
    for _ in range(depth):
        h = nodes[-1][0]
        nodes.append((hash4(h, h, 0, 0), 0, 0, 0, 0))
    return tuple(nodes)


def compute_node(left: Node, right: Node, quote_shift: int) -> Node:
    """The parent of two nodes."""
    ab, aq = left[1] + right[1], left[2] + right[2]
    bb, bq = left[3] + right[3], left[4] + right[4]
    h = hash4(left[0], right[0], ab << quote_shift | aq, bb << quote_shift | bq)
    return (h, ab, aq, bb, bq)


@dataclass(frozen=True)
class BookProof:
    """A leaf with its sums and the sibling nodes on its path (leaf level first)."""

    key: int
    leaf: Node
    siblings: list[Node]


def compute_book_root(leaf: Node, key: int, siblings: list[Node], quote_shift: int) -> Node:
    """The root node reached from ``leaf`` at ``key`` through ``siblings``."""
    node = leaf
    for level, sibling in enumerate(siblings):
        if key >> level & 1:
            node = compute_node(sibling, node, quote_shift)
        else:
            node = compute_node(node, sibling, quote_shift)
    return node


@mypyc_attr(allow_interpreted_subclasses=True)  # see protocol.types: copyable when compiled
class OrderBookTree:
    """The tree of one market's book; see the module docstring."""

    def __init__(self, depth: int, quote_shift: int) -> None:
        self.depth = depth
        self.quote_shift = quote_shift
        self._empty = empty_nodes(depth)
        self._nodes: list[dict[int, Node]] = [{} for _ in range(depth + 1)]
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
        return self._node(self.depth, 0)

    def proof(self, key: int) -> BookProof:
        self._rehash_dirty()
        siblings = [self._node(level, key >> level ^ 1) for level in range(self.depth)]
        return BookProof(key, self.get(key), siblings)

    def _node(self, level: int, index: int) -> Node:
        return self._nodes[level].get(index, self._empty[level])

    def _rehash_dirty(self) -> None:
        dirty = self._dirty
        for level in range(self.depth):
            parents = {i >> 1 for i in dirty}
            store, empty = self._nodes[level + 1], self._empty[level + 1]
            for parent in parents:
                node = compute_node(
                    self._node(level, 2 * parent),
                    self._node(level, 2 * parent + 1),
                    self.quote_shift,
                )
                if node == empty:
                    store.pop(parent, None)
                else:
                    store[parent] = node
            dirty = parents
        self._dirty = set()
