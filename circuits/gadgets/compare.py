"""Bounded comparators (native twins: ``int(a < b)``, ``int(a <= b)`` on ints).

"Bounded": the inputs must already be constrained to their width (``[0, 2^n)`` unsigned, or
``[-2^n, 2^n)`` signed, carried as ``v mod r``); the comparison is then exact.
"""

from __future__ import annotations

from circuits.gadgets.bits import SAFE_BITS, assert_range, to_bits
from circuits.r1cs import Builder, LinearCombination


def less_than(cs: Builder, a: LinearCombination, b: LinearCombination, n: int) -> LinearCombination:
    """1 if ``a < b`` for ``a, b`` in ``[0, 2^n)``, else 0: ``n + 2`` constraints.

    ``a - b + 2^n`` lies in ``[1, 2^(n+1))``; its top bit is 1 exactly when ``a >= b``.
    """
    if n >= SAFE_BITS:
        raise ValueError(f"comparators take at most {SAFE_BITS - 1} bits")
    with cs.scope("less_than"):
        bits = to_bits(cs, a - b + (1 << n), n + 1)
    return 1 - bits[n]


def less_or_equal(
    cs: Builder, a: LinearCombination, b: LinearCombination, n: int
) -> LinearCombination:
    """1 if ``a <= b`` for ``a, b`` in ``[0, 2^n)``, else 0."""
    return 1 - less_than(cs, b, a, n)


def signed_less_than(
    cs: Builder, a: LinearCombination, b: LinearCombination, n: int
) -> LinearCombination:
    """1 if ``a < b`` for signed ``a, b`` in ``[-2^n, 2^n)``, else 0: ``n + 3`` constraints."""
    return less_than(cs, a + (1 << n), b + (1 << n), n + 1)


def assert_less_than(
    cs: Builder, a: LinearCombination, b: LinearCombination, n: int, name: str = "less_than"
) -> None:
    """Constrain ``a < b`` where ``b - a - 1`` must fit ``n`` bits: ``n + 1`` constraints."""
    with cs.scope(name):
        assert_range(cs, b - a - 1, n)
