from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import protocol
from protocol import smt
from protocol.field import FieldError, R
from protocol.poseidon import hash2
from protocol.smt import MerkleProof, SparseMerkleTree, compute_root, verify_proof

DEPTH = 4
leaves = st.integers(min_value=0, max_value=R - 1) | st.integers(min_value=0, max_value=3)
updates = st.lists(st.tuples(st.integers(0, 2**DEPTH - 1), leaves), max_size=12)


def load_interpreted(name: str) -> ModuleType:
    """A fresh ``protocol.<name>`` run from its source even when the engine is compiled, so that
    a test can replace one of its globals (compiled code does not look them up)."""
    spec = importlib.util.spec_from_file_location(
        f"interpreted_{name}", protocol.SOURCE_DIR / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def naive_root(depth: int, values: dict[int, int]) -> int:
    """Hashes the whole tree, every node, from a dense list of leaves."""
    level = [values.get(i, 0) for i in range(2**depth)]
    while len(level) > 1:
        level = [hash2(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def test_empty_hashes() -> None:
    empty = smt.empty_hashes(3)
    assert empty[0] == 0
    assert empty[1] == hash2(0, 0)
    assert empty[3] == hash2(empty[2], empty[2])
    assert SparseMerkleTree(3).root() == empty[3] == naive_root(3, {})


@settings(max_examples=20, deadline=None)
@given(st.lists(updates, min_size=1, max_size=3))
def test_batched_root_equals_naive_root(batches: list[list[tuple[int, int]]]) -> None:
    tree = SparseMerkleTree(DEPTH)
    values: dict[int, int] = {}
    for batch in batches:
        for index, leaf in batch:
            tree.set(index, leaf)
            values[index] = leaf
        assert tree.root() == naive_root(DEPTH, values)
    assert dict(tree.items()) == {i: v for i, v in values.items() if v}


def test_set_does_not_hash_and_shared_ancestors_are_hashed_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[int, int]] = []

    def counting_hash2(a: int, b: int) -> int:
        calls.append((a, b))
        return hash2(a, b)

    interpreted = load_interpreted("smt")
    tree = interpreted.SparseMerkleTree(DEPTH)
    monkeypatch.setattr(interpreted, "hash2", counting_hash2)
    for index in range(4):  # leaves 0..3 share their ancestors from level 2 up
        tree.set(index, index + 1)
    assert calls == []
    tree.root()
    assert len(calls) == 2 + 1 + 1 + 1  # level 1: 2 nodes, then one node per level
    calls.clear()
    assert tree.root() == tree.root()
    assert calls == []


@settings(max_examples=15, deadline=None)
@given(updates, st.integers(0, 2**DEPTH - 1))
def test_proofs_verify_for_members_and_non_members(
    batch: list[tuple[int, int]], index: int
) -> None:
    tree = SparseMerkleTree(DEPTH)
    for i, leaf in batch:
        tree.set(i, leaf)
    proof = tree.proof(index)
    assert proof.leaf == tree.get(index)
    assert len(proof.siblings) == DEPTH
    assert verify_proof(tree.root(), proof)
    assert compute_root(proof.leaf, index, proof.siblings) == tree.root()


def test_non_membership_proof_of_an_empty_leaf() -> None:
    tree = SparseMerkleTree(DEPTH)
    tree.set(5, 42)
    proof = tree.proof(6)
    assert proof.leaf == 0
    assert verify_proof(tree.root(), proof)
    assert not verify_proof(tree.root(), replace(proof, leaf=42))
    assert not verify_proof(tree.root(), replace(tree.proof(5), leaf=0))


def test_path_bits_are_the_index_bits_leaf_level_first() -> None:
    tree = SparseMerkleTree(2)
    tree.set(2, 7)  # index 0b10: a left child at level 0, a right child at level 1
    proof = tree.proof(2)
    assert proof.siblings == [0, hash2(0, 0)]
    assert tree.root() == hash2(hash2(0, 0), hash2(7, 0))


def test_tampered_proofs_fail() -> None:
    tree = SparseMerkleTree(DEPTH)
    for i in (1, 2, 9):
        tree.set(i, 100 + i)
    root, proof = tree.root(), tree.proof(9)
    assert verify_proof(root, proof)
    tampered = [
        replace(proof, leaf=proof.leaf + 1),
        replace(proof, index=8),
        replace(proof, index=9 + 2**DEPTH),  # same low bits, outside the tree
        replace(proof, siblings=[proof.siblings[0] + 1, *proof.siblings[1:]]),
        replace(proof, siblings=proof.siblings[:-1]),
        replace(proof, siblings=[*proof.siblings[:-1], proof.siblings[-1] + R]),
        MerkleProof(-1, proof.leaf, proof.siblings),
    ]
    for bad in tampered:
        assert not verify_proof(root, bad), bad
    assert not verify_proof(root + 1, proof)


def test_rollback_undoes_writes_and_nests() -> None:
    tree = SparseMerkleTree(DEPTH)
    tree.set(1, 11)
    before = tree.root()
    tree.begin()
    tree.set(1, 12)
    tree.set(3, 33)
    tree.begin()
    tree.set(3, 0)
    tree.rollback()
    assert tree.get(3) == 33
    tree.rollback()
    assert (tree.get(1), tree.get(3), len(tree)) == (11, 0, 1)
    assert tree.root() == before
    tree.begin()
    tree.set(4, 44)
    tree.commit()
    assert tree.get(4) == 44
    assert tree.root() == naive_root(DEPTH, {1: 11, 4: 44})


def test_rollback_after_root_restores_the_old_root() -> None:
    tree = SparseMerkleTree(DEPTH)
    before = tree.root()
    tree.begin()
    tree.set(0, 5)
    assert tree.root() != before
    tree.rollback()
    assert tree.root() == before


def test_a_deep_sparse_tree_stores_only_what_is_set() -> None:
    tree = SparseMerkleTree(48)
    indices = (0, 1, 2**47, 2**48 - 1)
    for i in indices:
        tree.set(i, i + 1)
    root = tree.root()
    assert all(verify_proof(root, tree.proof(i)) for i in indices)
    assert sum(len(level) for level in tree._nodes) <= len(indices) * 49
    for i in indices:
        tree.set(i, 0)
    assert tree.root() == smt.empty_hashes(48)[48]
    assert sum(len(level) for level in tree._nodes) == 0


def test_bad_writes_are_rejected() -> None:
    tree = SparseMerkleTree(DEPTH)
    with pytest.raises(IndexError, match=rf"leaf index {2**DEPTH} outside a tree of depth"):
        tree.set(2**DEPTH, 1)
    with pytest.raises(IndexError, match="leaf index -1 outside a tree of depth"):
        tree.get(-1)
    with pytest.raises(FieldError, match=f"not a canonical field element: {R}$"):
        tree.set(0, R)
    with pytest.raises(ValueError, match="tree depth must be at least 1, got 0"):
        SparseMerkleTree(0)
