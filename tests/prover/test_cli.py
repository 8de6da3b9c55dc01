"""`zkperp verify DIR` on a directory of our own, valid and tampered; `zkperp prove` and
`zkperp verifier solidity` on the toolkit's circuits are in test_catalog."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from circuits.r1cs import ConstraintSystem
from prover.encoding import write_proof_dir
from prover.groth16 import prove
from prover.keys import ProvingKey
from scripts.cli import app

Circuit = tuple[ConstraintSystem, list[int]]


def test_verify_command(toy_circuit: Circuit, toy_key: ProvingKey, tmp_path: Path) -> None:
    cs, witness = toy_circuit
    inputs = cs.public_inputs(witness)
    write_proof_dir(tmp_path, toy_key.vk, prove(toy_key, cs, witness), inputs)
    runner = CliRunner()
    ok = runner.invoke(app, ["verify", str(tmp_path)])
    assert ok.exit_code == 0 and "valid" in ok.output
    (tmp_path / "public.json").write_text(json.dumps([str(inputs[0]), str(inputs[1] + 1)]))
    bad = runner.invoke(app, ["verify", str(tmp_path)])
    assert bad.exit_code == 1 and "INVALID" in bad.output
    (tmp_path / "proof.json").write_text("{not json")
    broken = runner.invoke(app, ["verify", str(tmp_path)])
    assert broken.exit_code == 1 and "cannot read" in broken.output
