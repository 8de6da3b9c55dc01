"""`zkperp circuit export / info`, as a user runs them."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from circuits.catalog import build_circuit
from protocol.params import MINIMAL
from scripts.cli import app

runner = CliRunner()


def test_export_writes_both_files(tmp_path: Path) -> None:
    result = runner.invoke(app, ["circuit", "export", "poseidon", "--out", str(tmp_path / "x")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "x" / "poseidon.r1cs").stat().st_size > 0
    assert (tmp_path / "x" / "poseidon.wtns").stat().st_size == 12 + 2 * 12 + 40 + 32 * 250


def test_info_prints_counts_and_scopes() -> None:
    result = runner.invoke(app, ["circuit", "info", "merkle", "--preset", "minimal"])
    assert result.exit_code == 0, result.output
    system, _ = build_circuit("merkle", MINIMAL, setup=True)
    assert f"constraints:   {len(system.constraints)}" in result.output
    assert f"wires:         {system.num_wires}" in result.output
    assert "step0/merkle_update/old" in result.output


def test_unknown_names_fail_with_a_message() -> None:
    result = runner.invoke(app, ["circuit", "info", "sha256"])
    assert result.exit_code == 1
    assert "unknown circuit" in result.output
    result = runner.invoke(app, ["circuit", "info", "merkle", "--preset", "huge"])
    assert result.exit_code == 1
    assert "unknown preset" in result.output
