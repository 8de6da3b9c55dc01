"""The 4-ary order-book tree (docs/PROTOCOL.md 6.5) against its definition computed naively:
every node straight from the leaves below it, no cache, no dirty paths, no proofs."""

from __future__ import annotations

import random

import pytest

from protocol.book_tree import (
    SIBLINGS_PER_LEVEL,
    Node,
    OrderBookTree,
    compute_book_root,
    empty_nodes,
)
from protocol.commitment import compute_quote_shift
from protocol.params import PRESETS, Preset
from protocol.poseidon import hash8


def naive_node(leaves: dict[int, Node], height: int, index: int, shift: int) -> Node:
    """The node of ``height`` (in 4-ary levels) over keys ``index * 4^height ..``: its sums are
    the sums of its leaves, its hash ``hash8`` of its four children and the packed sums of
    its first two children's leaves, then of its last two's."""
    if height == 0:
        return leaves.get(index, (0, 0, 0, 0, 0))
    children = [naive_node(leaves, height - 1, 4 * index + d, shift) for d in range(4)]
    low, high = index << 2 * height, (index + 1) << 2 * height
    inside = [leaf for key, leaf in leaves.items() if low <= key < high]
    ab, aq, bb, bq = (sum(leaf[i] for leaf in inside) for i in range(1, 5))
    middle = (low + high) // 2
    lanes = []
    for keys in ((low, middle), (middle, high)):
        half = [leaf for key, leaf in leaves.items() if keys[0] <= key < keys[1]]
        hab, haq, hbb, hbq = (sum(leaf[i] for leaf in half) for i in range(1, 5))
        lanes += [hab << shift | haq, hbb << shift | hbq]
    c0, c1, c2, c3 = (c[0] for c in children)
    h = hash8(c0, c1, c2, c3, *lanes)
    return (h, ab, aq, bb, bq)


def random_leaves(rng: random.Random, depth: int, count: int) -> dict[int, Node]:
    """Orders of both sides at random keys, a few of them sharing a price."""
    leaves: dict[int, Node] = {}
    price_shift = depth // 2
    for _ in range(count):
        price = rng.randrange(1, 1 << (depth - price_shift))
        key = price << price_shift | rng.randrange(1 << price_shift)
        lots = rng.randrange(1, 1000)
        sums = (lots, price * lots, 0, 0) if rng.random() < 0.5 else (0, 0, lots, price * lots)
        leaves[key] = (rng.randrange(1, 1 << 200), *sums)
    return leaves


@pytest.mark.parametrize("depth", [4, 6, 8])
def test_the_tree_is_its_definition(depth: int) -> None:
    """Root and every proof equal the naive tree's, through random writes and removals."""
    rng, shift = random.Random(depth), 60
    tree, leaves = OrderBookTree(depth, shift), {}
    for _ in range(4):
        for key, leaf in random_leaves(rng, depth, 6).items():
            tree.set(key, leaf[0], leaf[1:])
            leaves[key] = leaf
        for key in rng.sample(sorted(leaves), 2):
            tree.set(key, 0, (0, 0, 0, 0))
            del leaves[key]
        root = tree.root()
        assert root == naive_node(leaves, depth // 2, 0, shift)
        assert root[1:] == tuple(sum(leaf[i] for leaf in leaves.values()) for i in range(1, 5))
        for key in [*leaves, rng.randrange(1 << depth)]:
            proof = tree.proof(key)
            assert len(proof.siblings) == SIBLINGS_PER_LEVEL * depth // 2
            assert compute_book_root(proof.leaf, key, proof.siblings, shift) == root


def test_the_siblings_are_partner_then_the_other_pair() -> None:
    """At each level, for the path's digit ``d``: the child ``d ^ 1``, then the two children
    of the other pair in key order (6.5)."""
    depth, shift = 4, 60
    rng = random.Random(1)
    leaves = random_leaves(rng, depth, 10)
    tree = OrderBookTree(depth, shift)
    for key, leaf in leaves.items():
        tree.set(key, leaf[0], leaf[1:])
    for key in range(1 << depth):
        siblings = tree.proof(key).siblings
        for level in range(depth // 2):
            index = key >> 2 * level
            pair = (index ^ 2) & ~1
            expected = [naive_node(leaves, level, i, shift) for i in (index ^ 1, pair, pair + 1)]
            assert siblings[3 * level : 3 * level + 3] == expected


def test_an_empty_tree_is_the_empty_nodes() -> None:
    tree = OrderBookTree(6, 60)
    assert tree.root() == naive_node({}, 3, 0, 60) == empty_nodes(3)[3]
    assert tree.proof(5).siblings == [n for n in empty_nodes(3)[:-1] for _ in range(3)]


def test_an_odd_key_width_is_refused() -> None:
    with pytest.raises(ValueError, match="even key width"):
        OrderBookTree(5, 60)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_has_even_key_halves(name: str) -> None:
    preset: Preset = PRESETS[name]
    assert preset.order_tree_levels * 2 == preset.order_tree_depth
    assert compute_quote_shift(preset) > 0
    with pytest.raises(ValueError, match="must be even"):
        preset.with_overrides(price_bits=preset.price_bits + 1)
