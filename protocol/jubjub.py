"""Jubjub: the twisted Edwards curve over BLS12-381 Fr used by Zcash Sapling.

    -x^2 + y^2 = 1 + d x^2 y^2,   d = -(10240 / 10241)

The group has order 8 * ORDER with ORDER a 252-bit prime. ``d`` is not a square, so the
addition law below is complete (no exceptional inputs). Points are affine ``Point(x, y)``
outside this module; inside, arithmetic runs in extended coordinates ``(X, Y, Z, T)`` with
``x = X/Z``, ``y = Y/Z``, ``T = XY/Z`` (Hisil-Wong-Carter-Dawson 2008, a = -1 formulas), and
only the result is brought back to affine.

Encoding (docs/PROTOCOL.md section 5): 32 bytes, the big-endian ``y`` with the top bit of the
first byte set to the low bit of ``x``. ``decompress`` rejects any encoding that a point does
not produce: ``y >= r``, no ``x`` on the curve, or a set sign bit with ``x = 0``.

Where the native core is built (``protocol.native``), it is handed the curve at import and
recovers ``x`` from ``y`` for ``decompress`` (``recover_x``) and runs EdDSA's curve checks and
equation (``protocol.eddsa``); this module's arithmetic is the reference it is tested against.
"""

from __future__ import annotations

from functools import cache
from typing import Any, NamedTuple

from protocol.field import BYTES, R, inv, is_canonical, sqrt
from protocol.native import NATIVE

A = R - 1  # a = -1
D = -10240 * inv(10241) % R
ORDER = 0x0E7DB4EA6533AFA906673B0101343B00A6682093CCC81082D0970E5ED6F72CB7  # prime subgroup
COFACTOR = 8
_SIGN_BIT = 1 << (8 * BYTES - 1)
_WINDOW = 4  # bits per step of the windowed scalar multiplication


class PointError(ValueError):
    """Bytes that are not a canonical point encoding, or coordinates off the curve."""


class Point(NamedTuple):
    """An affine point; build one from untrusted data only through ``decompress`` or
    check it with ``is_on_curve``."""

    x: int
    y: int


IDENTITY = Point(0, 1)
# The generator of the prime-order subgroup: 8 * P, where P has the smallest y >= 2 of any
# curve point with 8 * P != identity (y = 3), and the even one of its two x (docs/PROTOCOL.md
# section 5; a test re-derives it).
GENERATOR = Point(
    0x3A6C6DA047782F422FAD2D689CB64925D3E0878DF5BAAC0E33300795B6AE05E6,
    0x4AE1F1107694F36ABA6D493320C0C7913492976D964D11ADAA206BA5C9701810,
)

Extended = tuple[int, int, int, int]


def is_on_curve(p: Point) -> bool:
    """Canonical coordinates satisfying the curve equation."""
    x, y = p
    if not (is_canonical(x) and is_canonical(y)):
        return False
    x2, y2 = x * x % R, y * y % R
    return (A * x2 + y2 - 1 - D * x2 * y2) % R == 0


def _to_extended(p: Point) -> Extended:
    return p.x, p.y, 1, p.x * p.y % R


def _to_affine(e: Extended) -> Point:
    x, y, z, _ = e
    z_inv = inv(z)
    return Point(x * z_inv % R, y * z_inv % R)


def _add(p: Extended, q: Extended) -> Extended:
    """add-2008-hwcd-3 (a = -1), complete on Jubjub."""
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % R
    b = (y1 + x1) * (y2 + x2) % R
    c = 2 * D * t1 * t2 % R
    d = 2 * z1 * z2 % R
    e, f, g, h = b - a, d - c, d + c, b + a
    return e * f % R, g * h % R, f * g % R, e * h % R


def _double(p: Extended) -> Extended:
    """dbl-2008-hwcd (a = -1)."""
    x1, y1, z1, _ = p
    a, b = x1 * x1 % R, y1 * y1 % R
    c = 2 * z1 * z1 % R
    e = ((x1 + y1) * (x1 + y1) - a - b) % R
    g = b - a  # a*A + B with a = -1
    f, h = g - c, -a - b
    return e * f % R, g * h % R, f * g % R, e * h % R


def _is_identity(e: Extended) -> bool:
    x, y, z, _ = e
    return x % R == 0 and (y - z) % R == 0


def _mul(k: int, p: Extended) -> Extended:
    """``k * p`` for ``k >= 0``, 4-bit fixed window, most significant window first."""
    table = [(0, 1, 1, 0), p]
    for _ in range(2, 1 << _WINDOW):
        table.append(_add(table[-1], p))
    acc: Extended = (0, 1, 1, 0)
    top = -(-k.bit_length() // _WINDOW) * _WINDOW
    for shift in range(top - _WINDOW, -1, -_WINDOW):
        for _ in range(_WINDOW):
            acc = _double(acc)
        acc = _add(acc, table[k >> shift & (1 << _WINDOW) - 1])
    return acc


@cache
def _generator_table() -> tuple[tuple[Extended, ...], ...]:
    """``table[i][j] = j * 16^i * G`` for every window of a 256-bit scalar."""
    rows = []
    base = _to_extended(GENERATOR)
    for _ in range(256 // _WINDOW):
        row = [(0, 1, 1, 0), base]
        for _ in range(2, 1 << _WINDOW):
            row.append(_add(row[-1], base))
        rows.append(tuple(row))
        base = _add(row[-1], base)
    return tuple(rows)


def add(p: Point, q: Point) -> Point:
    return _to_affine(_add(_to_extended(p), _to_extended(q)))


def double(p: Point) -> Point:
    return _to_affine(_double(_to_extended(p)))


def neg(p: Point) -> Point:
    return Point(-p.x % R, p.y)


def scalar_mul(k: int, p: Point) -> Point:
    """``k * p`` for an integer ``k >= 0`` (not reduced: any size is fine)."""
    if k < 0:
        raise ValueError("scalar must be non-negative")
    return _to_affine(_mul(k, _to_extended(p)))


def base_mul(k: int) -> Point:
    """``k * GENERATOR`` for ``0 <= k < 2^256``, from a precomputed table (no doublings)."""
    if not 0 <= k < 1 << 256:
        raise ValueError("scalar must be in [0, 2^256)")
    acc: Extended = (0, 1, 1, 0)
    for i, row in enumerate(_generator_table()):
        acc = _add(acc, row[k >> (_WINDOW * i) & (1 << _WINDOW) - 1])
    return _to_affine(acc)


def is_in_subgroup(p: Point) -> bool:
    """On the curve and of prime order or the identity: ``ORDER * p == identity``."""
    return is_on_curve(p) and _is_identity(_mul(ORDER, _to_extended(p)))


def is_small_order(p: Point) -> bool:
    """``8 * p == identity`` (the identity included)."""
    return _is_identity(_mul(COFACTOR, _to_extended(p)))


def compress(p: Point) -> bytes:
    """The 32-byte encoding: big-endian ``y``, top bit = low bit of ``x``."""
    if not is_on_curve(p):
        raise PointError("point is not on the curve")
    return (p.y | (p.x & 1) * _SIGN_BIT).to_bytes(BYTES, "big")


def decompress(data: bytes) -> Point:
    """The point of a canonical encoding (on the curve; not checked for the subgroup)."""
    if len(data) != BYTES:
        raise PointError(f"a point encoding is {BYTES} bytes, got {len(data)}")
    word = int.from_bytes(data, "big")
    sign, y = word >> (8 * BYTES - 1), word & (_SIGN_BIT - 1)
    if y >= R:
        raise PointError("non-canonical point encoding: y >= r")
    x = recover_x(y)
    if x is None:
        raise PointError("no point with this y")
    if x == 0 and sign:
        raise PointError("non-canonical point encoding: sign bit set with x = 0")
    return Point(x if x & 1 == sign else R - x, y)


def recover_x_reference(y: int) -> int | None:
    """An ``x`` with ``(x, y)`` on the curve (either of the two), or None when there is none:
    ``x^2 = (y^2 - 1) / (d y^2 + 1)``."""
    y2 = y * y % R
    return sqrt((y2 - 1) * inv((D * y2 + 1) % R) % R)


def recover_x(y: int) -> int | None:
    """``recover_x_reference``, in the native core where it is built."""
    if _NATIVE is not None:
        x: int | None = _NATIVE.jubjub_recover_x(y)
        return x
    return recover_x_reference(y)


def _init_native() -> Any:
    """The native core, handed the curve; None without it."""
    if NATIVE is not None:
        NATIVE.jubjub_init(D, GENERATOR.x, GENERATOR.y, ORDER)
    return NATIVE


_NATIVE = _init_native()
