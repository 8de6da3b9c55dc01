"""NTTs against the O(n^2) definition; the coset transform; domain bounds."""

from __future__ import annotations

import random

import pytest

from protocol.field import R
from prover.ntt import (
    GENERATOR,
    Domain,
    DomainTooLargeError,
    intt,
    ntt,
    root_of_unity,
    to_coset,
)


def naive_eval(coeffs: list[int], points: list[int]) -> list[int]:
    return [sum(c * pow(x, i, R) for i, c in enumerate(coeffs)) % R for x in points]


@pytest.mark.parametrize("log", [1, 2, 3, 5, 7])
def test_ntt_matches_definition_and_inverts(log: int) -> None:
    rng = random.Random(log)
    coeffs = [rng.randrange(R) for _ in range(1 << log)]
    domain = Domain(log).elements()
    evals = ntt(coeffs)
    assert evals == naive_eval(coeffs, domain)
    assert intt(evals) == coeffs


@pytest.mark.parametrize("log", [1, 4, 6])
def test_to_coset_evaluates_on_the_shifted_domain(log: int) -> None:
    rng = random.Random(100 + log)
    coeffs = [rng.randrange(R) for _ in range(1 << log)]
    coset = [GENERATOR * x % R for x in Domain(log).elements()]
    assert [v % R for v in to_coset(ntt(coeffs))] == naive_eval(coeffs, coset)


def test_roots_have_exact_order() -> None:
    for log in (1, 8, 32):
        w = root_of_unity(log)
        assert pow(w, 1 << log, R) == 1 and pow(w, 1 << (log - 1), R) == R - 1
    with pytest.raises(DomainTooLargeError):
        root_of_unity(33)


def test_domain_sizes() -> None:
    assert Domain.at_least(5).size == 8
    assert Domain.at_least(8).size == 8
    assert Domain.at_least(1).size == 2
    with pytest.raises(ValueError, match="power-of-two length of at least 2, got 3"):
        ntt([1, 2, 3])
