"""Sparse Merkle paths in constraints: the twin of ``protocol.smt`` (``compute_root``,
``verify_proof``, and a leaf update as the engine's ``set`` followed by ``root``).

The path bits are the bits of the leaf index (``to_bits``: each bit boolean, and their sum the
index), bit ``i`` at level ``i`` being 1 when the path node is a right child. Per level: one
select for the left child (the right one is then linear) and one Poseidon ``hash2``.

``siblings_after`` gives a path's siblings after another leaf's update from the other path's
new nodes, so that a caller that knows a leaf's path before a second write can carry it past
that write without opening it again (the claim slot's taker, docs/PROTOCOL.md 8.C).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from circuits.gadgets.bits import to_bits
from circuits.gadgets.conditional import select
from circuits.gadgets.poseidon import hash2
from circuits.r1cs import ZERO, Builder, LinearCombination, constant

LC = LinearCombination


def _nodes_from_bits(cs: Builder, leaf: LC, bits: Sequence[LC], siblings: Sequence[LC]) -> list[LC]:
    """The path's nodes from ``leaf`` up: the leaf, each level's hash, the root last."""
    nodes = [leaf]
    for level, (bit, sibling) in enumerate(zip(bits, siblings, strict=True)):
        with cs.scope(f"level{level}"):
            node = nodes[-1]
            left = select(cs, bit, sibling, node)
            nodes.append(hash2(cs, left, node + sibling - left))
    return nodes


def compute_root_from_bits(cs: Builder, leaf: LC, bits: Sequence[LC], siblings: Sequence[LC]) -> LC:
    """The root reached from ``leaf`` along ``bits`` (boolean wires, the caller's) and
    ``siblings``."""
    return _nodes_from_bits(cs, leaf, bits, siblings)[-1]


def compute_root(
    cs: Builder,
    leaf: LinearCombination,
    index: LinearCombination,
    siblings: Sequence[LinearCombination],
) -> LinearCombination:
    """``protocol.smt.compute_root``: the root reached from ``leaf`` at ``index``.

    Also proves ``0 <= index < 2^len(siblings)``.
    """
    with cs.scope("merkle"):
        bits = to_bits(cs, index, len(siblings))
        return compute_root_from_bits(cs, leaf, bits, siblings)


def assert_membership(
    cs: Builder,
    root: LinearCombination,
    leaf: LinearCombination,
    index: LinearCombination,
    siblings: Sequence[LinearCombination],
) -> None:
    """``protocol.smt.verify_proof`` as a constraint: ``leaf`` sits at ``index`` under ``root``
    (``leaf == 0``: the index is empty)."""
    computed = compute_root(cs, leaf, index, siblings)
    cs.assert_equal(computed, root, "merkle/root_matches")


@dataclass(frozen=True)
class PathUpdate:
    """A leaf update through one path: both roots, the path's bits, and its nodes with the new
    leaf below the root (the node entering each level: the new leaf first)."""

    old_root: LC
    new_root: LC
    bits: list[LC]
    new_nodes: list[LC]


def update_path(
    cs: Builder, index: LC, siblings: Sequence[LC], old_leaf: LC, new_leaf: LC
) -> PathUpdate:
    """``update_leaf`` with the path's bits and new nodes (``PathUpdate``)."""
    with cs.scope("merkle_update"):
        bits = to_bits(cs, index, len(siblings))
        with cs.scope("old"):
            old_root = compute_root_from_bits(cs, old_leaf, bits, siblings)
        with cs.scope("new"):
            *new_nodes, new_root = _nodes_from_bits(cs, new_leaf, bits, siblings)
    return PathUpdate(old_root, new_root, bits, new_nodes)


def update_leaf(
    cs: Builder,
    index: LinearCombination,
    siblings: Sequence[LinearCombination],
    old_leaf: LinearCombination,
    new_leaf: LinearCombination,
) -> tuple[LinearCombination, LinearCombination]:
    """``(old_root, new_root)``: the roots with ``old_leaf`` and with ``new_leaf`` at ``index``,
    through the same path. A caller that constrains ``old_root`` to the current root gets the
    root after the update as ``new_root``."""
    update = update_path(cs, index, siblings, old_leaf, new_leaf)
    return update.old_root, update.new_root


def siblings_after(
    cs: Builder, bits: Sequence[LC], siblings: Sequence[LC], other: PathUpdate
) -> list[LC]:
    """The siblings of the path along ``bits`` once ``other`` has written its leaf, given the
    path's ``siblings`` in the tree ``other`` opened (its old root): the level where the two
    paths meet, the highest at which their bits differ, takes ``other``'s new node entering
    it; every other sibling is as it was (below that level the other write is in the other
    subtree, above it the two paths share their nodes and so their siblings). The same index
    (no bit differs) keeps every sibling.

    Sound under the hash's collision resistance: both paths open one root, so at the meeting
    level each path's node is the other's sibling, and the path along ``bits`` with its leaf
    and these siblings reaches ``other``'s new root."""
    depth = len(siblings)
    if len(bits) != depth or len(other.bits) != depth:
        raise ValueError(f"two paths of {depth} levels, not {len(bits)} and {len(other.bits)}")
    with cs.scope("siblings_after"):
        after: list[LC] = [ZERO] * depth
        same_above: LC = constant(1)  # the bits above the level all equal
        for level in reversed(range(depth)):
            x, y = bits[level], other.bits[level]
            differs = x + y - 2 * cs.mul(x, y, f"both{level}")
            meets = cs.mul(same_above, differs, f"meets{level}")
            sibling = siblings[level]
            after[level] = sibling + cs.mul(
                meets, other.new_nodes[level] - sibling, f"sibling{level}"
            )
            same_above = same_above - meets
    return after
