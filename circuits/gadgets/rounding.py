"""Rounded division by a constant (native twin: ``-(-x // d)``, the ceiling that every margin,
fee and funding charge of ``protocol`` uses, for signed or unsigned ``x``).

The quotient ``u`` is hinted and proven by ``d * u - x = rem`` with ``0 <= rem < d`` (two range
checks of ``rem`` and ``d - 1 - rem``) and ``u`` range-checked to the width its bound allows:
then ``d * u - x`` cannot wrap around the field, so ``rem`` is the integer remainder and ``u``
exactly ``ceil(x / d)``. Without the range check on ``u`` any ``rem`` would do: ``(x + rem) / d``
always exists in the field.
"""

from __future__ import annotations

from circuits.gadgets.bits import assert_range, assert_signed_range
from circuits.r1cs import Builder, LinearCombination
from protocol.field import to_signed


def quotient_bits(x_bits: int, divisor: int) -> int:
    """A width ``n`` with ``|ceil(x / d)| < 2^n`` for ``|x| < 2^x_bits``."""
    return max(1, x_bits - divisor.bit_length() + 2)


def ceil_div(
    cs: Builder, x: LinearCombination, divisor: int, x_bits: int, signed: bool, name: str
) -> LinearCombination:
    """``ceil(x / divisor)`` for ``0 <= x < 2^x_bits`` (``signed``: ``|x| < 2^x_bits``, carried
    as ``x mod r``). ``2 * (k + 1) + n + 1`` constraints (``+ 1`` signed), ``k`` the divisor's
    width and ``n = quotient_bits``."""
    k, n = divisor.bit_length(), quotient_bits(x_bits, divisor)
    with cs.scope(name):
        u = cs.hint("quotient", lambda v: -(-to_signed(v) // divisor), x)
        rem = u * divisor - x
        with cs.scope("remainder"):
            assert_range(cs, rem, k)
        with cs.scope("remainder_below_divisor"):
            assert_range(cs, divisor - 1 - rem, k)
        with cs.scope("quotient"):
            if signed:
                assert_signed_range(cs, u, n)
            else:
                assert_range(cs, u, n)
    return u
