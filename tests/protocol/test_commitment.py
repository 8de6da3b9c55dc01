"""Leaf hashes and the state root: layout as documented, incremental == from scratch."""

from __future__ import annotations

import copy

import pytest

from protocol.accounts import Position
from protocol.book_tree import OrderBookTree, compute_book_root, empty_nodes
from protocol.commitment import (
    StateTrees,
    compute_account_leaf,
    compute_position_leaf,
    compute_quote_shift,
    update_state_root,
)
from protocol.errors import RiskCheckFailed
from protocol.field import R
from protocol.ops.deposit import Deposit
from protocol.ops.transfer import Transfer
from protocol.poseidon import hash2, hash4
from protocol.smt import SparseMerkleTree
from tests.protocol.helpers import PRESET, Env, owner_of


def fresh_root(env: Env) -> int:
    """The root of a deep copy of the state with no cached trees (every leaf hashed)."""
    clone = copy.deepcopy(env.state)
    clone.trees = None
    return update_state_root(clone)


def test_account_leaf_layout() -> None:
    env = Env()
    env.open(5, 1_000)
    account = env.state.accounts[5]
    account.positions[1] = Position(size=-3, entry_quote=-3_000, funding_index=7, imf=0)
    positions = SparseMerkleTree(PRESET.market_tree_depth)
    positions.set(1, hash4(R - 3, R - 3_000, 7, 0))
    identity = hash4(int.from_bytes(owner_of(5), "big"), *account.pubkey, 0)
    balance = hash4(1_000, positions.root(), 0, 0)
    assert compute_position_leaf(account.positions[1]) == hash4(R - 3, R - 3_000, 7, 0)
    assert compute_account_leaf(account, positions.root()) == hash2(identity, balance)


def test_empty_position_hashes_to_the_empty_leaf() -> None:
    assert compute_position_leaf(Position(funding_index=12345)) == 0


def test_incremental_root_equals_a_full_rebuild() -> None:
    env = Env()
    root0 = update_state_root(env.state)
    assert root0 == fresh_root(env)
    env.open_many(3, 10_000)
    env.run(env.signed(Transfer, 3, to=4, amount=10))
    root1 = update_state_root(env.state)
    assert root1 != root0 and root1 == fresh_root(env)
    env.run(Deposit(9, owner_of(9), 1))
    assert update_state_root(env.state) == fresh_root(env)


def test_a_rolled_back_operation_does_not_change_the_root() -> None:
    env = Env()
    env.open_many(2, 100)
    root = update_state_root(env.state)
    with pytest.raises(RiskCheckFailed):
        env.run(env.signed(Transfer, 3, to=4, amount=101))
    assert update_state_root(env.state) == root


def test_book_tree_sums_and_proofs() -> None:
    depth, shift = PRESET.order_tree_depth, compute_quote_shift(PRESET)
    tree = OrderBookTree(depth, shift)
    assert tree.root() == empty_nodes(tree.levels)[tree.levels]
    tree.set(5, 111, (2, 20, 0, 0))
    tree.set(1 << 20, 222, (0, 0, 3, 90))
    root = tree.root()
    assert root[1:] == (2, 20, 3, 90)
    proof = tree.proof(5)
    assert compute_book_root(proof.leaf, 5, proof.siblings, shift) == root
    tree.set(5, 0, (0, 0, 0, 0))
    tree.set(1 << 20, 0, (0, 0, 0, 0))
    assert tree.root() == empty_nodes(tree.levels)[tree.levels]


def test_state_trees_are_a_cache_not_state() -> None:
    env = Env()
    update_state_root(env.state)
    assert isinstance(env.state.trees, StateTrees)
    assert env.state.dirty.accounts == set()
