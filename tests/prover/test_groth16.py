"""Full setup / prove / verify on a toy circuit, with both backends, and every way a proof or
its inputs can be wrong."""

from __future__ import annotations

from dataclasses import replace

import pytest

from circuits.r1cs import ConstraintSystem, UnsatisfiedConstraintError
from protocol.field import R
from prover.backend import get_backend
from prover.encoding import MalformedEncodingError, proof_from_bytes, proof_to_bytes
from prover.groth16 import Proof, Prover, prove, verify
from prover.keys import KeyMismatchError, ProvingKey
from prover.transform import get_transform
from tests.prover.circuits import toy
from tests.prover.test_backends import g1_off_subgroup

pytestmark = pytest.mark.prove
BACKENDS = ["arkworks", "py_ecc"]
Circuit = tuple[ConstraintSystem, list[int]]


@pytest.fixture(scope="module")
def proof(toy_circuit: Circuit, toy_key: ProvingKey) -> Proof:
    cs, witness = toy_circuit
    return prove(toy_key, cs, witness)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_proof_verifies_with_both_backends(
    backend: str, toy_circuit: Circuit, toy_key: ProvingKey, proof: Proof
) -> None:
    cs, witness = toy_circuit
    assert verify(toy_key.vk, cs.public_inputs(witness), proof, get_backend(backend))


def test_the_reference_backend_proves_too(toy_circuit: Circuit, toy_key: ProvingKey) -> None:
    cs, witness = toy_circuit
    slow = prove(toy_key, cs, witness, get_backend("py_ecc"))
    assert verify(toy_key.vk, cs.public_inputs(witness), slow)


def test_the_reference_transform_proves_too(toy_circuit: Circuit, toy_key: ProvingKey) -> None:
    cs, witness = toy_circuit
    pure = Prover(toy_key, transform=get_transform("pure")).prove(cs, witness)
    assert verify(toy_key.vk, cs.public_inputs(witness), pure)


@pytest.mark.parametrize("backend", BACKENDS)
def test_changed_public_inputs_fail(
    backend: str, toy_circuit: Circuit, toy_key: ProvingKey, proof: Proof
) -> None:
    cs, witness = toy_circuit
    inputs = cs.public_inputs(witness)
    be = get_backend(backend)
    for i in range(len(inputs)):
        changed = list(inputs)
        changed[i] = (changed[i] + 1) % R
        assert not verify(toy_key.vk, changed, proof, be)
        changed[i] = inputs[i] + R  # the same residue, not a canonical input
        assert not verify(toy_key.vk, changed, proof, be)
    assert not verify(toy_key.vk, inputs[:-1], proof, be)
    assert not verify(toy_key.vk, [*inputs, 0], proof, be)


@pytest.mark.parametrize("backend", BACKENDS)
def test_malformed_proofs_are_rejected_cleanly(
    backend: str, toy_circuit: Circuit, toy_key: ProvingKey, proof: Proof
) -> None:
    cs, witness = toy_circuit
    inputs, be = cs.public_inputs(witness), get_backend(backend)
    off_curve = proof.a[:-1] + bytes([proof.a[-1] ^ 1])
    for bad in (
        replace(proof, a=proof.a[:50]),
        replace(proof, b=proof.b + b"\0"),
        replace(proof, a=off_curve),
        replace(proof, c=g1_off_subgroup()),
        replace(proof, c=bytes(96)),
        replace(proof, a=proof.c, c=proof.a),
    ):
        assert not verify(toy_key.vk, inputs, bad, be)


def test_truncated_or_padded_proof_bytes_are_refused(proof: Proof) -> None:
    data = proof_to_bytes(proof)
    assert len(data) == 512 and proof_from_bytes(data) == proof
    with pytest.raises(MalformedEncodingError):
        proof_from_bytes(data[:-1])
    with pytest.raises(MalformedEncodingError, match="padding"):
        proof_from_bytes(b"\1" + data[1:])


def test_proofs_are_randomized(toy_circuit: Circuit, toy_key: ProvingKey, proof: Proof) -> None:
    cs, witness = toy_circuit
    again = prove(toy_key, cs, witness)
    assert again.a != proof.a and again.c != proof.c
    assert verify(toy_key.vk, cs.public_inputs(witness), again)


def test_a_bad_witness_is_refused_by_name(toy_circuit: Circuit, toy_key: ProvingKey) -> None:
    cs, witness = toy_circuit
    bad = list(witness)
    bad[1] += 1  # x0 changes; x0 * y no longer matches its product wire
    with pytest.raises(UnsatisfiedConstraintError) as info:
        prove(toy_key, cs, bad)
    assert info.value.name == "x0_times_y"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_proof_from_a_bad_witness_does_not_verify(
    backend: str, toy_circuit: Circuit, toy_key: ProvingKey
) -> None:
    cs, witness = toy_circuit
    bad = list(witness)
    bad[1] += 1
    forged = Prover(toy_key).assemble(cs, bad)  # bypasses the constraint check
    assert not verify(toy_key.vk, cs.public_inputs(bad), forged, get_backend(backend))
    assert not verify(toy_key.vk, cs.public_inputs(witness), forged, get_backend(backend))


def test_a_key_for_another_circuit_is_refused(toy_key: ProvingKey) -> None:
    cs, witness = toy(num_public=3)
    with pytest.raises(KeyMismatchError):
        prove(toy_key, cs, witness)
