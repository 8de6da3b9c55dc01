"""The curve arithmetic the prover needs, behind one small interface.

Two implementations: ``arkworks`` (native, the default) and ``py_ecc`` (pure Python, the
reference that tests compare against). A backend is chosen once, by name, with ``get_backend``;
the rest of the prover only ever calls the methods below.

Points cross the interface in one canonical byte form, the same for both backends:

- G1: ``x ‖ y``, each coordinate 48 bytes big-endian (96 bytes);
- G2: ``x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1``, each 48 bytes big-endian (192 bytes);
- the point at infinity: all zero bytes.

Inside a backend, points are its own native objects (opaque to callers). Scalars are Python
ints; ``msm`` and ``fixed_base`` take them reduced mod r.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

G1_BYTES = 96
G2_BYTES = 192

# The BLS12-381 base field modulus.
P = int(
    "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf"
    "6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab",
    16,
)

Point = Any  # a backend's native point; only the backend that made it looks inside


class InvalidPointError(ValueError):
    """Bytes that are not a valid point: wrong length, coordinate >= p, off the curve, or not
    in the prime-order subgroup."""


class Backend(Protocol):
    """Group operations on BLS12-381's G1 and G2, and the pairing check."""

    name: str

    def g1_generator(self) -> Point: ...
    def g2_generator(self) -> Point: ...
    def g1_from_bytes(self, data: bytes, trusted: bool = False) -> Point:
        """Decode a G1 point; unless ``trusted``, check it is on the curve and in the subgroup
        (raising InvalidPointError). ``trusted`` is for our own key files, which carry a hash."""
        ...

    def g2_from_bytes(self, data: bytes, trusted: bool = False) -> Point: ...
    def g1_to_bytes(self, point: Point) -> bytes: ...
    def g2_to_bytes(self, point: Point) -> bytes: ...
    def g1_add(self, p: Point, q: Point) -> Point: ...
    def g2_add(self, p: Point, q: Point) -> Point: ...
    def g1_mul(self, p: Point, k: int) -> Point: ...
    def g2_mul(self, p: Point, k: int) -> Point: ...
    def g1_neg(self, p: Point) -> Point: ...
    def g1_msm(self, points: Sequence[Point], scalars: Sequence[int]) -> Point:
        """``sum(k_i * P_i)``; the two sequences have the same length."""
        ...

    def g2_msm(self, points: Sequence[Point], scalars: Sequence[int]) -> Point: ...
    def g1_fixed_base(self, scalars: Sequence[int]) -> list[Point]:
        """``[k * G1 for k in scalars]`` (setup's bulk work)."""
        ...

    def g2_fixed_base(self, scalars: Sequence[int]) -> list[Point]: ...
    def hash_to_g2(self, message: bytes, dst: bytes) -> Point:
        """The RFC 9380 hash ``BLS12381G2_XMD:SHA-256_SSWU_RO_`` of ``message``."""
        ...

    def pairing_check(self, pairs: Sequence[tuple[Point, Point]]) -> bool:
        """Whether ``prod e(P_i, Q_i) == 1`` for the (G1, G2) pairs."""
        ...


class UnknownBackendError(ValueError):
    """A backend name that is not ``arkworks`` or ``py_ecc``."""


BACKEND_NAMES = ("arkworks", "py_ecc")
DEFAULT_BACKEND = "arkworks"


def get_backend(name: str = DEFAULT_BACKEND) -> Backend:
    """The backend called ``name`` (one shared instance per name)."""
    if name not in _INSTANCES:
        _INSTANCES[name] = _make(name)
    return _INSTANCES[name]


_INSTANCES: dict[str, Backend] = {}


def _make(name: str) -> Backend:
    if name == "arkworks":
        from prover.arkworks import ArkworksBackend

        return ArkworksBackend()
    if name == "py_ecc":
        from prover.pyecc import PyEccBackend

        return PyEccBackend()
    raise UnknownBackendError(f"unknown backend {name!r}; choose one of {BACKEND_NAMES}")


def split_coordinates(data: bytes, count: int) -> list[int]:
    """``count`` 48-byte big-endian coordinates of ``data``; each must be < p."""
    if len(data) != 48 * count:
        raise InvalidPointError(f"expected {48 * count} bytes, got {len(data)}")
    values = [int.from_bytes(data[48 * i : 48 * (i + 1)], "big") for i in range(count)]
    if any(v >= P for v in values):
        raise InvalidPointError("a coordinate is not below the field modulus p")
    return values
