"""R1CS to QAP: the wire polynomials at tau (setup) and the quotient's evaluations (prove).

Constraint j sits at the domain point ``omega^j``. After the m constraints come one row per
public wire i = 0 .. num_public (the constant wire included) with ``A = w_i`` and ``B = C = 0``,
as in snarkjs and arkworks: it makes the public inputs' polynomials linearly independent, which
Groth16's soundness needs. The domain is the smallest power of two holding all those rows.

The quotient ``h = (A*B - C) / Z`` is never interpolated. The prover evaluates ``A*B - C`` on
the coset ``7*H`` (where ``Z = X^n - 1`` is the constant ``7^n - 1``), and setup puts the
coset's Lagrange basis, scaled by ``Z(tau) / (delta * (7^n - 1))``, into the key's H query; so
the H part of the proof is one MSM over those evaluations: six NTTs in all, no division.
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.r1cs import ConstraintSystem, Rows
from protocol.field import R
from prover.ntt import GENERATOR, Domain
from prover.transform import CosetTransform, get_transform


def domain_for(cs: ConstraintSystem) -> Domain:
    """The evaluation domain: room for every constraint and one row per public wire."""
    return Domain.at_least(len(cs.constraints) + cs.num_public + 1)


def batch_inverse(values: Sequence[int]) -> list[int]:
    """Inverses of non-zero field elements with one exponentiation (Montgomery's trick)."""
    prefix, acc = [], 1
    for v in values:
        prefix.append(acc)
        acc = acc * v % R
    inv = pow(acc, R - 2, R)
    out = [0] * len(values)
    for i in range(len(values) - 1, -1, -1):
        out[i] = inv * prefix[i] % R
        inv = inv * values[i] % R
    return out


def lagrange_at(points: Sequence[int], vanishing_at_tau: int, scale: int, tau: int) -> list[int]:
    """``L_j(tau)`` for the basis of a domain or coset of size n with ``x_j^n`` constant.

    ``L_j(X) = (X^n - x_j^n) * x_j / (n * x_j^n * (X - x_j))``; the caller passes
    ``vanishing_at_tau = tau^n - x_j^n`` and ``scale = 1 / (n * x_j^n)``.
    """
    inverses = batch_inverse([(tau - x) % R for x in points])
    common = vanishing_at_tau * scale % R
    return [common * x % R * d % R for x, d in zip(points, inverses, strict=True)]


def domain_lagrange_at(domain: Domain, tau: int) -> list[int]:
    n = domain.size
    return lagrange_at(domain.elements(), (pow(tau, n, R) - 1) % R, pow(n, R - 2, R), tau)


def coset_lagrange_at(domain: Domain, tau: int) -> list[int]:
    n = domain.size
    shift_n = pow(GENERATOR, n, R)
    points = [GENERATOR * x % R for x in domain.elements()]
    scale = pow(n * shift_n % R, R - 2, R)
    return lagrange_at(points, (pow(tau, n, R) - shift_n) % R, scale, tau)


def wire_polynomials_at(
    cs: ConstraintSystem, domain: Domain, tau: int
) -> tuple[list[int], list[int], list[int]]:
    """``(u_i(tau), v_i(tau), w_i(tau))`` for every wire i: the QAP's A, B, C columns."""
    lag = domain_lagrange_at(domain, tau)
    u, v, w = ([0] * cs.num_wires for _ in range(3))
    for j, con in enumerate(cs.constraints):
        lj = lag[j]
        for column, lc in ((u, con.a), (v, con.b), (w, con.c)):
            for i, coeff in lc.items():
                column[i] += coeff * lj
    m = len(cs.constraints)
    for i in range(cs.num_public + 1):
        u[i] += lag[m + i]
    return [x % R for x in u], [x % R for x in v], [x % R for x in w]


def constraint_evaluations(
    cs: ConstraintSystem, witness: Sequence[int], domain: Domain, rows: Rows | None = None
) -> tuple[list[int], list[int], list[int]]:
    """``<A_j, w>``, ``<B_j, w>``, ``<C_j, w>`` at every domain point (zero-padded); ``rows``
    are the constraints' own rows when the caller has them already (``cs.checked_rows``)."""
    a, b, c = rows or cs.rows(witness)
    pad = domain.size - len(a) - cs.num_public - 1
    zeros = [0] * (domain.size - len(a))
    return a + list(witness[: cs.num_public + 1]) + [0] * pad, b + zeros, c + zeros


def quotient_evaluations(
    cs: ConstraintSystem,
    witness: Sequence[int],
    domain: Domain,
    transform: CosetTransform | None = None,
    rows: Rows | None = None,
) -> list[int]:
    """``A*B - C`` on the coset ``7*H``, natural order: the scalars of the H-query MSM."""
    a, b, c = constraint_evaluations(cs, witness, domain, rows)
    return (transform or get_transform()).quotient_on_coset(a, b, c)
