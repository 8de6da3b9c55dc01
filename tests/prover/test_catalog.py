"""Every toolkit circuit (minimal preset): one proof verifies with arkworks, with py_ecc, with
`snarkjs groth16 verify` and in its generated Solidity verifier on the devnet; a changed input
fails in all four. Also the CLI round trip: `zkperp prove`, `zkperp verify`, `zkperp verifier`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner
from web3 import Web3

from circuits.catalog import CIRCUIT_NAMES, build_circuit
from circuits.r1cs import ConstraintSystem
from protocol.field import R
from protocol.params import get_preset
from prover.backend import get_backend
from prover.encoding import proof_to_bytes, write_proof_dir
from prover.groth16 import Proof, prove, verify
from prover.keys import ProvingKey
from prover.setup import load_or_setup
from scripts import chain
from scripts.cli import app
from scripts.compile import compile_sources
from scripts.deployment import KEYS_DIR
from tests.prover.test_snarkjs import snarkjs_verify

pytestmark = pytest.mark.prove
Proven = tuple[ConstraintSystem, ProvingKey, Proof, list[int]]


@pytest.fixture(scope="module", params=CIRCUIT_NAMES)
def proven(request: pytest.FixtureRequest) -> Proven:
    """A proof of the circuit with its key as `zkperp prove` and the operator keep it (set up
    once under build/keys: the block circuit's setup alone takes a minute)."""
    cs, witness = build_circuit(request.param, get_preset("minimal"))
    assert witness is not None
    pk = load_or_setup(cs, request.param, "minimal", KEYS_DIR)
    return cs, pk, prove(pk, cs, witness), cs.public_inputs(witness)


def changed(inputs: list[int]) -> list[int]:
    return [(inputs[0] + 1) % R, *inputs[1:]]


@pytest.mark.parametrize("backend", ["arkworks", "py_ecc"])
def test_python_verifiers(backend: str, proven: Proven) -> None:
    _, pk, proof, inputs = proven
    assert verify(pk.vk, inputs, proof, get_backend(backend))
    assert not verify(pk.vk, changed(inputs), proof, get_backend(backend))


@pytest.mark.snarkjs
def test_snarkjs_verifies(proven: Proven, tmp_path: Path) -> None:
    _, pk, proof, inputs = proven
    write_proof_dir(tmp_path, pk.vk, proof, inputs)
    assert snarkjs_verify(tmp_path)
    write_proof_dir(tmp_path, pk.vk, proof, changed(inputs))
    assert not snarkjs_verify(tmp_path)


@pytest.mark.devnet
def test_solidity_verifies(w3: Web3, proven: Proven) -> None:
    from prover.solidity import generate_verifier

    _, pk, proof, inputs = proven
    artifact = compile_sources({"CatalogVerifier.sol": generate_verifier(pk.vk, "CatalogVerifier")})
    verifier = chain.deploy(w3, artifact["CatalogVerifier"])
    data = proof_to_bytes(proof)
    assert verifier.functions.verifyProof(data, inputs).call() is True
    assert verifier.functions.verifyProof(data, changed(inputs)).call() is False


def test_cli_round_trip(tmp_path: Path) -> None:
    runner = CliRunner()
    name = CIRCUIT_NAMES[0]
    done = runner.invoke(app, ["prove", name, "--preset", "minimal", "--out", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert {p.name for p in tmp_path.iterdir()} >= {"proof.json", "public.json", "vk.json"}
    assert runner.invoke(app, ["verify", str(tmp_path)]).exit_code == 0
    sol = tmp_path / "V.sol"
    args = ["verifier", "solidity", name, "--preset", "minimal", "--out", str(sol)]
    assert runner.invoke(app, [*args, "--contract", "V"]).exit_code == 0
    assert "function verifyProof(bytes calldata proof" in sol.read_text()
    unknown = runner.invoke(app, ["prove", "nonesuch", "--out", str(tmp_path)])
    assert unknown.exit_code == 1 and "unknown circuit" in unknown.output
