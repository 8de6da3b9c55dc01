"""Position leaves and an account's positions root in constraints: the twin of
``protocol.commitment.compute_position_leaf`` and of the positions SMT
(``StateTrees.get_positions_tree``).

The risk unit reads every position of an account, so a trading slot hashes all
``2^market_tree_depth`` position leaves anyway; the root is then the full binary tree of
``hash2`` over them (an SMT's empty subtrees are exactly ``hash2`` of zeros, so the full tree
and the sparse one agree), and no Merkle path is needed to read them. A slot whose operations
change one market's position only (a claim slot) rewrites that leaf along its path, the
siblings picked from the tree it read (``rewrite_position_leaf``), instead of hashing every
leaf again. A leaf is
``hash4(size, entry_quote, funding_index, imf)``, or 0 when size, cost basis and imf are all
zero, whatever the snapshot (``Position.is_empty``).

Market leaves (``compute_market_leaf``) are opened once per block: the block circuit allocates
every market's parameters and data, hashes them, and the full tree of their leaves is the market
root of the old state root (an absent market is the leaf 0, its fields free and unused).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from circuits.gadgets.boolean import and_
from circuits.gadgets.conditional import select
from circuits.gadgets.equality import is_zero
from circuits.gadgets.poseidon import hash2, hash4, sponge
from circuits.gadgets.positions import PositionLeafVars
from circuits.r1cs import Builder, LinearCombination, weighted_sum
from protocol.commitment import DOMAIN_ADL_ROUND, DOMAIN_MARKET_DATA, DOMAIN_MARKET_PARAMS

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
    return compute_positions_tree(cs, leaves)[-1][0]


def compute_positions_tree(cs: Builder, leaves: Sequence[LC]) -> tuple[tuple[LC, ...], ...]:
    """Every level of the positions tree holding ``leaves``: the leaves first, the root (alone)
    last; what ``rewrite_position_leaf`` picks a path's siblings from."""
    with cs.scope("positions_root"):
        return _compute_full_tree(cs, leaves)


def rewrite_position_leaf(
    cs: Builder, tree: Sequence[Sequence[LC]], selected: Sequence[LC], leaf: LC
) -> LC:
    """The root of ``tree`` (``compute_positions_tree``'s levels) with the leaf of the market
    ``selected`` (one-hot: exactly one 1) replaced by ``leaf``, along that leaf's path: at each
    level the sibling is picked from the level's nodes by the one-hot sums over their subtrees
    (one product per node), and the path bit (a right child) is the sum over the right ones.
    Every other leaf stays the tree's."""
    if len(selected) != len(tree[0]):
        raise ValueError("one selector per market")
    node, groups = leaf, list(selected)
    with cs.scope("positions_path"):
        for level, nodes in enumerate(tree[:-1]):
            with cs.scope(f"level{level}"):
                picked = [cs.mul(g, nodes[j ^ 1], f"sibling{j}") for j, g in enumerate(groups)]
                sibling = weighted_sum([1] * len(picked), picked)
                is_right = weighted_sum([1] * (len(groups) // 2), groups[1::2])
                left = select(cs, is_right, sibling, node)
                node = hash2(cs, left, node + sibling - left)
            groups = [a + b for a, b in zip(groups[::2], groups[1::2], strict=True)]
    return node


def _compute_full_tree(cs: Builder, leaves: Sequence[LC]) -> tuple[tuple[LC, ...], ...]:
    """The levels of the full binary ``hash2`` tree over ``leaves`` (one per market)."""
    if len(leaves) & (len(leaves) - 1):
        raise ValueError("one leaf per market: a power of two")
    level, nodes = 0, tuple(leaves)
    levels = [nodes]
    while len(nodes) > 1:
        with cs.scope(f"level{level}"):
            nodes = tuple(hash2(cs, a, b) for a, b in zip(nodes[::2], nodes[1::2], strict=True))
        levels.append(nodes)
        level += 1
    return tuple(levels)


@dataclass(frozen=True)
class MarketVars:
    """One market leaf's fields (``MarketParams`` and ``MarketData`` in field order, signed
    data as ``v mod r``) and the hash of its parameters (they never change in a block)."""

    exists: LC
    params: tuple[LC, ...]
    data: tuple[LC, ...]
    params_hash: LC


def compute_round_digest(cs: Builder, fields: Sequence[LC]) -> LC:
    """``sponge(fields, DOMAIN_ADL_ROUND)``: an open round's ``adl_round`` lane
    (``protocol.commitment.compute_round_digest``; 0 when none is open, which the caller
    selects)."""
    return sponge(cs, fields, DOMAIN_ADL_ROUND)


def open_round_account(cs: Builder, lane: LC, fields: Sequence[LC]) -> LC:
    """1 + the account of the round a market's ``adl_round`` lane commits to, 0 for none:
    ``fields`` (``ADL_FIELDS``, private) are the lane's preimage when their account is not 0
    (``round_opens``: the lane is their digest) and the lane is 0 when it is."""
    account = fields[0]
    with cs.scope("round"):
        digest = compute_round_digest(cs, fields)
        is_open = 1 - is_zero(cs, account)
        cs.assert_mul(is_open, digest, lane, "round_opens")
    return account


def hash_market_params(cs: Builder, params: Sequence[LC]) -> LC:
    """``sponge(params, DOMAIN_MARKET_PARAMS)``: the market leaf's first half."""
    with cs.scope("params"):
        return sponge(cs, params, DOMAIN_MARKET_PARAMS)


def compute_market_leaf(cs: Builder, market: MarketVars) -> LC:
    """``protocol.commitment.compute_market_leaf`` for an existing market, else 0."""
    with cs.scope("data"):
        data = sponge(cs, market.data, DOMAIN_MARKET_DATA)
    return cs.mul(market.exists, hash2(cs, market.params_hash, data), "exists_times_hash")


def compute_market_root(cs: Builder, markets: Sequence[MarketVars]) -> LC:
    """The market root over every market index (``StateTrees.markets``)."""
    leaves = []
    for i, market in enumerate(markets):
        with cs.scope(f"market{i}"):
            leaves.append(compute_market_leaf(cs, market))
    with cs.scope("market_root"):
        return _compute_full_tree(cs, leaves)[-1][0]
