"""The toolkit's named circuits, each built from a deterministic valid sample.

- ``poseidon``: one width-3 permutation; private input state, public output state.
- ``merkle``: one leaf update in an account tree of the preset's depth; public old and new
  roots; private index, old and new leaves, and siblings.
- ``signature``: one EdDSA verification; public key and message public, signature private.
- ``block``: the block circuit (``circuits/block.py``) on a sample block of noops;
- ``exit``: the exit circuit (``circuits/exit.py``) on a sample account.

``repeat=k`` chains ``k`` copies (permutations fed into each other, updates of successive
leaves, independent signatures), so that the prover can be measured at chosen sizes.

In setup mode the circuit is built from a *blank* sample of the same shape (all zeros): the
builder ignores every value there, and the shape never depends on one (a test compares).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from circuits.block import define_block, sample_block_witness
from circuits.exit import define_exit, sample_exit_witness
from circuits.gadgets.eddsa import SignatureVar, assert_valid_signature
from circuits.gadgets.jubjub import PointVar
from circuits.gadgets.poseidon import permute
from circuits.gadgets.smt import update_leaf
from circuits.r1cs import Builder, ConstraintSystem, LinearCombination
from protocol import eddsa, jubjub
from protocol.field import R
from protocol.params import Preset
from protocol.smt import SparseMerkleTree

CIRCUIT_NAMES = ("poseidon", "merkle", "signature", "block", "exit")
SEED = 2026  # the samples' random generator seed


class UnknownCircuitError(ValueError):
    """A circuit name that is not in CIRCUIT_NAMES."""


Definition = Callable[[Builder], None]  # a circuit with its sample bound


# -- poseidon --------------------------------------------------------------------------------


def _poseidon(preset: Preset, repeat: int, rng: random.Random | None) -> Definition:
    state = [0, 0, 0] if rng is None else [rng.randrange(R) for _ in range(3)]

    def define(cs: Builder) -> None:
        lanes = [cs.private(f"in{i}", v) for i, v in enumerate(state)]
        for step in range(repeat):
            with cs.scope(f"step{step}"):
                lanes = permute(cs, lanes)
        for i, lane in enumerate(lanes):
            cs.expose(f"out{i}", lane)

    return define


# -- merkle ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeafUpdate:
    index: int
    old_leaf: int
    new_leaf: int
    siblings: list[int]


@dataclass(frozen=True)
class MerkleSample:
    old_root: int
    new_root: int
    updates: list[LeafUpdate]


def merkle_sample(depth: int, repeat: int, rng: random.Random) -> MerkleSample:
    """A tree with a few leaves, then ``repeat`` updates of random leaves."""
    tree = SparseMerkleTree(depth)
    for _ in range(8):
        tree.set(rng.randrange(1 << depth), rng.randrange(1, R))
    old_root, updates = tree.root(), []
    for _ in range(repeat):
        proof = tree.proof(rng.randrange(1 << depth))
        new_leaf = rng.randrange(1, R)
        updates.append(LeafUpdate(proof.index, proof.leaf, new_leaf, proof.siblings))
        tree.set(proof.index, new_leaf)
    return MerkleSample(old_root, tree.root(), updates)


def _merkle_step(cs: Builder, u: LeafUpdate) -> tuple[LinearCombination, LinearCombination]:
    index = cs.private("index", u.index)
    siblings = [cs.private(f"sibling{i}", s) for i, s in enumerate(u.siblings)]
    old_leaf = cs.private("old_leaf", u.old_leaf)
    new_leaf = cs.private("new_leaf", u.new_leaf)
    return update_leaf(cs, index, siblings, old_leaf, new_leaf)


def _merkle(preset: Preset, repeat: int, rng: random.Random | None) -> Definition:
    depth = preset.account_tree_depth
    if rng is None:
        sample = MerkleSample(0, 0, [LeafUpdate(0, 0, 0, [0] * depth)] * repeat)
    else:
        sample = merkle_sample(depth, repeat, rng)

    def define(cs: Builder) -> None:
        root = cs.public("old_root", sample.old_root)
        final_root = cs.public("new_root", sample.new_root)
        for step, update in enumerate(sample.updates):
            with cs.scope(f"step{step}"):
                old_root, new_root = _merkle_step(cs, update)
                cs.assert_equal(old_root, root, "old_root_matches")
            root = new_root
        cs.assert_equal(root, final_root, "new_root_matches")

    return define


# -- signature -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedMessage:
    public_key: jubjub.Point
    message: int
    signature: eddsa.Signature


def signed_message(rng: random.Random) -> SignedMessage:
    """A fresh key, a random message and its signature."""
    key = eddsa.SecretKey.from_seed(rng.randbytes(eddsa.SEED_BYTES))
    message = rng.randrange(R)
    return SignedMessage(key.public_key, message, eddsa.sign(key, message))


def _verify_step(cs: Builder, item: SignedMessage) -> None:
    pk = PointVar(cs.public("pk_x", item.public_key.x), cs.public("pk_y", item.public_key.y))
    message = cs.public("message", item.message)
    big_r, s = item.signature.R, item.signature.s
    sig = SignatureVar(
        PointVar(cs.private("r_x", big_r.x), cs.private("r_y", big_r.y)), s=cs.private("s", s)
    )
    assert_valid_signature(cs, pk, message, sig)


def _signature(preset: Preset, repeat: int, rng: random.Random | None) -> Definition:
    zero = jubjub.Point(0, 0)
    blank = SignedMessage(zero, 0, eddsa.Signature(zero, 0))
    sample = [blank if rng is None else signed_message(rng) for _ in range(repeat)]

    def define(cs: Builder) -> None:
        for step, item in enumerate(sample):
            with cs.scope(f"step{step}"):
                _verify_step(cs, item)

    return define


# -- block and exit (circuits/block.py, circuits/exit.py) ------------------------------------

SAMPLE_CHAIN_ID = 31337  # the block circuit's signed messages name a chain: the devnet's (Anvil)


def _no_repeat(name: str, repeat: int) -> None:
    if repeat != 1:
        raise ValueError(f"the {name} circuit does not repeat (its size comes from the preset)")


def _block(preset: Preset, repeat: int, rng: random.Random | None) -> Definition:
    """A block of noops over a tree of random leaves (``sample_block_witness``)."""
    _no_repeat("block", repeat)
    sample = None if rng is None else sample_block_witness(preset, rng)
    return lambda cs: define_block(cs, preset, SAMPLE_CHAIN_ID, sample)


def _exit(preset: Preset, repeat: int, rng: random.Random | None) -> Definition:
    """The exit of a random account from a tree of random leaves (``sample_exit_witness``)."""
    _no_repeat("exit", repeat)
    sample = None if rng is None else sample_exit_witness(preset, rng)
    return lambda cs: define_exit(cs, preset, sample)


# -- the catalog -----------------------------------------------------------------------------

_CATALOG: dict[str, Callable[[Preset, int, random.Random | None], Definition]] = {
    "poseidon": _poseidon,
    "merkle": _merkle,
    "signature": _signature,
    "block": _block,
    "exit": _exit,
}


def build_circuit(
    name: str, preset: Preset, *, setup: bool = False, repeat: int = 1, seed: int = SEED
) -> tuple[ConstraintSystem, list[int] | None]:
    """The named circuit and, unless ``setup``, the witness of its sample (``seed`` picks it).

    In setup mode the witness is None."""
    if name not in _CATALOG:
        known = ", ".join(CIRCUIT_NAMES)
        raise UnknownCircuitError(f"unknown circuit {name!r}; choose one of {known}")
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    define = _CATALOG[name](preset, repeat, None if setup else random.Random(seed))
    cs = Builder(witness=not setup)
    define(cs)
    return cs.finalize()


def build_witness(name: str, preset: Preset, *, repeat: int = 1, seed: int = SEED) -> list[int]:
    """The witness of the named circuit's sample in a values-only builder: what
    ``build_circuit`` gives, without building the system again (``circuits.r1cs``)."""
    if name not in _CATALOG:
        known = ", ".join(CIRCUIT_NAMES)
        raise UnknownCircuitError(f"unknown circuit {name!r}; choose one of {known}")
    define = _CATALOG[name](preset, repeat, random.Random(seed))
    cs = Builder(witness=True, values_only=True)
    define(cs)
    return cs.witness_values()
