"""Position leaves and an account's positions root in constraints: the twin of
``protocol.commitment.compute_position_leaf`` and of the positions SMT
(``StateTrees.get_positions_tree``).

The risk unit reads every position of an account, so a trading slot hashes all
``2^market_tree_depth`` position leaves anyway; the root is then the full binary tree of
``hash2`` over them (an SMT's empty subtrees are exactly ``hash2`` of zeros, so the full tree
and the sparse one agree), and no Merkle path is needed. A leaf is
``hash4(size, entry_quote, funding_index, imf)``, or 0 when size, cost basis and imf are all
zero, whatever the snapshot (``Position.is_empty``).
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.gadgets.boolean import and_
from circuits.gadgets.equality import is_zero
from circuits.gadgets.poseidon import hash2, hash4
from circuits.gadgets.positions import PositionLeafVars
from circuits.r1cs import Builder, LinearCombination

LC = LinearCombination


def compute_position_leaf(cs: Builder, position: PositionLeafVars) -> LC:
    """``compute_position_leaf``: 9 constraints besides the ``hash4``."""
    with cs.scope("position_leaf"):
        digest = hash4(
            cs, position.size, position.entry_quote, position.funding_index, position.imf
        )
        with cs.scope("size"):
            no_size = is_zero(cs, position.size)
        with cs.scope("entry"):
            no_entry = is_zero(cs, position.entry_quote)
        with cs.scope("imf"):
            no_imf = is_zero(cs, position.imf)
        empty = and_(cs, and_(cs, no_size, no_entry), no_imf)
        return cs.mul(1 - empty, digest, "zero_when_empty")


def compute_positions_root(cs: Builder, leaves: Sequence[LC]) -> LC:
    """The root of the positions tree holding ``leaves`` (one per market, a power of two)."""
    if len(leaves) & (len(leaves) - 1):
        raise ValueError("one leaf per market: a power of two")
    level, nodes = 0, list(leaves)
    with cs.scope("positions_root"):
        while len(nodes) > 1:
            with cs.scope(f"level{level}"):
                nodes = [hash2(cs, a, b) for a, b in zip(nodes[::2], nodes[1::2], strict=True)]
            level += 1
    return nodes[0]
