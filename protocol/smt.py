"""Sparse Merkle trees of field elements, hashed with Poseidon ``hash2``.

A tree of depth ``d`` has leaves ``0 .. 2^d - 1``; an empty leaf is 0, and the empty subtree of
height ``h`` hashes to ``empty_hashes(d)[h]``. Internal node = ``hash2(left, right)``. Only
non-empty nodes are stored, so a mainnet tree (2^48 leaves, few used) costs memory in proportion
to the leaves set.

Writing is cheap and hashing is batched: ``set`` only records the leaf and marks it dirty;
``root`` (and ``proof``) rehash the dirty leaves' paths once, level by level, so an ancestor
shared by many updated leaves is hashed once. ``begin`` / ``commit`` / ``rollback`` give
nestable savepoints over ``set`` for the engine's per-transaction undo.

Path bits (docs/PROTOCOL.md section 4): bit ``i`` of the leaf index (``i = 0`` at the leaf
level) is 1 when the node on the path at level ``i`` is a right child; ``siblings[i]`` is that
node's sibling.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache

from mypy_extensions import mypyc_attr

from protocol.field import is_canonical, require_canonical
from protocol.poseidon import hash2


@cache
def empty_hashes(depth: int) -> tuple[int, ...]:
    """``[0, hash2(0, 0), ...]``: the root of an empty subtree of each height ``0 .. depth``."""
    hashes = [0]
    for _ in range(depth):
        hashes.append(hash2(hashes[-1], hashes[-1]))
    return tuple(hashes)


@dataclass(frozen=True)
class MerkleProof:
    """A leaf and its path; ``leaf == 0`` proves that the index is empty (non-membership)."""

    index: int
    leaf: int
    siblings: list[int]  # from the leaf level up to the child of the root


def compute_root(leaf: int, index: int, siblings: Sequence[int]) -> int:
    """The root reached from ``leaf`` at ``index`` through ``siblings`` (leaf level first)."""
    node = leaf
    for level, sibling in enumerate(siblings):
        node = hash2(sibling, node) if index >> level & 1 else hash2(node, sibling)
    return node


def verify_proof(root: int, proof: MerkleProof) -> bool:
    """True when the proof is well formed and leads to ``root``."""
    values = [root, proof.leaf, *proof.siblings]
    if not all(is_canonical(v) for v in values):
        return False
    if not 0 <= proof.index < 1 << len(proof.siblings):
        return False
    return compute_root(proof.leaf, proof.index, proof.siblings) == root


@mypyc_attr(allow_interpreted_subclasses=True)  # see protocol.types: copyable when compiled
class SparseMerkleTree:
    """A sparse Merkle tree of ``depth`` levels; see the module docstring."""

    def __init__(self, depth: int) -> None:
        if depth < 1:
            raise ValueError(f"tree depth must be at least 1, got {depth}")
        self.depth = depth
        self._empty = empty_hashes(depth)
        self._nodes: list[dict[int, int]] = [{} for _ in range(depth + 1)]  # level 0: leaves
        self._dirty: set[int] = set()
        self._journal: list[
            tuple[int, int]
        ] = []  # (index, previous leaf) while a savepoint is open
        self._savepoints: list[int] = []

    # -- reading -------------------------------------------------------------------------------

    def get(self, index: int) -> int:
        """The leaf at ``index`` (0 when empty)."""
        self._check_index(index)
        return self._nodes[0].get(index, 0)

    def items(self) -> Iterator[tuple[int, int]]:
        """The non-empty leaves as ``(index, leaf)``, in no particular order."""
        return iter(list(self._nodes[0].items()))

    def __len__(self) -> int:
        """How many leaves are non-empty."""
        return len(self._nodes[0])

    def root(self) -> int:
        """The root, after rehashing the paths of the leaves set since the last call."""
        self._rehash_dirty()
        return self._node(self.depth, 0)

    def proof(self, index: int) -> MerkleProof:
        """Membership proof of the leaf at ``index`` (non-membership when it is 0)."""
        self._check_index(index)
        self._rehash_dirty()
        siblings = [self._node(level, index >> level ^ 1) for level in range(self.depth)]
        return MerkleProof(index, self.get(index), siblings)

    # -- writing -------------------------------------------------------------------------------

    def set(self, index: int, leaf: int) -> None:
        """Writes a leaf (0 empties it). Hashes nothing: the path is rehashed by ``root``."""
        self._check_index(index)
        require_canonical(leaf)
        if self._savepoints:
            self._journal.append((index, self.get(index)))
        self._write_leaf(index, leaf)

    def begin(self) -> None:
        """Opens a savepoint: ``rollback`` undoes every ``set`` made after it."""
        self._savepoints.append(len(self._journal))

    def commit(self) -> None:
        """Closes the innermost savepoint, keeping its writes."""
        self._savepoints.pop()
        if not self._savepoints:
            self._journal.clear()

    def rollback(self) -> None:
        """Closes the innermost savepoint, undoing its writes (latest first)."""
        start = self._savepoints.pop()
        while len(self._journal) > start:
            index, previous = self._journal.pop()
            self._write_leaf(index, previous)

    # -- internals -----------------------------------------------------------------------------

    def _check_index(self, index: int) -> None:
        if not 0 <= index < 1 << self.depth:
            raise IndexError(f"leaf index {index} outside a tree of depth {self.depth}")

    def _write_leaf(self, index: int, leaf: int) -> None:
        if leaf:
            self._nodes[0][index] = leaf
        else:
            self._nodes[0].pop(index, None)
        self._dirty.add(index)

    def _node(self, level: int, index: int) -> int:
        return self._nodes[level].get(index, self._empty[level])

    def _rehash_dirty(self) -> None:
        dirty = self._dirty
        for level in range(self.depth):
            parents = {i >> 1 for i in dirty}
            for parent in parents:
                left = self._node(level, 2 * parent)
                right = self._node(level, 2 * parent + 1)
                self._store(level + 1, parent, hash2(left, right))
            dirty = parents
        self._dirty = set()

    def _store(self, level: int, index: int, value: int) -> None:
        if value == self._empty[level]:
            self._nodes[level].pop(index, None)
        else:
            self._nodes[level][index] = value
