"""The native QAP transform: arkworks' FFTs through ``ark-algebra-py``.

Per vector: one inverse FFT on H (``Domain.interpolate``), the coefficients scaled by ``7^i``
(so that the next transform evaluates on the coset ``7*H``), one forward FFT
(``evaluate_over_domain``); then ``A*B - C`` pointwise, all in native scalars.

Crossing into and out of native scalars costs about a microsecond an element, more than the
FFTs themselves, so the crossings are few: zero, one and small values (most of a circuit's
constraint evaluations: bits, flags, the padding rows) take shortcuts, and the scaled powers of
7 are cached per domain.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from ark_algebra_py import Domain, Polynomial, Scalar

from protocol.field import R
from prover.ntt import GENERATOR

_SMALL = 1 << 63  # Scalar(int) takes a signed 64-bit integer
_ZERO, _ONE = Scalar.zero(), Scalar.one()


def to_native(values: Sequence[int], modulus: int = R) -> list[Scalar]:
    """Ints reduced mod r as native scalars (small ones, and small negatives, take a shortcut)."""
    from_le, zero, one, small, big = Scalar.from_le_bytes, _ZERO, _ONE, _SMALL, modulus - _SMALL
    return [
        zero if v == 0
        else one if v == 1
        else Scalar(v) if v < small
        else Scalar(v - modulus) if v > big
        else from_le(v.to_bytes(32, "little"))
        for v in values
    ]  # fmt: skip


def from_native(values: Sequence[Scalar]) -> list[int]:
    from_bytes = int.from_bytes
    return [from_bytes(v.to_le_bytes(), "little") for v in values]


@cache
def _domain(log_size: int) -> tuple[Domain, list[Scalar]]:
    """The domain of size 2^log_size and the coset shift's powers ``7^i``."""
    powers, x, g = [], _ONE, Scalar(GENERATOR)
    for _ in range(1 << log_size):
        powers.append(x)
        x = x * g
    return Domain(1 << log_size), powers


def coset_evaluations(values: list[Scalar], log_size: int) -> list[Scalar]:
    """From evaluations on H to evaluations on ``7*H`` (natural order)."""
    domain, powers = _domain(log_size)
    coeffs = domain.interpolate(values).coefficients()  # trailing zeros trimmed
    shifted = Polynomial([c * p for c, p in zip(coeffs, powers, strict=False)])
    return shifted.evaluate_over_domain(domain)


class ArkTransform:
    """The default transform (see prover.transform.CosetTransform)."""

    name = "arkworks"

    def quotient_on_coset(self, a: Sequence[int], b: Sequence[int], c: Sequence[int]) -> list[int]:
        log = len(a).bit_length() - 1
        if len(a) < 2 or len(a) != 1 << log or not len(a) == len(b) == len(c):
            raise ValueError(f"the QAP needs three power-of-two vectors, got {len(a)}")
        ca, cb, cc = (coset_evaluations(to_native(v), log) for v in (a, b, c))
        return from_native([x * y - z for x, y, z in zip(ca, cb, cc, strict=True)])
