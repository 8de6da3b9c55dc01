"""Bit decompositions and range checks (native twins: ``(x >> i) & 1`` and ``0 <= x < 2^n``).

Bits are little-endian (bit 0 first). A decomposition into ``n <= SAFE_BITS`` bits cannot wrap
around the field (``2^n < r``), so it is unique. A full decomposition into ``FIELD_BITS`` = 255
bits could also encode ``x + r``; ``to_bits_canonical`` closes that alias by proving the bits,
read as an integer, are at most ``r - 1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from circuits.gadgets.boolean import assert_boolean
from circuits.gadgets.equality import is_equal
from circuits.r1cs import ONE, ZERO, Builder, LinearCombination, constant
from protocol.field import R

FIELD_BITS = R.bit_length()  # 255
SAFE_BITS = FIELD_BITS - 2  # 253: every integer below 2^253 is below r


def from_bits(bits: Sequence[LinearCombination]) -> LinearCombination:
    """``sum(bits[i] * 2^i)``: linear, no constraint."""
    total = constant(0)
    for i, bit in enumerate(bits):
        total = total + bit * (1 << i)
    return total


def _decompose(cs: Builder, x: LinearCombination, n: int) -> list[LinearCombination]:
    bits = cs.hints("bits", n, lambda v: [(v >> i) & 1 for i in range(n)], x)
    for i, bit in enumerate(bits):
        assert_boolean(cs, bit, f"bit{i}_boolean")
    cs.assert_equal(from_bits(bits), x, "bits_sum")
    return bits


def _check_width(n: int) -> None:
    if not 0 < n <= SAFE_BITS:
        raise ValueError(f"takes 1..{SAFE_BITS} bits, not {n}; see to_bits_canonical")


def to_bits(cs: Builder, x: LinearCombination, n: int) -> list[LinearCombination]:
    """The ``n`` bits of ``x`` (``n <= 253``); proves ``0 <= x < 2^n``. ``n + 1`` constraints."""
    _check_width(n)
    with cs.scope("to_bits"):
        return _decompose(cs, x, n)


def to_bits_canonical(cs: Builder, x: LinearCombination) -> list[LinearCombination]:
    """All 255 bits of the field element ``x``, proven to be the canonical ones (< r)."""
    with cs.scope("to_bits_canonical"):
        bits = _decompose(cs, x, FIELD_BITS)
        assert_bits_at_most(cs, bits, R - 1, "canonical")
    return bits


def assert_range(cs: Builder, x: LinearCombination, n: int) -> None:
    """Constrain ``0 <= x < 2^n`` (``n <= 253``): ``n + 1`` constraints."""
    _check_width(n)
    with cs.scope("range"):
        _decompose(cs, x, n)


def assert_signed_range(cs: Builder, x: LinearCombination, n: int) -> None:
    """Constrain the signed value ``x`` (carried as ``x mod r``) to ``-2^n <= x < 2^n``."""
    _check_width(n + 1)
    with cs.scope("signed_range"):
        _decompose(cs, x + (1 << n), n + 1)


def _and_all(cs: Builder, bits: list[LinearCombination]) -> LinearCombination:
    """1 if every (boolean) bit is 1: a product for two bits, an is-equal on their sum above."""
    if len(bits) == 1:
        return bits[0]
    if len(bits) == 2:
        return cs.mul(bits[0], bits[1], "both_one")
    return is_equal(cs, sum(bits, ZERO), constant(len(bits)))


def assert_bits_at_most(
    cs: Builder, bits: Sequence[LinearCombination], bound: int, name: str = "at_most"
) -> None:
    """Constrain the (boolean) little-endian ``bits`` to encode an integer ``<= bound``.

    Walks the bound's runs of equal bits from the top, keeping ``eq``: 1 while the bits so far
    equal the bound's. Where the bound has a run of zeros, ``eq * sum(run) == 0`` (one
    constraint per run); a run of ones updates ``eq`` (at most three constraints).
    """
    if not 0 <= bound < 1 << len(bits):
        raise ValueError("the bound must fit in the bits")
    top_first = [int(b) for b in format(bound, f"0{len(bits)}b")]
    runs = [(b, len(list(g))) for b, g in groupby(top_first)]
    with cs.scope(name):
        eq, pos = ONE, len(bits)
        for k, (bit, length) in enumerate(runs):
            run = list(bits[pos - length : pos])
            pos -= length
            if bit == 0:
                cs.assert_mul(eq, sum(run, ZERO), ZERO, f"bits{pos + length - 1}_{pos}_not_above")
            elif any(b == 0 for b, _ in runs[k + 1 :]):
                eq = cs.mul(eq, _and_all(cs, run), f"prefix_equal_to_bit{pos}")
