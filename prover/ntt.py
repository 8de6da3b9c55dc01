"""Number-theoretic transforms over Fr on evaluation domains of size 2^k.

The transform is a radix-2 decimation in frequency with Pease's constant geometry: every stage
reads the two halves of the vector and writes their sums and twiddled differences interleaved,
so a stage is two list comprehensions and two slice assignments, with no Python loop over
blocks. Its output comes out bit-reversed; one gather puts it in natural order.

Values are reduced lazily: sums are left unreduced between stages (Python ints do not
overflow), products are reduced, and results are reduced once at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from protocol.field import ODD_PART, TWO_ADICITY, R

GENERATOR = 7  # generates Fr*; also the coset shift: 7^n != 1 for every n = 2^k
_ROOT_2_32 = pow(GENERATOR, ODD_PART, R)  # a primitive 2^32-th root of unity


class DomainTooLargeError(ValueError):
    """Fr has 2^32-th roots of unity and no more."""


def root_of_unity(log_size: int) -> int:
    """A primitive ``2^log_size``-th root of unity."""
    if not 0 <= log_size <= TWO_ADICITY:
        raise DomainTooLargeError(f"no domain of size 2^{log_size} in Fr (max 2^{TWO_ADICITY})")
    return pow(_ROOT_2_32, 1 << (TWO_ADICITY - log_size), R)


def bit_reverse(i: int, log_size: int) -> int:
    return int(format(i, f"0{log_size}b")[::-1], 2) if log_size else 0


@cache
def bit_reversal(log_size: int) -> list[int]:
    """The permutation ``p -> rev(p)`` on ``log_size`` bits."""
    return [bit_reverse(p, log_size) for p in range(1 << log_size)]


@dataclass(frozen=True)
class Domain:
    """The multiplicative subgroup H of order ``size = 2^log_size`` and its coset ``7 * H``."""

    log_size: int
    omega: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "omega", root_of_unity(self.log_size))

    @property
    def size(self) -> int:
        return 1 << self.log_size

    @classmethod
    def at_least(cls, count: int) -> Domain:
        """The smallest domain with ``count`` points or more."""
        return cls(max(1, (count - 1).bit_length()))

    def elements(self) -> list[int]:
        """``omega^j`` for j = 0 .. size-1."""
        out, x = [], 1
        for _ in range(self.size):
            out.append(x)
            x = x * self.omega % R
        return out


@cache
def stage_twiddles(log_size: int, inverse: bool) -> tuple[list[int], ...]:
    """Per stage s, per position i < n/2: ``w^((i >> s) << s)`` with w = omega or omega^-1."""
    half = 1 << (log_size - 1)
    w = root_of_unity(log_size)
    if inverse:
        w = pow(w, R - 2, R)
    powers = [1] * half
    for i in range(1, half):
        powers[i] = powers[i - 1] * w % R
    return tuple([powers[(i >> s) << s] for i in range(half)] for s in range(log_size))


def dif(values: list[int], twiddles: tuple[list[int], ...]) -> list[int]:
    """Decimation in frequency: natural-order input, bit-reversed (unreduced) output."""
    x, half = values, len(values) // 2
    for tw in twiddles:
        lo, hi = x[:half], x[half:]
        y = [0] * len(x)
        y[0::2] = [u + v for u, v in zip(lo, hi, strict=True)]
        y[1::2] = [(u - v) * w % R for u, v, w in zip(lo, hi, tw, strict=True)]
        x = y
    return x


def ntt(values: list[int]) -> list[int]:
    """Evaluations at ``omega^j`` (natural order) of the polynomial with these coefficients."""
    log = _log2(len(values))
    out = dif(values, stage_twiddles(log, False))
    return [out[p] % R for p in bit_reversal(log)]


def intt(values: list[int]) -> list[int]:
    """Coefficients (natural order) of the polynomial with these evaluations at ``omega^j``."""
    log = _log2(len(values))
    n_inv = pow(len(values), R - 2, R)
    out = dif(values, stage_twiddles(log, True))
    return [out[p] * n_inv % R for p in bit_reversal(log)]


@cache
def coset_shift(log_size: int) -> list[int]:
    """``n^-1 * 7^i``: scales the coefficients (unscaled inverse transform) so that the next
    forward transform evaluates on the coset ``7 * H``."""
    powers = [pow(1 << log_size, R - 2, R)] * (1 << log_size)
    for i in range(1, len(powers)):
        powers[i] = powers[i - 1] * GENERATOR % R
    return powers


def to_coset(evaluations: list[int]) -> list[int]:
    """From evaluations on H to evaluations on ``7 * H`` (both natural order; unreduced)."""
    log = _log2(len(evaluations))
    rev = bit_reversal(log)
    coeffs = dif(evaluations, stage_twiddles(log, True))
    shifted = [coeffs[p] * s % R for p, s in zip(rev, coset_shift(log), strict=True)]
    out = dif(shifted, stage_twiddles(log, False))
    return [out[p] for p in rev]


def _log2(n: int) -> int:
    log = n.bit_length() - 1
    if n < 2 or n != 1 << log:
        raise ValueError(f"an NTT needs a power-of-two length of at least 2, got {n}")
    return log
