"""Multi-party phase 2: contributors re-randomize delta; anyone can check the transcript.

A contribution with secret ``d`` maps ``delta -> d * delta`` (in G1 and G2) and divides every
point of the C and H queries by ``d``; nothing else changes. If any one contributor forgets
their ``d``, no one knows the final delta. Each contribution is recorded in the key
(``Contribution``) with a proof that its author knew ``d`` (docs/PROTOCOL.md section 10):

- ``s_g1 = d * G1`` and ``r_delta_g2 = d * R`` where ``R = hash_to_g2(challenge)`` and the
  challenge hashes the circuit digest, the delta before, and ``s_g1``;
- ``e(s_g1, R) == e(G1, r_delta_g2)``: the same ``d`` in both;
- ``e(delta_after, R) == e(delta_before, r_delta_g2)``: delta was multiplied by that ``d``;
- ``e(delta_after_g1, G2) == e(G1, delta_after_g2)``: the two deltas agree.

``verify_contributions`` checks every contribution made after an initial key, that nothing but
delta, C and H changed, and (with a random linear combination) that C and H were divided by
the product of the ``d``s.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace

from protocol.field import R
from prover.backend import Backend, InvalidPointError, Point, get_backend
from prover.keys import Contribution, ProvingKey
from prover.setup import random_nonzero

DST = b"ZKPERP-PHASE2-V1_BLS12381G2_XMD:SHA-256_SSWU_RO_"


class Phase2Error(ValueError):
    """A transcript or key that does not follow from the initial key by valid contributions."""


def challenge(circuit_digest: bytes, delta_before_g1: bytes, s_g1: bytes) -> bytes:
    return hashlib.sha256(b"zkperp-phase2" + circuit_digest + delta_before_g1 + s_g1).digest()


def contribute(pk: ProvingKey, backend: Backend | None = None) -> ProvingKey:
    """``pk`` re-randomized by a fresh secret (drawn here, used, and forgotten)."""
    be = backend or get_backend()
    d = random_nonzero()
    d_inv = pow(d, R - 2, R)
    s_g1 = be.g1_to_bytes(be.g1_fixed_base([d])[0])
    r = be.hash_to_g2(challenge(pk.circuit_digest, pk.delta_g1, s_g1), DST)
    delta1 = be.g1_mul(be.g1_from_bytes(pk.delta_g1, trusted=True), d)
    delta2 = be.g2_mul(be.g2_from_bytes(pk.vk.delta_g2, trusted=True), d)

    def divided(query: tuple[bytes, ...]) -> tuple[bytes, ...]:
        return tuple(
            be.g1_to_bytes(be.g1_mul(be.g1_from_bytes(p, trusted=True), d_inv)) for p in query
        )

    record = Contribution(
        be.g1_to_bytes(delta1), be.g2_to_bytes(delta2), s_g1, be.g2_to_bytes(be.g2_mul(r, d))
    )
    return replace(
        pk,
        vk=replace(pk.vk, delta_g2=record.delta_g2),
        delta_g1=record.delta_g1,
        c_query=divided(pk.c_query),
        h_query=divided(pk.h_query),
        contributions=(*pk.contributions, record),
    )


def verify_contributions(
    initial: ProvingKey, final: ProvingKey, backend: Backend | None = None
) -> None:
    """Raise Phase2Error unless ``final`` is ``initial`` plus valid contributions."""
    be = backend or get_backend()
    _check_unchanged(initial, final)
    delta_before = initial.delta_g1
    try:
        for record in final.contributions[len(initial.contributions) :]:
            _check_contribution(be, initial.circuit_digest, delta_before, record)
            delta_before = record.delta_g1
        _check_queries(be, initial, final)
    except InvalidPointError as e:
        raise Phase2Error(f"a point in the transcript is invalid: {e}") from None
    if final.delta_g1 != delta_before:
        raise Phase2Error("the key's delta is not the one its last contribution produced")


def _check_unchanged(initial: ProvingKey, final: ProvingKey) -> None:
    n = len(initial.contributions)
    if final.contributions[:n] != initial.contributions:
        raise Phase2Error("the transcript does not extend the initial key's")
    fixed = replace(final, delta_g1=initial.delta_g1, c_query=(), h_query=(), contributions=())
    fixed = replace(fixed, vk=replace(final.vk, delta_g2=initial.vk.delta_g2))
    if fixed != replace(initial, c_query=(), h_query=(), contributions=()):
        raise Phase2Error("a part of the key other than delta, C and H has changed")
    if (len(final.c_query), len(final.h_query)) != (len(initial.c_query), len(initial.h_query)):
        raise Phase2Error("the C or H query changed length")


def _check_contribution(be: Backend, digest: bytes, before: bytes, c: Contribution) -> None:
    g1, g2 = be.g1_generator(), be.g2_generator()
    s, r_delta = be.g1_from_bytes(c.s_g1), be.g2_from_bytes(c.r_delta_g2)
    delta1, delta2 = be.g1_from_bytes(c.delta_g1), be.g2_from_bytes(c.delta_g2)
    r = be.hash_to_g2(challenge(digest, before, c.s_g1), DST)
    if not any(c.s_g1) or not be.pairing_check([(s, r), (be.g1_neg(g1), r_delta)]):
        raise Phase2Error("a contribution's proof of knowledge does not check")
    if not be.pairing_check([(delta1, r), (be.g1_neg(be.g1_from_bytes(before)), r_delta)]):
        raise Phase2Error("a contribution's delta is not the previous one times its secret")
    if not be.pairing_check([(delta1, g2), (be.g1_neg(g1), delta2)]):
        raise Phase2Error("a contribution's delta in G1 and G2 disagree")


def _check_queries(be: Backend, initial: ProvingKey, final: ProvingKey) -> None:
    weights = [secrets.randbelow(R) for _ in range(len(initial.c_query) + len(initial.h_query))]

    def combined(pk: ProvingKey) -> Point:
        points = [be.g1_from_bytes(p) for p in (*pk.c_query, *pk.h_query)]
        return be.g1_msm(points, weights)

    pairs = [
        (combined(final), be.g2_from_bytes(final.vk.delta_g2)),
        (be.g1_neg(combined(initial)), be.g2_from_bytes(initial.vk.delta_g2)),
    ]
    if not be.pairing_check(pairs):
        raise Phase2Error("the C and H queries were not divided by the contributions' secrets")
