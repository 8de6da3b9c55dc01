from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import jubjub
from protocol.field import R, inv, sqrt
from protocol.jubjub import (
    COFACTOR,
    GENERATOR,
    IDENTITY,
    ORDER,
    D,
    Point,
    PointError,
    add,
    base_mul,
    compress,
    decompress,
    double,
    is_in_subgroup,
    is_on_curve,
    is_small_order,
    neg,
    scalar_mul,
)

scalars = st.integers(min_value=0, max_value=ORDER - 1)


def affine_add(p: Point, q: Point) -> Point:
    """The textbook affine twisted Edwards addition law, independent of the module's formulas."""
    (x1, y1), (x2, y2) = p, q
    t = D * x1 * x2 * y1 * y2 % R
    x3 = (x1 * y2 + y1 * x2) * inv((1 + t) % R) % R
    y3 = (y1 * y2 + x1 * x2) * inv((1 - t) % R) % R  # a = -1
    return Point(x3, y3)


def points_with_y(y: int) -> list[Point]:
    """The curve points with this y (none, one or two)."""
    y2 = y * y % R
    x = sqrt((y2 - 1) * inv((D * y2 + 1) % R) % R)
    return [] if x is None else sorted({Point(x, y), Point(-x % R, y)})


def any_point(seed: int) -> Point:
    """A curve point in the full group (generally outside the prime-order subgroup)."""
    y = seed
    while not points_with_y(y):
        y += 1
    return points_with_y(y)[0]


# The points of order 2, 4 and 8: ORDER * P for points P of the full group.
SMALL_ORDER = sorted({scalar_mul(ORDER, any_point(s)) for s in range(2, 40)} | {IDENTITY})


def test_curve_constants() -> None:
    assert D * 10241 % R == -10240 % R
    assert pow(D, (R - 1) // 2, R) == R - 1  # d is not a square: the addition law is complete
    assert pow(3, ORDER - 1, ORDER) == 1 and ORDER.bit_length() == 252
    assert (COFACTOR * ORDER - (R + 1)) ** 2 <= 4 * R  # Hasse bound for the group order


def test_generator_is_derived_as_documented() -> None:
    y = 2
    while not any(scalar_mul(COFACTOR, p) != IDENTITY for p in points_with_y(y)):
        y += 1
    even = next(p for p in points_with_y(y) if p.x % 2 == 0)
    assert y == 3
    assert scalar_mul(COFACTOR, even) == GENERATOR


def test_generator_has_prime_order() -> None:
    assert is_on_curve(GENERATOR) and GENERATOR != IDENTITY
    assert is_in_subgroup(GENERATOR)
    assert scalar_mul(ORDER, GENERATOR) == IDENTITY
    assert scalar_mul(ORDER + 1, GENERATOR) == GENERATOR


def test_small_order_points() -> None:
    assert len(SMALL_ORDER) == 8  # the torsion subgroup
    for p in SMALL_ORDER:
        assert is_on_curve(p) and is_small_order(p)
        assert is_in_subgroup(p) == (p == IDENTITY)
    assert Point(0, R - 1) in SMALL_ORDER
    assert not is_small_order(GENERATOR)


@settings(max_examples=10, deadline=None)
@given(scalars, scalars)
def test_group_law_matches_the_affine_formula(a: int, b: int) -> None:
    p, q = base_mul(a), base_mul(b)
    assert add(p, q) == affine_add(p, q) == base_mul((a + b) % ORDER)
    assert double(p) == affine_add(p, p)
    assert add(p, neg(p)) == IDENTITY
    assert is_on_curve(add(p, q))


@settings(max_examples=10, deadline=None)
@given(scalars, st.integers(min_value=0, max_value=2**256 - 1))
def test_scalar_multiplication(a: int, k: int) -> None:
    p = base_mul(a)
    assert scalar_mul(k, GENERATOR) == base_mul(k)
    assert scalar_mul(k, p) == base_mul(k * a % ORDER)


def test_scalar_multiplication_edges() -> None:
    assert scalar_mul(0, GENERATOR) == base_mul(0) == IDENTITY
    assert scalar_mul(1, GENERATOR) == base_mul(1) == GENERATOR
    with pytest.raises(ValueError, match="scalar must be non-negative"):
        scalar_mul(-1, GENERATOR)
    with pytest.raises(ValueError, match=r"scalar must be in \[0, 2\^256\)"):
        base_mul(2**256)


def test_outside_the_subgroup() -> None:
    for t in SMALL_ORDER[1:]:
        p = add(GENERATOR, t)
        assert is_on_curve(p)
        assert not is_in_subgroup(p)
        assert not is_small_order(p)
    assert not is_in_subgroup(Point(1, 1))


@settings(max_examples=20, deadline=None)
@given(scalars, st.integers(min_value=0, max_value=7))
def test_encoding_round_trip(a: int, torsion: int) -> None:
    p = add(base_mul(a), SMALL_ORDER[torsion])
    encoded = compress(p)
    assert len(encoded) == 32
    assert encoded[0] >> 7 == p.x & 1
    assert int.from_bytes(encoded, "big") & ((1 << 255) - 1) == p.y
    assert decompress(encoded) == p


def encoding(y: int, sign: int) -> bytes:
    return (y | sign << 255).to_bytes(32, "big")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (encoding(1 + R, 0), "y >= r"),  # the identity's y plus r
        (encoding(3 + R, 0), "y >= r"),  # a valid point's y plus r
        (encoding((1 << 255) - 1, 1), "y >= r"),
        (encoding(1, 1), "sign bit set with x = 0"),  # the identity with a sign
        (encoding(R - 1, 1), "sign bit set with x = 0"),  # (0, -1) with a sign
        (encoding(2, 0), "no point"),  # y = 2 is not on the curve
        (bytes(31), "32 bytes"),
        (compress(GENERATOR) + b"\x00", "32 bytes"),
    ],
)
def test_non_canonical_encodings_are_rejected(data: bytes, reason: str) -> None:
    with pytest.raises(PointError, match=reason):
        decompress(data)


def test_off_curve_points() -> None:
    for p in (
        Point(1, 1),
        Point(GENERATOR.x, GENERATOR.y + 1),
        Point(GENERATOR.x + R, GENERATOR.y),
    ):
        assert not is_on_curve(p)
        with pytest.raises(PointError):
            compress(p)


def test_generator_table_covers_256_bit_scalars() -> None:
    assert len(jubjub._generator_table()) * 4 == 256
