from __future__ import annotations

import random

import pytest

from circuits.catalog import (
    CIRCUIT_NAMES,
    UnknownCircuitError,
    build_circuit,
    build_witness,
    merkle_sample,
    signed_message,
)
from protocol import eddsa, poseidon
from protocol.params import MINIMAL, get_preset


@pytest.mark.parametrize("name", CIRCUIT_NAMES)
def test_each_circuit_builds_a_satisfied_witness_and_the_same_shape_in_setup(name: str) -> None:
    system, witness = build_circuit(name, MINIMAL)
    assert witness is not None
    system.check(witness)
    shape, none = build_circuit(name, MINIMAL, setup=True)
    assert none is None
    assert shape == system and shape.digest() == system.digest()
    values = build_witness(name, MINIMAL)  # values-only: no constraint built
    assert values == witness


def test_the_seed_changes_the_witness_not_the_shape() -> None:
    a, wa = build_circuit("merkle", MINIMAL, seed=1)
    b, wb = build_circuit("merkle", MINIMAL, seed=2)
    assert a == b and wa != wb


def test_poseidon_exposes_the_native_permutation() -> None:
    system, witness = build_circuit("poseidon", MINIMAL)
    assert witness is not None
    state = witness[1 + system.num_public : 1 + system.num_public + 3]  # the private inputs
    assert system.public_inputs(witness) == poseidon.permute(state)


def test_merkle_exposes_the_native_roots() -> None:
    system, witness = build_circuit("merkle", MINIMAL, repeat=3, seed=5)
    assert witness is not None
    sample = merkle_sample(MINIMAL.account_tree_depth, 3, random.Random(5))
    assert system.public_names == ("old_root", "new_root")
    assert system.public_inputs(witness) == [sample.old_root, sample.new_root]


def test_signature_exposes_key_and_message() -> None:
    system, witness = build_circuit("signature", MINIMAL, seed=9)
    assert witness is not None
    item = signed_message(random.Random(9))
    assert eddsa.verify(item.public_key, item.message, item.signature)
    assert system.public_inputs(witness) == [*item.public_key, item.message]


@pytest.mark.parametrize("preset", ["devnet", "mainnet"])
def test_merkle_follows_the_preset_depth(preset: str) -> None:
    small, _ = build_circuit("merkle", MINIMAL, setup=True)
    big, _ = build_circuit("merkle", get_preset(preset), setup=True)
    per_level = (len(small.constraints) - 7) // MINIMAL.account_tree_depth
    depth = get_preset(preset).account_tree_depth
    assert len(big.constraints) == per_level * depth + depth + 3


def test_repeat_scales_the_circuit() -> None:
    one, _ = build_circuit("merkle", MINIMAL, setup=True)
    four, _ = build_circuit("merkle", MINIMAL, setup=True, repeat=4)
    assert len(four.constraints) - 1 == 4 * (len(one.constraints) - 1)
    system, witness = build_circuit("poseidon", MINIMAL, repeat=3)
    assert witness is not None
    system.check(witness)
    assert len(system.constraints) == 3 * 243 + 3


def test_unknown_names_are_refused() -> None:
    with pytest.raises(UnknownCircuitError, match="poseidon, merkle, signature"):
        build_circuit("sha256", MINIMAL)
    with pytest.raises(ValueError, match="repeat"):
        build_circuit("merkle", MINIMAL, repeat=0)
