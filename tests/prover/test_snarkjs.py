"""Interoperability: snarkjs 0.7.6 (`groth16 verify`, curve bls12381) accepts our proofs and
rejects them with a changed input; our JSON reader reads back what we wrote."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from circuits.r1cs import ConstraintSystem
from prover.encoding import read_proof_dir, write_proof_dir
from prover.groth16 import prove, verify
from prover.keys import ProvingKey
from scripts.paths import SNARKJS, require

pytestmark = [pytest.mark.prove, pytest.mark.snarkjs]
Circuit = tuple[ConstraintSystem, list[int]]


def snarkjs_verify(directory: Path) -> bool:
    """Whether `snarkjs groth16 verify` says OK for the directory's three files."""
    files = [str(directory / n) for n in ("vk.json", "public.json", "proof.json")]
    done = subprocess.run(
        ["node", str(require(SNARKJS, "snarkjs")), "groth16", "verify", *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode == 0 and "OK" in done.stdout


def test_snarkjs_accepts_our_proof_and_rejects_a_changed_input(
    toy_circuit: Circuit, toy_key: ProvingKey, tmp_path: Path
) -> None:
    cs, witness = toy_circuit
    inputs = cs.public_inputs(witness)
    proof = prove(toy_key, cs, witness)
    write_proof_dir(tmp_path, toy_key.vk, proof, inputs)
    assert snarkjs_verify(tmp_path)
    assert read_proof_dir(tmp_path) == (toy_key.vk, proof, inputs)
    (tmp_path / "public.json").write_text(json.dumps([str(inputs[0] + 1), str(inputs[1])]))
    assert not snarkjs_verify(tmp_path)
    vk, read_proof, changed = read_proof_dir(tmp_path)
    assert not verify(vk, changed, read_proof)
