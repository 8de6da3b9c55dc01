"""Jubjub points in constraints: the twin of ``protocol.jubjub`` (affine coordinates).

The addition law is complete (``d`` is not a square), so every formula below holds for any two
curve points; divisions are hinted quotients constrained by one product each.

- ``add``: 6 constraints; ``double``: 5; ``select_point``: 2.
- ``scalar_mul`` (variable base, double-and-add): 13 per bit.
- ``base_mul`` (the fixed generator, 2-bit windows over constant tables): 7 per two bits.
- ``assert_in_subgroup``: the prime-order subgroup is exactly ``8 * E``, so a point is in it if
  and only if it is ``8 * Q`` for some curve point ``Q``; ``Q`` is hinted. 20 constraints; it
  also proves the point is on the curve.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import NamedTuple

from circuits.r1cs import ONE, Builder, LinearCombination, constant
from protocol import jubjub as native
from protocol.field import R, inv

D = native.D  # a = -1 throughout


class PointVar(NamedTuple):
    x: LinearCombination
    y: LinearCombination


IDENTITY = PointVar(constant(0), constant(1))


def constant_point(p: native.Point) -> PointVar:
    return PointVar(constant(p.x), constant(p.y))


def _quotient(
    cs: Builder, name: str, num: LinearCombination, den: LinearCombination
) -> LinearCombination:
    """A hinted ``num / den``, constrained by ``q * den == num`` (``den`` must be nonzero)."""
    q = cs.hint(name, lambda n, d: n * inv(d) % R if d else 0, num, den)
    cs.assert_mul(q, den, num, f"{name}_times_denominator")
    return q


def assert_on_curve(cs: Builder, p: PointVar) -> None:
    """``-x^2 + y^2 == 1 + d x^2 y^2``: 3 constraints (``protocol.jubjub.is_on_curve``)."""
    with cs.scope("on_curve"):
        xx = cs.mul(p.x, p.x, "xx")
        yy = cs.mul(p.y, p.y, "yy")
        cs.assert_mul(xx * D, yy, yy - xx - 1, "curve_equation")


def add(cs: Builder, p: PointVar, q: PointVar) -> PointVar:
    """``protocol.jubjub.add``: 6 constraints."""
    with cs.scope("add"):
        beta = cs.mul(p.x, q.y, "x1y2")
        gamma = cs.mul(p.y, q.x, "y1x2")
        delta = cs.mul(p.x + p.y, q.x + q.y, "sums")
        tau = cs.mul(beta, gamma, "x1x2y1y2")
        x = _quotient(cs, "x3", beta + gamma, 1 + tau * D)
        y = _quotient(cs, "y3", delta - beta - gamma, 1 - tau * D)
    return PointVar(x, y)


def double(cs: Builder, p: PointVar) -> PointVar:
    """``protocol.jubjub.double``: 5 constraints (``p`` must be on the curve)."""
    with cs.scope("double"):
        xx = cs.mul(p.x, p.x, "xx")
        yy = cs.mul(p.y, p.y, "yy")
        xy = cs.mul(p.x, p.y, "xy")
        x = _quotient(cs, "x3", xy * 2, yy - xx)
        y = _quotient(cs, "y3", yy + xx, 2 + xx - yy)
    return PointVar(x, y)


def select_point(cs: Builder, bit: LinearCombination, p: PointVar, q: PointVar) -> PointVar:
    """``p if bit else q``: 2 constraints (``bit`` must be boolean)."""
    with cs.scope("select_point"):
        x = q.x + cs.mul(bit, p.x - q.x, "x")
        y = q.y + cs.mul(bit, p.y - q.y, "y")
    return PointVar(x, y)


def scalar_mul(cs: Builder, bits: Sequence[LinearCombination], p: PointVar) -> PointVar:
    """``protocol.jubjub.scalar_mul`` by the little-endian boolean ``bits`` of the scalar."""
    with cs.scope("scalar_mul"):
        acc = select_point(cs, bits[-1], p, IDENTITY)
        for i in range(len(bits) - 2, -1, -1):
            with cs.scope(f"bit{i}"):
                acc = add(cs, double(cs, acc), select_point(cs, bits[i], p, IDENTITY))
    return acc


@cache
def _base_tables(windows: int) -> tuple[tuple[native.Point, ...], ...]:
    """``table[i][j] = j * 4^i * G``."""
    tables, base = [], native.GENERATOR
    for _ in range(windows):
        tables.append(tuple(native.scalar_mul(j, base) for j in range(4)))
        base = native.scalar_mul(4, base)
    return tuple(tables)


def _window(
    cs: Builder, b0: LinearCombination, b1: LinearCombination, table: Sequence[native.Point]
) -> PointVar:
    """``table[b0 + 2 b1]`` for constant points: one product, shared by both coordinates."""
    both = cs.mul(b0, b1, "both_bits")
    coords = []
    for t0, t1, t2, t3 in zip(*table, strict=True):
        coords.append(b0 * (t1 - t0) + b1 * (t2 - t0) + both * (t3 - t2 - t1 + t0) + t0)
    return PointVar(*coords)


def base_mul(cs: Builder, bits: Sequence[LinearCombination]) -> PointVar:
    """``protocol.jubjub.base_mul`` by the little-endian boolean ``bits`` (2-bit windows)."""
    pairs = [list(bits[i : i + 2]) for i in range(0, len(bits), 2)]
    if len(pairs[-1]) == 1:
        pairs[-1].append(constant(0))
    with cs.scope("base_mul"):
        points = []
        for i, (pair, table) in enumerate(zip(pairs, _base_tables(len(pairs)), strict=True)):
            with cs.scope(f"window{i}"):
                points.append(_window(cs, pair[0], pair[1], table))
        acc = points[0]
        for i, point in enumerate(points[1:], start=1):
            with cs.scope(f"window{i}"):
                acc = add(cs, acc, point)
    return acc


def assert_equal_points(cs: Builder, p: PointVar, q: PointVar, name: str) -> None:
    cs.assert_equal(p.x, q.x, f"{name}_x")
    cs.assert_equal(p.y, q.y, f"{name}_y")


def _eighth(x: int, y: int) -> list[int]:
    p = native.Point(x, y)
    if not native.is_on_curve(p):
        return list(native.IDENTITY)  # no point has 8Q = p; the constraints then refuse p
    return list(native.scalar_mul(pow(native.COFACTOR, -1, native.ORDER), p))


def assert_in_subgroup(cs: Builder, p: PointVar) -> None:
    """``protocol.jubjub.is_in_subgroup`` (which implies on the curve): ``p == 8 * Q``."""
    with cs.scope("in_subgroup"):
        q = PointVar(*cs.hints("eighth", 2, _eighth, p.x, p.y))
        assert_on_curve(cs, q)
        for i in range(3):
            with cs.scope(f"double{i}"):
                q = double(cs, q)
        assert_equal_points(cs, q, p, "is_8q")


def assert_not_identity_in_subgroup(cs: Builder, p: PointVar) -> None:
    """For ``p`` in the subgroup, not the identity (so not of small order): ``x != 0``."""
    with cs.scope("not_identity"):
        x_inv = cs.hint("x_inverse", lambda x: inv(x) if x else 0, p.x)
        cs.assert_mul(p.x, x_inv, ONE, "x_invertible")
