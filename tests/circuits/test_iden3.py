"""The iden3 files: their layout read back here, and the pinned snarkjs accepting them."""

from __future__ import annotations

import re
import struct
import subprocess
from pathlib import Path

import pytest

from circuits.catalog import CIRCUIT_NAMES, build_circuit
from circuits.iden3 import r1cs_bytes, write_r1cs, write_wtns, wtns_bytes
from circuits.r1cs import UnsatisfiedConstraintError
from protocol.field import R
from protocol.params import MINIMAL

ROOT = Path(__file__).resolve().parents[2]
SNARKJS = ROOT / "node_modules" / "snarkjs" / "build" / "cli.cjs"


def sections(data: bytes, magic: bytes, version: int) -> dict[int, bytes]:
    assert data[:4] == magic
    found_version, count = struct.unpack_from("<II", data, 4)
    assert found_version == version
    found, pos = {}, 12
    for _ in range(count):
        kind, size = struct.unpack_from("<IQ", data, pos)
        found[kind] = data[pos + 12 : pos + 12 + size]
        pos += 12 + size
    assert pos == len(data)
    return found


def test_r1cs_layout() -> None:
    system, _ = build_circuit("merkle", MINIMAL, setup=True)
    parts = sections(r1cs_bytes(system), b"r1cs", 1)
    header = parts[1]
    assert struct.unpack_from("<I", header)[0] == 32
    assert int.from_bytes(header[4:36], "little") == R
    wires, outputs, public, private, labels, count = struct.unpack_from("<IIIIQI", header, 36)
    assert (wires, outputs, public, private) == (system.num_wires, 0, 2, 0)
    assert (labels, count) == (system.num_wires, len(system.constraints))
    first = system.constraints[0]
    n_terms = struct.unpack_from("<I", parts[2])[0]
    assert n_terms == len(first.a)
    assert len(parts[3]) == 8 * system.num_wires


def test_wtns_layout() -> None:
    witness = [1, 2, R - 1]
    parts = sections(wtns_bytes(witness), b"wtns", 2)
    assert parts[1] == struct.pack("<I", 32) + R.to_bytes(32, "little") + struct.pack("<I", 3)
    assert parts[2] == b"".join(v.to_bytes(32, "little") for v in witness)


def snarkjs(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", str(SNARKJS), *args], capture_output=True, text=True, timeout=120, check=False
    )


def export(name: str, out: Path) -> tuple[Path, Path, list[int]]:
    system, witness = build_circuit(name, MINIMAL)
    assert witness is not None
    r1cs, wtns = out / f"{name}.r1cs", out / f"{name}.wtns"
    write_r1cs(system, r1cs)
    write_wtns(witness, wtns)
    return r1cs, wtns, witness


@pytest.mark.snarkjs
@pytest.mark.parametrize("name", CIRCUIT_NAMES)
def test_snarkjs_accepts_the_exported_circuits(name: str, tmp_path: Path) -> None:
    system, _ = build_circuit(name, MINIMAL, setup=True)
    r1cs, wtns, _ = export(name, tmp_path)
    info = snarkjs("r1cs", "info", str(r1cs))
    assert info.returncode == 0, info.stdout + info.stderr
    assert "bls12-381" in info.stdout
    assert f"# of Constraints: {len(system.constraints)}" in info.stdout
    assert f"# of Public Inputs: {system.num_public}" in info.stdout
    check = snarkjs("wtns", "check", str(r1cs), str(wtns))
    assert check.returncode == 0, check.stdout + check.stderr
    assert "WITNESS IS CORRECT" in check.stdout


@pytest.mark.snarkjs
def test_snarkjs_rejects_a_corrupted_witness_at_the_constraint_we_name(tmp_path: Path) -> None:
    system, _ = build_circuit("merkle", MINIMAL, setup=True)
    r1cs, wtns, witness = export("merkle", tmp_path)
    witness[100] = (witness[100] + 1) % R
    write_wtns(witness, wtns)
    with pytest.raises(UnsatisfiedConstraintError) as ours:
        system.check(witness)
    check = snarkjs("wtns", "check", str(r1cs), str(wtns))
    assert check.returncode != 0
    assert "WITNESS IS NOT CORRECT" in check.stdout
    found = re.search(r"aborting checking process at constraint (\d+)", check.stdout)
    assert found is not None and int(found.group(1)) == ours.value.index
