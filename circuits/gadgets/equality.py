"""Is-zero and is-equal (native twins: ``int(x == 0)``, ``int(a == b)``)."""

from __future__ import annotations

from circuits.r1cs import ONE, ZERO, Builder, LinearCombination
from protocol.field import R


def _inverse_or_zero(x: int) -> int:
    return pow(x, -1, R) if x else 0


def is_zero(cs: Builder, x: LinearCombination) -> LinearCombination:
    """1 if ``x == 0`` else 0: a hinted inverse and two constraints.

    ``out = 1 - x * inv`` and ``x * out == 0``: for ``x != 0`` the second forces ``out = 0``;
    for ``x == 0`` the first forces ``out = 1`` whatever ``inv`` is.
    """
    with cs.scope("is_zero"):
        inv = cs.hint("inverse", _inverse_or_zero, x)
        out = ONE - cs.mul(x, inv, "x_times_inverse")
        cs.assert_mul(x, out, ZERO, "x_times_out_is_zero")
    return out


def is_equal(cs: Builder, a: LinearCombination, b: LinearCombination) -> LinearCombination:
    """1 if ``a == b`` else 0: ``is_zero(a - b)``."""
    return is_zero(cs, a - b)
