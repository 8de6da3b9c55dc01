"""Sparse Merkle paths in constraints: the twin of ``protocol.smt`` (``compute_root``,
``verify_proof``, and a leaf update as the engine's ``set`` followed by ``root``).

The path bits are the bits of the leaf index (``to_bits``: each bit boolean, and their sum the
index), bit ``i`` at level ``i`` being 1 when the path node is a right child. Per level: one
select for the left child (the right one is then linear) and one Poseidon ``hash2``.
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.gadgets.bits import to_bits
from circuits.gadgets.conditional import select
from circuits.gadgets.poseidon import hash2
from circuits.r1cs import Builder, LinearCombination


def _root_from_bits(
    cs: Builder,
    leaf: LinearCombination,
    bits: Sequence[LinearCombination],
    siblings: Sequence[LinearCombination],
) -> LinearCombination:
    node = leaf
    for level, (bit, sibling) in enumerate(zip(bits, siblings, strict=True)):
        with cs.scope(f"level{level}"):
            left = select(cs, bit, sibling, node)
            node = hash2(cs, left, node + sibling - left)
    return node


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
        return _root_from_bits(cs, leaf, bits, siblings)


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
    with cs.scope("merkle_update"):
        bits = to_bits(cs, index, len(siblings))
        with cs.scope("old"):
            old_root = _root_from_bits(cs, old_leaf, bits, siblings)
        with cs.scope("new"):
            new_root = _root_from_bits(cs, new_leaf, bits, siblings)
    return old_root, new_root
