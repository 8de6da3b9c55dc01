"""Booleans: a wire constrained to 0 or 1, and the logic on such wires.

Native twins: Python's ``&``, ``|`` and ``1 - b`` on 0/1 integers. Inputs of ``and_``, ``or_``
and ``not_`` must already be boolean-constrained; their outputs then are too.
"""

from __future__ import annotations

from circuits.r1cs import ZERO, Builder, LinearCombination


def assert_boolean(cs: Builder, x: LinearCombination, name: str = "boolean") -> None:
    """Constrain ``x * (x - 1) == 0``: one constraint."""
    cs.assert_mul(x, x - 1, ZERO, name)


def not_(x: LinearCombination) -> LinearCombination:
    """``1 - x``: linear, no constraint."""
    return 1 - x


def and_(cs: Builder, a: LinearCombination, b: LinearCombination) -> LinearCombination:
    """``a AND b``: one constraint."""
    return cs.mul(a, b, "and")


def or_(cs: Builder, a: LinearCombination, b: LinearCombination) -> LinearCombination:
    """``a OR b = a + b - a*b``: one constraint."""
    return a + b - cs.mul(a, b, "or")
