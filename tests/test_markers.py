"""Tests that start Anvil carry the ``devnet`` marker: through a fixture, tests/conftest.py
refuses to collect them otherwise; through the command line (``zkperp devnet up``), this scan
finds them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def is_devnet_marker(node: ast.expr) -> bool:
    return ast.unparse(node).startswith("pytest.mark.devnet")


def starts_anvil(function: ast.FunctionDef) -> bool:
    """Whether the test runs ``devnet up`` (the words as consecutive string arguments)."""
    for call in ast.walk(function):
        if isinstance(call, ast.Call):
            words = [a.value for a in call.args if isinstance(a, ast.Constant)]
            if any(words[i : i + 2] == ["devnet", "up"] for i in range(len(words))):
                return True
    return False


def module_marks(tree: ast.Module) -> list[ast.expr]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            value = node.value
            return list(value.elts) if isinstance(value, ast.List | ast.Tuple) else [value]
    return []


def find_unmarked(source: str) -> list[str]:
    tree = ast.parse(source)
    if any(is_devnet_marker(m) for m in module_marks(tree)):
        return []
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and node.name.startswith("test_")
        and starts_anvil(node)
        and not any(is_devnet_marker(d) for d in node.decorator_list)
    ]


def test_the_scan_finds_a_test_that_runs_devnet_up_unmarked() -> None:
    source = 'def test_a():\n    zkperp(tmp, "devnet", "up")\n'
    assert find_unmarked(source) == ["test_a"]
    assert find_unmarked("import pytest\n@pytest.mark.devnet\n" + source) == []
    assert find_unmarked("import pytest\npytestmark = [pytest.mark.devnet]\n" + source) == []


@pytest.mark.parametrize("path", sorted(TESTS.rglob("test_*.py")), ids=lambda p: p.name)
def test_every_test_that_starts_anvil_is_marked_devnet(path: Path) -> None:
    assert find_unmarked(path.read_text()) == []
