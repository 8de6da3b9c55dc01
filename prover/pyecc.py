"""The reference backend: py_ecc's ``optimized_bls12_381``, pure Python.

Slow (a G2 multiplication takes milliseconds) and simple on purpose: it is the independent
implementation that the differential tests compare arkworks against, and a second verifier.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from py_ecc.bls.hash_to_curve import hash_to_G2
from py_ecc.fields import optimized_bls12_381_FQ as FQ
from py_ecc.fields import optimized_bls12_381_FQ2 as FQ2
from py_ecc.fields import optimized_bls12_381_FQ12 as FQ12
from py_ecc.optimized_bls12_381 import (
    G1,
    G2,
    Z1,
    Z2,
    add,
    b,
    b2,
    curve_order,
    final_exponentiate,
    is_inf,
    is_on_curve,
    multiply,
    neg,
    normalize,
)
from py_ecc.optimized_bls12_381.optimized_pairing import miller_loop

from prover.backend import InvalidPointError, split_coordinates

Pt = tuple[Any, Any, Any]


def _coords_to_bytes(values: Sequence[int]) -> bytes:
    return b"".join(v.to_bytes(48, "big") for v in values)


def _subgroup_checked(point: Pt, curve_b: Any) -> Pt:
    if not is_on_curve(point, curve_b):
        raise InvalidPointError("point is not on the curve")
    if not is_inf(multiply(point, curve_order)):
        raise InvalidPointError("point is not in the prime-order subgroup")
    return point


class PyEccBackend:
    """The pure-Python reference backend (see prover.backend.Backend)."""

    name = "py_ecc"

    def g1_generator(self) -> Pt:
        return G1

    def g2_generator(self) -> Pt:
        return G2

    def g1_from_bytes(self, data: bytes, trusted: bool = False) -> Pt:
        x, y = split_coordinates(data, 2)
        if x == y == 0:
            return Z1
        point = (FQ(x), FQ(y), FQ.one())
        return point if trusted else _subgroup_checked(point, b)

    def g2_from_bytes(self, data: bytes, trusted: bool = False) -> Pt:
        x0, x1, y0, y1 = split_coordinates(data, 4)
        if x0 == x1 == y0 == y1 == 0:
            return Z2
        point = (FQ2([x0, x1]), FQ2([y0, y1]), FQ2.one())
        return point if trusted else _subgroup_checked(point, b2)

    def g1_to_bytes(self, point: Pt) -> bytes:
        if is_inf(point):
            return bytes(96)
        x, y = normalize(point)
        return _coords_to_bytes([int(x), int(y)])

    def g2_to_bytes(self, point: Pt) -> bytes:
        if is_inf(point):
            return bytes(192)
        x, y = normalize(point)
        return _coords_to_bytes([int(c) for c in (*x.coeffs, *y.coeffs)])

    def g1_add(self, p: Pt, q: Pt) -> Pt:
        return add(p, q)

    def g2_add(self, p: Pt, q: Pt) -> Pt:
        return add(p, q)

    def g1_mul(self, p: Pt, k: int) -> Pt:
        return multiply(p, k)

    def g2_mul(self, p: Pt, k: int) -> Pt:
        return multiply(p, k)

    def g1_neg(self, p: Pt) -> Pt:
        return neg(p)

    def g1_msm(self, points: Sequence[Pt], scalars: Sequence[int]) -> Pt:
        return _msm(points, scalars, Z1)

    def g2_msm(self, points: Sequence[Pt], scalars: Sequence[int]) -> Pt:
        return _msm(points, scalars, Z2)

    def g1_fixed_base(self, scalars: Sequence[int]) -> list[Pt]:
        return [multiply(G1, k) for k in scalars]

    def g2_fixed_base(self, scalars: Sequence[int]) -> list[Pt]:
        return [multiply(G2, k) for k in scalars]

    def hash_to_g2(self, message: bytes, dst: bytes) -> Pt:
        return hash_to_G2(message, dst, hashlib.sha256)  # type: ignore[arg-type]

    def pairing_check(self, pairs: Sequence[tuple[Pt, Pt]]) -> bool:
        f = FQ12.one()
        for p, q in pairs:
            if not (is_inf(p) or is_inf(q)):
                f = f * miller_loop(q, p, final_exponentiate=False)
        return bool(final_exponentiate(f) == FQ12.one())


def _msm(points: Sequence[Pt], scalars: Sequence[int], zero: Pt) -> Pt:
    total = zero
    for p, k in zip(points, scalars, strict=True):
        if k:
            total = add(total, multiply(p, k))
    return total
