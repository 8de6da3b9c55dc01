"""The generated EIP-2537 verifier on the devnet: accepts our proofs, and returns false (never
reverts) for changed, non-canonical or missing inputs and for malformed proofs; its gas."""

from __future__ import annotations

import pytest
from web3 import Web3
from web3.contract import Contract

from circuits.r1cs import ConstraintSystem
from protocol.field import R
from prover.backend import P
from prover.encoding import proof_to_bytes, to_eip2537
from prover.groth16 import prove
from prover.keys import ProvingKey, VerifyingKey
from prover.setup import setup
from prover.solidity import generate_verifier
from scripts import chain
from scripts.compile import compile_sources
from tests.prover.circuits import toy
from tests.prover.test_backends import g1_off_subgroup

pytestmark = [pytest.mark.prove, pytest.mark.devnet]
Circuit = tuple[ConstraintSystem, list[int]]


def deploy_verifier(w3: Web3, vk: VerifyingKey, name: str = "ToyVerifier") -> Contract:
    artifacts = compile_sources({f"{name}.sol": generate_verifier(vk, name)})
    return chain.deploy(w3, artifacts[name])


def gas_used(w3: Web3, verifier: Contract, proof: bytes, inputs: list[int]) -> int:
    """Gas of a transaction calling verifyProof (estimate_gas cannot be used: a verifier that
    runs out of gas inside a precompile returns false instead of reverting)."""
    tx = verifier.functions.verifyProof(proof, inputs).transact({"gas": 1_000_000})
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    assert receipt["status"] == 1
    return int(receipt["gasUsed"])


def test_the_verifier_accepts_and_rejects(
    w3: Web3, toy_circuit: Circuit, toy_key: ProvingKey
) -> None:
    cs, witness = toy_circuit
    inputs = cs.public_inputs(witness)
    proof = proof_to_bytes(prove(toy_key, cs, witness))
    verifier = deploy_verifier(w3, toy_key.vk)
    call = verifier.functions.verifyProof
    assert call(proof, inputs).call() is True
    assert call(proof, [inputs[0] + 1, inputs[1]]).call() is False
    assert call(proof, [inputs[0], inputs[1] + R]).call() is False
    assert call(proof, inputs[:1]).call() is False
    for bad in malformed(proof):
        assert call(bad, inputs).call() is False


def malformed(proof: bytes) -> list[bytes]:
    """Truncated, extended, bad padding, a coordinate >= p, off the curve, off the subgroup,
    A and C swapped, all zeros."""
    x_plus_p = (int.from_bytes(proof[16:64], "big") + P).to_bytes(64, "big")
    return [
        proof[:-1],
        proof + b"\0",
        b"",
        proof[:15] + b"\1" + proof[16:],
        x_plus_p + proof[64:],
        proof[:127] + bytes([proof[127] ^ 1]) + proof[128:],
        to_eip2537(g1_off_subgroup()) + proof[128:],
        proof[384:] + proof[128:384] + proof[:128],
        bytes(512),
    ]


@pytest.mark.parametrize("num_public", [1, 2, 4, 8])
def test_verifier_gas(w3: Web3, num_public: int) -> None:
    cs, witness = toy(num_public)
    pk = setup(cs)
    verifier = deploy_verifier(w3, pk.vk, f"Toy{num_public}Verifier")
    proof = proof_to_bytes(prove(pk, cs, witness))
    assert verifier.functions.verifyProof(proof, cs.public_inputs(witness)).call()
    gas = gas_used(w3, verifier, proof, cs.public_inputs(witness))
    print(f"verifier gas, {num_public} public inputs: {gas}")
    assert gas < 250_000 + 10_000 * num_public
