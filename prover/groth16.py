"""Groth16 prove and verify.

Proving overlaps its two kinds of work: the wire MSMs (A, B in G1 and G2, C) run on threads in
native code without the GIL, while the calling thread computes the quotient's coset
evaluations in Python (six NTTs); the H MSM follows.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from circuits.r1cs import ConstraintSystem, Rows
from protocol.field import R
from prover.backend import Backend, InvalidPointError, Point, get_backend
from prover.keys import ProvingKey, VerifyingKey
from prover.ntt import Domain
from prover.qap import quotient_evaluations
from prover.transform import CosetTransform, get_transform

_TASKS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="prove")


@dataclass(frozen=True)
class Proof:
    """``(A, B, C)`` in the backends' canonical bytes (G1, G2, G1)."""

    a: bytes
    b: bytes
    c: bytes


class _Query:
    """One query of the key as native points, with the identity points left out."""

    def __init__(self, points: Sequence[bytes], decode: Any, offset: int = 0) -> None:
        keep = [i for i, p in enumerate(points) if any(p)]
        self.indices = [i + offset for i in keep]
        self.points = [decode(points[i], trusted=True) for i in keep]

    def scalars(self, witness: Sequence[int]) -> tuple[list[Any], list[int]]:
        """The points and witness values of this query, dropping zero values."""
        pairs = [(p, witness[i]) for p, i in zip(self.points, self.indices, strict=True)]
        pairs = [(p, k) for p, k in pairs if k]
        return [p for p, _ in pairs], [k for _, k in pairs]


class Prover:
    """A proving key decoded once into a backend's points; ``prove`` many witnesses with it."""

    def __init__(
        self,
        pk: ProvingKey,
        backend: Backend | None = None,
        transform: CosetTransform | None = None,
    ) -> None:
        be = self.backend = backend or get_backend()
        self.transform = transform or get_transform()
        self.pk = pk
        g1, g2 = be.g1_from_bytes, be.g2_from_bytes
        self.alpha, self.beta1 = g1(pk.vk.alpha_g1, trusted=True), g1(pk.beta_g1, trusted=True)
        self.beta2, self.delta2 = g2(pk.vk.beta_g2, trusted=True), g2(pk.vk.delta_g2, trusted=True)
        self.delta1 = g1(pk.delta_g1, trusted=True)
        self.a, self.b1 = _Query(pk.a_query, g1), _Query(pk.b_g1_query, g1)
        self.b2 = _Query(pk.b_g2_query, g2)
        self.c = _Query(pk.c_query, g1, offset=pk.num_public + 1)
        self.h = [g1(p, trusted=True) for p in pk.h_query]
        self._circuit: ConstraintSystem | None = None  # the last circuit matched to the key

    def prove(self, cs: ConstraintSystem, witness: Sequence[int]) -> Proof:
        """A zero-knowledge proof that ``witness`` satisfies ``cs``.

        Refuses (UnsatisfiedConstraintError, naming the constraint) a witness that breaks a
        constraint, and (KeyMismatchError) a circuit the key was not made for.
        """
        if cs is not self._circuit:
            self.pk.require_circuit(cs.digest())
            self._circuit = cs
        return self._assemble(cs, witness, cs.checked_rows(witness))

    def assemble(self, cs: ConstraintSystem, witness: Sequence[int]) -> Proof:
        """The proof for ``witness`` without checking it first: a witness that breaks a
        constraint gives a proof that does not verify. ``prove`` is what callers want."""
        return self._assemble(cs, witness, cs.rows(witness))

    def _assemble(self, cs: ConstraintSystem, witness: Sequence[int], rows: Rows) -> Proof:
        be = self.backend
        msms: list[Future[Point]] = [_TASKS.submit(be.g2_msm, *self.b2.scalars(witness))]
        msms += [_TASKS.submit(be.g1_msm, *q.scalars(witness)) for q in (self.a, self.b1, self.c)]
        domain = Domain(self.pk.log_size)
        h_scalars = quotient_evaluations(cs, witness, domain, self.transform, rows)
        h = be.g1_msm(self.h, h_scalars)
        b2_sum, a_sum, b1_sum, c_sum = (f.result() for f in msms)
        r, s = secrets.randbelow(R), secrets.randbelow(R)
        a = be.g1_add(be.g1_add(self.alpha, a_sum), be.g1_mul(self.delta1, r))
        b1 = be.g1_add(be.g1_add(self.beta1, b1_sum), be.g1_mul(self.delta1, s))
        b2 = be.g2_add(be.g2_add(self.beta2, b2_sum), be.g2_mul(self.delta2, s))
        c = be.g1_msm([a, b1, self.delta1], [s, r, (-r * s) % R])
        c = be.g1_add(be.g1_add(c, c_sum), h)
        return Proof(be.g1_to_bytes(a), be.g2_to_bytes(b2), be.g1_to_bytes(c))


def prove(
    pk: ProvingKey, cs: ConstraintSystem, witness: Sequence[int], backend: Backend | None = None
) -> Proof:
    """One proof (decodes the key each time: keep a ``Prover`` to prove many)."""
    return Prover(pk, backend).prove(cs, witness)


def verify(
    vk: VerifyingKey,
    public_inputs: Sequence[int],
    proof: Proof,
    backend: Backend | None = None,
) -> bool:
    """Whether ``proof`` is valid for ``public_inputs``; False (never an exception) for a wrong
    proof, a point off the curve or outside the subgroup, a wrong input count or an input >= r."""
    be = backend or get_backend()
    inputs = list(public_inputs)
    if len(inputs) != vk.num_public or not all(type(x) is int and 0 <= x < R for x in inputs):
        return False
    try:
        a, b, c = be.g1_from_bytes(proof.a), be.g2_from_bytes(proof.b), be.g1_from_bytes(proof.c)
        alpha, ic = be.g1_from_bytes(vk.alpha_g1), [be.g1_from_bytes(p) for p in vk.ic]
        beta, gamma, delta = (be.g2_from_bytes(p) for p in (vk.beta_g2, vk.gamma_g2, vk.delta_g2))
    except InvalidPointError:
        return False
    vk_x = be.g1_msm(ic, [1, *inputs])
    return be.pairing_check([(be.g1_neg(a), b), (alpha, beta), (vk_x, gamma), (c, delta)])
