"""Assertions that pin what they claim: ``pytest.raises`` of a broad exception (a builtin one,
or the catch-all errors of the field and the pubdata codec, each raised for many reasons) must
say which message it expects (``match=``), or a wrong error would pass for the right one."""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
BROAD = {
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
} | {"FieldError", "PubdataError"}


def find_bare_raises(source: str) -> list[str]:
    """``line: exception`` of every ``pytest.raises(BROAD)`` without ``match=``."""
    found = []
    for call in ast.walk(ast.parse(source)):
        if not (isinstance(call, ast.Call) and ast.unparse(call.func) == "pytest.raises"):
            continue
        names = {ast.unparse(arg).rsplit(".", 1)[-1] for arg in call.args[:1]}
        if names & BROAD and not any(k.arg == "match" for k in call.keywords):
            found.append(f"{call.lineno}: {ast.unparse(call.args[0])}")
    return found


def test_the_scan_finds_a_bare_raises() -> None:
    source = "with pytest.raises(ValueError):\n    f()\n"
    source += "with pytest.raises(KeyError, match='k'):\n    g()\n"
    assert find_bare_raises(source) == ["1: ValueError"]
    assert find_bare_raises("with pytest.raises(field.FieldError):\n    f()") == [
        "1: field.FieldError"
    ]
    assert find_bare_raises("with pytest.raises(InvalidNonce):\n    f()") == []


@pytest.mark.parametrize(
    "path", sorted(TESTS.rglob("*.py")), ids=lambda p: str(p.relative_to(TESTS))
)
def test_broad_exceptions_are_matched_by_message(path: Path) -> None:
    assert find_bare_raises(path.read_text()) == []
