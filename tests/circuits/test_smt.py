from __future__ import annotations

import random
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.gadgets.smt import (
    assert_membership,
    compute_root,
    siblings_after,
    update_leaf,
    update_path,
)
from circuits.r1cs import Builder, HintFn, LinearCombination
from protocol.field import R
from protocol.smt import SparseMerkleTree
from protocol.smt import compute_root as native_root
from tests.circuits.harness import Run, asserting, run_gadget

felts = st.integers(min_value=1, max_value=R - 1)


def sample_tree(depth: int, seed: int) -> SparseMerkleTree:
    rng = random.Random(seed)
    tree = SparseMerkleTree(depth)
    for _ in range(rng.randrange(1, 6)):
        tree.set(rng.randrange(1 << depth), rng.randrange(1, R))
    return tree


def run_update(
    tree: SparseMerkleTree, index: int, new_leaf: int, cheat: Mapping[str, HintFn] | None = None
) -> Run:
    proof = tree.proof(index)
    inputs = [index, proof.leaf, new_leaf, *proof.siblings]
    return run_gadget(
        lambda cs, ins: update_leaf(cs, ins[0], ins[3:], ins[1], ins[2]), inputs, cheat
    )


@settings(max_examples=6, deadline=None)
@given(st.integers(1, 6), st.integers(0, 2**32), st.data())
def test_update_matches_the_native_tree(depth: int, seed: int, data: st.DataObject) -> None:
    tree = sample_tree(depth, seed)
    index = data.draw(st.integers(0, 2**depth - 1))
    new_leaf = data.draw(st.one_of(felts, st.just(0)))
    old_root = tree.root()
    run = run_update(tree, index, new_leaf)
    run.check()
    tree.set(index, new_leaf)
    assert run.outputs == [old_root, tree.root()]


@settings(max_examples=6, deadline=None)
@given(st.integers(1, 6), st.integers(0, 2**32), st.data())
def test_compute_root_matches_native(depth: int, seed: int, data: st.DataObject) -> None:
    tree = sample_tree(depth, seed)
    proof = tree.proof(data.draw(st.integers(0, 2**depth - 1)))
    run = run_gadget(
        lambda cs, ins: [compute_root(cs, ins[0], ins[1], ins[2:])],
        [proof.leaf, proof.index, *proof.siblings],
    )
    run.check()
    assert run.outputs == [tree.root()] == [native_root(proof.leaf, proof.index, proof.siblings)]


@pytest.mark.parametrize("wrong", ["leaf", "index", "sibling"])
def test_a_wrong_membership_claim_is_rejected(wrong: str) -> None:
    tree = sample_tree(4, 7)
    index = next(i for i, _ in tree.items())
    proof = tree.proof(index)
    inputs = [tree.root(), proof.leaf, index, *proof.siblings]
    gadget = asserting(lambda cs, ins: assert_membership(cs, ins[0], ins[1], ins[2], ins[3:]))
    run_gadget(gadget, inputs).check()
    position = {"leaf": 1, "index": 2, "sibling": 5}[wrong]
    inputs[position] = (inputs[position] + 1) % 16 if wrong == "index" else inputs[position] + 1
    assert run_gadget(gadget, inputs).rejection() == "merkle/root_matches"


def test_a_path_bit_set_to_two_is_rejected() -> None:
    tree = sample_tree(4, 1)
    # index 3 = bits 1,1,0,0; the cheat claims bits 1,2,... whose weighted sum 1 + 4 is not 3,
    # but the first constraint to fail is the booleanity of bit 1
    cheat = {"merkle_update/to_bits/bits": lambda v: [1, 2, 0, 0]}
    run = run_update(tree, 3, 99, cheat)
    assert run.rejection() == "merkle_update/to_bits/bit1_boolean"


def test_path_bits_of_another_index_are_rejected() -> None:
    tree = sample_tree(4, 2)
    cheat = {"merkle_update/to_bits/bits": lambda v: [1, 0, 0, 0]}  # the path of leaf 1
    run = run_update(tree, 3, 99, cheat)
    assert run.rejection() == "merkle_update/to_bits/bits_sum"


def test_an_index_outside_the_tree_is_rejected() -> None:
    tree = sample_tree(4, 3)
    proof = tree.proof(5)
    inputs = [16 + 5, proof.leaf, 1, *proof.siblings]
    run = run_gadget(lambda cs, ins: update_leaf(cs, ins[0], ins[3:], ins[1], ins[2]), inputs)
    assert run.rejection() == "merkle_update/to_bits/bits_sum"


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 6), st.integers(0, 2**32), st.data())
def test_siblings_after_a_second_write_are_the_native_trees(
    depth: int, seed: int, data: st.DataObject
) -> None:
    """A's leaf written, then B's (anywhere, A's own index included): ``siblings_after`` gives
    A's siblings in the tree after both writes, from A's siblings before and B's new path."""
    tree = sample_tree(depth, seed)
    a = data.draw(st.integers(0, 2**depth - 1))
    b = data.draw(st.one_of(st.just(a), st.integers(0, 2**depth - 1)))
    a_leaf, b_leaf = data.draw(felts), data.draw(felts)
    a_proof = tree.proof(a)
    tree.set(a, a_leaf)
    b_proof = tree.proof(b)
    tree.set(b, b_leaf)
    inputs = [a, b, a_proof.leaf, a_leaf, b_proof.leaf, b_leaf]
    inputs += [*a_proof.siblings, *b_proof.siblings]

    def gadget(cs: Builder, ins: list[LinearCombination]) -> list[LinearCombination]:
        a_siblings, b_siblings = ins[6 : 6 + depth], ins[6 + depth :]
        a_update = update_path(cs, ins[0], a_siblings, ins[2], ins[3])
        b_update = update_path(cs, ins[1], b_siblings, ins[4], ins[5])
        cs.assert_equal(b_update.old_root, a_update.new_root, "b_follows_a")
        return siblings_after(cs, a_update.bits, a_siblings, b_update)

    run = run_gadget(gadget, inputs)
    run.check()
    assert run.outputs == list(tree.proof(a).siblings)
