"""The native backend: arkworks through ``py_arkworks_bls12381``.

Its multi-scalar multiplications release the GIL, so a large MSM is cut into one chunk per core
and the chunks run on threads. Fixed-base multiplication (setup's bulk work) uses a table of
byte-window multiples of the generator: 32 additions per scalar instead of a full ladder.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import reduce
from typing import Any, TypeVar

from py_arkworks_bls12381 import GT, G1Point, G2Point, Scalar

from prover.backend import G1_BYTES, G2_BYTES, InvalidPointError, split_coordinates

T = TypeVar("T", G1Point, G2Point)

THREADS = os.cpu_count() or 1
MIN_CHUNK = 1 << 11  # below this an MSM runs on the calling thread
_POOL = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="msm")


def to_scalars(values: Sequence[int]) -> list[Scalar]:
    """Python ints (reduced mod r) as arkworks scalars (the bytes path is 15x faster)."""
    from_le = Scalar.from_le_bytes
    return [from_le(v.to_bytes(32, "little")) for v in values]


def msm(points: Sequence[T], scalars: Sequence[Scalar], identity: T) -> T:
    """``sum(k_i * P_i)`` split over the cores; the points must be on the curve already."""
    if not points:
        return identity
    multiexp: Callable[[list[Any], list[Scalar]], T] = type(identity).multiexp_unchecked
    chunks = min(THREADS, max(1, len(points) // MIN_CHUNK))
    if chunks == 1:
        return multiexp(list(points), list(scalars))
    step = -(-len(points) // chunks)
    futures = [
        _POOL.submit(multiexp, list(points[i : i + step]), list(scalars[i : i + step]))
        for i in range(0, len(points), step)
    ]
    return reduce(lambda acc, f: acc + f.result(), futures, identity)


class _FixedBase:
    """Multiples of one base point from a table of ``d * 2^(8w) * base``."""

    def __init__(self, base: Any, identity: Any) -> None:
        self.identity = identity
        self.table: list[list[Any]] = []
        for _ in range(32):
            row = [identity, base]
            for _ in range(254):
                row.append(row[-1] + base)
            self.table.append(row)
            base = row[-1] + base

    def mul_many(self, scalars: Sequence[int]) -> list[Any]:
        table, identity = self.table, self.identity
        return [
            sum(
                (row[d] for row, d in zip(table, k.to_bytes(32, "little"), strict=True) if d),
                identity,
            )
            for k in scalars
        ]


class ArkworksBackend:
    """The default backend (see prover.backend.Backend)."""

    name = "arkworks"

    def __init__(self) -> None:
        self._g1_table: _FixedBase | None = None
        self._g2_table: _FixedBase | None = None

    def g1_generator(self) -> G1Point:
        return G1Point()

    def g2_generator(self) -> G2Point:
        return G2Point()

    def g1_from_bytes(self, data: bytes, trusted: bool = False) -> G1Point:
        if trusted:
            return G1Point.from_xy_bytes_unchecked_be(data)
        if len(data) != G1_BYTES:
            raise InvalidPointError(f"a G1 point is {G1_BYTES} bytes, got {len(data)}")
        split_coordinates(data, 2)
        return _checked(G1Point.from_xy_bytes_be, data)

    def g2_from_bytes(self, data: bytes, trusted: bool = False) -> G2Point:
        if trusted:
            return G2Point.from_xy_bytes_unchecked_be(data)
        if len(data) != G2_BYTES:
            raise InvalidPointError(f"a G2 point is {G2_BYTES} bytes, got {len(data)}")
        split_coordinates(data, 4)
        return _checked(G2Point.from_xy_bytes_be, data)

    def g1_to_bytes(self, point: G1Point) -> bytes:
        return point.to_xy_bytes_be()

    def g2_to_bytes(self, point: G2Point) -> bytes:
        return point.to_xy_bytes_be()

    def g1_add(self, p: G1Point, q: G1Point) -> G1Point:
        return p + q

    def g2_add(self, p: G2Point, q: G2Point) -> G2Point:
        return p + q

    def g1_mul(self, p: G1Point, k: int) -> G1Point:
        return p * Scalar(k)

    def g2_mul(self, p: G2Point, k: int) -> G2Point:
        return p * Scalar(k)

    def g1_neg(self, p: G1Point) -> G1Point:
        return -p

    def g1_msm(self, points: Sequence[G1Point], scalars: Sequence[int]) -> G1Point:
        return msm(points, to_scalars(scalars), G1Point.identity())

    def g2_msm(self, points: Sequence[G2Point], scalars: Sequence[int]) -> G2Point:
        return msm(points, to_scalars(scalars), G2Point.identity())

    def g1_fixed_base(self, scalars: Sequence[int]) -> list[G1Point]:
        if self._g1_table is None:
            self._g1_table = _FixedBase(G1Point(), G1Point.identity())
        return self._g1_table.mul_many(scalars)

    def g2_fixed_base(self, scalars: Sequence[int]) -> list[G2Point]:
        if self._g2_table is None:
            self._g2_table = _FixedBase(G2Point(), G2Point.identity())
        return self._g2_table.mul_many(scalars)

    def hash_to_g2(self, message: bytes, dst: bytes) -> G2Point:
        return G2Point.hash_to_curve(message, dst)

    def pairing_check(self, pairs: Sequence[tuple[G1Point, G2Point]]) -> bool:
        return GT.pairing_check([p for p, _ in pairs], [q for _, q in pairs])


def _checked(decode: Callable[[bytes], T], data: bytes) -> T:
    try:
        return decode(data)
    except ValueError as e:
        raise InvalidPointError(str(e)) from None
