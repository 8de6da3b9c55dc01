"""The native QAP transform against the pure-Python reference, and against the definition."""

from __future__ import annotations

import random

import pytest

from protocol.field import R
from prover.ark_transform import from_native, to_native
from prover.ntt import GENERATOR, Domain, intt
from prover.transform import (
    TRANSFORM_NAMES,
    PureTransform,
    UnknownTransformError,
    get_transform,
)


def edge_values(rng: random.Random, n: int) -> list[int]:
    """Random values mixed with the shortcut cases: 0, 1, small, just below r, 2^63 +- 1."""
    pool = [0, 1, 2, (1 << 63) - 1, 1 << 63, (1 << 63) + 1, R - 1, R - (1 << 63), R - (1 << 63) - 1]
    return [rng.choice(pool) if rng.random() < 0.5 else rng.randrange(R) for _ in range(n)]


def naive_quotient(a: list[int], b: list[int], c: list[int]) -> list[int]:
    """``A*B - C`` at ``7 * omega^j`` from the interpolated coefficients, term by term."""
    coset = [GENERATOR * x % R for x in Domain(len(a).bit_length() - 1).elements()]

    def at(values: list[int], x: int) -> int:
        return sum(k * pow(x, i, R) for i, k in enumerate(intt(values))) % R

    return [(at(a, x) * at(b, x) - at(c, x)) % R for x in coset]


def test_scalar_round_trip_takes_every_shortcut() -> None:
    values = edge_values(random.Random(1), 300)
    assert from_native(to_native(values)) == values


@pytest.mark.parametrize("log", [1, 3, 6])
def test_both_transforms_match_the_definition(log: int) -> None:
    rng = random.Random(log)
    a, b, c = (edge_values(rng, 1 << log) for _ in range(3))
    expected = naive_quotient(a, b, c)
    for name in TRANSFORM_NAMES:
        assert get_transform(name).quotient_on_coset(a, b, c) == expected, name


@pytest.mark.parametrize("log", [10, 13])
def test_native_agrees_with_the_reference(log: int) -> None:
    rng = random.Random(100 + log)
    a, b, c = (edge_values(rng, 1 << log) for _ in range(3))
    c[: 1 << (log - 1)] = [0] * (1 << (log - 1))  # padding rows, as in a real circuit
    assert get_transform("arkworks").quotient_on_coset(
        a, b, c
    ) == PureTransform().quotient_on_coset(a, b, c)


def test_all_zero_vectors() -> None:
    zeros = [0] * 16
    assert get_transform("arkworks").quotient_on_coset(zeros, zeros, zeros) == zeros


def test_bad_lengths_and_names_are_refused() -> None:
    with pytest.raises(ValueError, match="power-of-two vectors, got 3"):
        get_transform("arkworks").quotient_on_coset([1, 2, 3], [1, 2, 3], [1, 2, 3])
    with pytest.raises(ValueError, match="power-of-two vectors, got 2"):
        get_transform("arkworks").quotient_on_coset([1, 2], [1, 2, 3, 4], [1, 2])
    with pytest.raises(UnknownTransformError):
        get_transform("numpy")
