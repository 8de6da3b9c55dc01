"""Phase 2: contributions keep the key working, and the transcript check catches tampering."""

from __future__ import annotations

from dataclasses import replace

import pytest

from circuits.r1cs import ConstraintSystem
from prover.backend import get_backend
from prover.groth16 import prove, verify
from prover.keys import ProvingKey, decode_key, encode_key
from prover.phase2 import Phase2Error, contribute, verify_contributions

pytestmark = pytest.mark.prove
Circuit = tuple[ConstraintSystem, list[int]]


@pytest.fixture(scope="module")
def contributed(toy_key: ProvingKey) -> ProvingKey:
    return contribute(contribute(toy_key))


def test_contributions_change_delta_and_verify(
    toy_key: ProvingKey, contributed: ProvingKey
) -> None:
    assert len(contributed.contributions) == 2
    assert contributed.delta_g1 != toy_key.delta_g1
    verify_contributions(toy_key, contributed)
    verify_contributions(toy_key, contributed, get_backend("py_ecc"))
    assert decode_key(encode_key(contributed)) == contributed


def test_the_contributed_key_proves(toy_circuit: Circuit, contributed: ProvingKey) -> None:
    cs, witness = toy_circuit
    proof = prove(contributed, cs, witness)
    assert verify(contributed.vk, cs.public_inputs(witness), proof)


def test_tampering_is_caught(toy_key: ProvingKey, contributed: ProvingKey) -> None:
    first, second = contributed.contributions
    forged_record = replace(second, s_g1=first.s_g1)
    cases = [
        ("proof of knowledge", toy_key, replace(contributed, contributions=(first, forged_record))),
        ("C and H", toy_key, replace(contributed, c_query=toy_key.c_query)),
        ("other than delta", toy_key, replace(contributed, a_query=contributed.a_query[::-1])),
        ("does not extend", replace(toy_key, contributions=(second,)), contributed),
        ("last contribution", toy_key, replace(contributed, delta_g1=toy_key.delta_g1)),
    ]
    for message, initial, final in cases:
        with pytest.raises(Phase2Error, match=message):
            verify_contributions(initial, final)
