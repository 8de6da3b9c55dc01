"""DESIGN.md: imports go one way. protocol imports nothing of ours; circuits -> protocol;
prover -> circuits, protocol; sequencer -> protocol, circuits, prover; scripts -> anything."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"protocol", "circuits", "prover", "sequencer", "scripts"}
ALLOWED = {
    "protocol": set(),
    "circuits": {"protocol"},
    "prover": {"circuits", "protocol"},
    "sequencer": {"protocol", "circuits", "prover"},
    "scripts": OURS - {"scripts"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & OURS


def violations(package: str) -> list[str]:
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for dep in sorted(imported_packages(path) - ALLOWED[package] - {package}):
            bad.append(f"{path.relative_to(ROOT)} imports {dep}")
    return bad


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_go_one_way(package: str) -> None:
    assert violations(package) == []


def test_the_guard_catches_a_wrong_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import sequencer.api\nfrom prover import groth16\nimport os\n")
    assert imported_packages(bad) == {"sequencer", "prover"}
