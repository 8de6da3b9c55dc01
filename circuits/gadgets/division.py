"""Integer division with remainder (native twin: ``divmod(a, b)`` for ``a >= 0, b > 0``)."""

from __future__ import annotations

from circuits.gadgets.bits import SAFE_BITS, assert_range, assert_signed_range
from circuits.gadgets.compare import assert_less_than
from circuits.r1cs import Builder, LinearCombination
from protocol.field import to_signed


def _divmod_or_zero(a: int, b: int) -> tuple[int, int]:
    return divmod(a, b) if b else (0, a)


def div_rem(
    cs: Builder,
    a: LinearCombination,
    b: LinearCombination,
    quotient_bits: int,
    divisor_bits: int,
) -> tuple[LinearCombination, LinearCombination]:
    """``(q, rem)`` with ``a == q * b + rem`` and ``0 <= rem < b``, both hinted then proven.

    ``q < 2^quotient_bits`` and ``rem, b - rem - 1 < 2^divisor_bits`` are range-checked, so
    ``q * b + rem`` cannot wrap around the field and ``b >= 1``; a division by zero has no
    witness (its hint gives ``(0, a)``, which the last check rejects).
    ``quotient_bits + 2 * divisor_bits + 4`` constraints.
    """
    return _divide(cs, a, b, quotient_bits, divisor_bits, signed=False)


def _divide(
    cs: Builder,
    a: LinearCombination,
    b: LinearCombination,
    quotient_bits: int,
    divisor_bits: int,
    signed: bool,
) -> tuple[LinearCombination, LinearCombination]:
    """``div_rem``, or ``floor_div`` with ``signed`` (a signed ``a`` and quotient)."""
    if quotient_bits + divisor_bits + 1 + signed >= SAFE_BITS:
        raise ValueError("quotient and divisor too wide: q * b + rem could wrap around r")
    hint = _floor_divmod_or_zero if signed else _divmod_or_zero
    with cs.scope("div_rem"):
        q, rem = cs.hints("quotient_remainder", 2, hint, a, b)
        cs.assert_mul(q, b, a - rem, "a_is_q_times_b_plus_rem")
        with cs.scope("quotient"):
            (assert_signed_range if signed else assert_range)(cs, q, quotient_bits)
        with cs.scope("remainder"):
            assert_range(cs, rem, divisor_bits)
        assert_less_than(cs, rem, b, divisor_bits, "remainder_lt_divisor")
    return q, rem


def _floor_divmod_or_zero(a: int, b: int) -> tuple[int, int]:
    return divmod(to_signed(a), b) if b else (0, a)


def floor_div(
    cs: Builder,
    a: LinearCombination,
    b: LinearCombination,
    quotient_bits: int,
    divisor_bits: int,
) -> LinearCombination:
    """``a // b`` (the floor) for a signed ``a`` (carried as ``a mod r``) and ``b > 0``:
    ``a == q * b + rem`` with ``0 <= rem < b``, both hinted then proven, ``|q| < 2^quotient_bits``
    (signed range) and ``rem, b - rem - 1 < 2^divisor_bits``, so that ``q * b + rem`` cannot
    wrap around the field. ``quotient_bits + 2 * divisor_bits + 5`` constraints."""
    return _divide(cs, a, b, quotient_bits, divisor_bits, signed=True)[0]
