"""The QAP identity: for a satisfying witness, A(tau) B(tau) - C(tau) == h(tau) Z(tau), where h
is what the prover feeds the H-query MSM (its evaluations on the coset 7H)."""

from __future__ import annotations

import random

import pytest

from circuits.r1cs import ConstraintSystem
from protocol.field import R
from prover.ntt import GENERATOR
from prover.qap import (
    batch_inverse,
    coset_lagrange_at,
    domain_for,
    quotient_evaluations,
    wire_polynomials_at,
)
from prover.transform import TRANSFORM_NAMES, get_transform
from tests.prover.circuits import chain, toy


def qap_gap(cs: ConstraintSystem, witness: list[int], tau: int, transform: str = "arkworks") -> int:
    """``A(tau) B(tau) - C(tau) - h(tau) Z(tau)``: zero iff the witness satisfies ``cs``."""
    domain = domain_for(cs)
    u, v, w = wire_polynomials_at(cs, domain, tau)
    a, b, c = (sum(x * y for x, y in zip(col, witness, strict=True)) % R for col in (u, v, w))
    n = domain.size
    scale = pow(pow(GENERATOR, n, R) - 1, R - 2, R)
    evals = quotient_evaluations(cs, witness, domain, get_transform(transform))
    h = sum(e * lag for e, lag in zip(evals, coset_lagrange_at(domain, tau), strict=True)) * scale
    return (a * b - c - h * (pow(tau, n, R) - 1)) % R


@pytest.mark.parametrize("transform", TRANSFORM_NAMES)
def test_identity_holds_for_satisfying_witnesses(transform: str) -> None:
    rng = random.Random(5)
    for cs, witness in (toy(3), chain(20)):
        assert qap_gap(cs, witness, rng.randrange(R), transform) == 0


def test_identity_breaks_for_a_bad_witness() -> None:
    cs, witness = chain(20)
    witness[5] = (witness[5] + 1) % R
    assert qap_gap(cs, witness, random.Random(6).randrange(R)) != 0


def test_public_rows_make_the_domain_bigger() -> None:
    cs, _ = toy(num_public=6)  # 7 constraints + 7 public rows -> 16
    assert len(cs.constraints) == 7 and domain_for(cs).size == 16


def test_batch_inverse() -> None:
    values = [3, 5, R - 1, 123456789]
    assert [x * y % R for x, y in zip(values, batch_inverse(values), strict=True)] == [1] * 4
