"""Register L2 key (type 2, L1): the twin of ``protocol/ops/register_key.py``.

Record: account (1..6), owner (7..26), pubkey (27..58) | status (59). Applied (status 1) when A
exists, the record's owner is A's and the 32 bytes decode to a usable key; then A's leaf takes
the point. Otherwise consumed with status 0, nothing changed. The decoder proves either outcome
(``decode_pubkey``: docs/PROTOCOL.md section 5):

- ``y < r``: the 255 low bits compared with ``r`` in two halves;
- a square root: ``x`` is hinted with ``x^2 = u * (7 - 6h)``, ``u = (y^2 - 1) / (d y^2 + 1)``
  and ``h = 1`` when ``u`` is a square (7 is not one, so ``7u`` is a square when ``u`` is not);
- the sign: ``x``'s canonical bit 0 equals the sign bit (when ``x != 0`` the prover must take
  that root; ``x = 0`` with the sign set is refused, as natively);
- prime order: ``P = 8Q + T`` with ``T`` one of the eight points of order dividing 8 (the
  curve's group is the direct sum of the prime-order subgroup and that cyclic group, so ``T``
  is unique): ``P`` is in the subgroup exactly when ``T`` is the identity, and then not of
  small order exactly when ``x != 0``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from itertools import count

from circuits.gadgets.bits import from_bits, to_bits_canonical
from circuits.gadgets.boolean import assert_boolean
from circuits.gadgets.compare import less_than
from circuits.gadgets.equality import is_equal, is_zero
from circuits.gadgets.jubjub import (
    D,
    PointVar,
    add,
    assert_equal_points,
    assert_on_curve,
    double,
)
from circuits.ops.common import Effect, OpCircuit, SlotVars
from circuits.r1cs import ONE, ZERO, Builder, LinearCombination, constant, weighted_sum
from protocol import jubjub
from protocol.field import R, inv, is_square, sqrt
from protocol.ops import register_key

LC = LinearCombination
PUBKEY = register_key.RECORD.offset("pubkey")
STATUS = register_key.RECORD.offset("status")
NON_SQUARE = 7
# k * P is P's component of order dividing 8: k = 1 mod 8 and k = 0 mod ORDER.
TORSION_SCALAR = jubjub.ORDER * pow(jubjub.ORDER, -1, 8)


@cache
def get_torsion_points() -> tuple[jubjub.Point, ...]:
    """The eight points of order dividing 8, as ``i * T`` for ``i = 0..7`` (``T`` of order 8:
    the torsion component of the first curve point by increasing ``y`` that has one)."""
    for y in count(2):
        try:
            p = jubjub.decompress(y.to_bytes(32, "big"))
        except jubjub.PointError:
            continue
        t = jubjub.scalar_mul(TORSION_SCALAR, p)
        if jubjub.scalar_mul(4, t) != jubjub.IDENTITY:
            points = [jubjub.IDENTITY]
            for _ in range(7):
                points.append(jubjub.add(points[-1], t))
            return tuple(points)
    raise AssertionError("unreachable: count() never ends")


def _decompose(x: int, y: int) -> list[int]:
    """``[Q.x, Q.y, i0, i1, i2]`` with ``(x, y) = 8Q + torsion[i]``."""
    p = jubjub.Point(x, y)
    torsion = jubjub.scalar_mul(TORSION_SCALAR, p)
    points = get_torsion_points()
    i = points.index(torsion) if torsion in points else 0
    q = jubjub.scalar_mul(pow(8, -1, jubjub.ORDER), jubjub.add(p, jubjub.neg(torsion)))
    return [q.x, q.y, i & 1, i >> 1 & 1, i >> 2]


def _lookup_torsion(cs: Builder, bits: Sequence[LC]) -> PointVar:
    """``torsion[b0 + 2 b1 + 4 b2]``: the multilinear interpolation of the constant table."""
    b0, b1, b2 = bits
    b01 = cs.mul(b0, b1, "b0b1")
    monomials = [ONE, b0, b1, b01, b2, cs.mul(b0, b2, "b0b2"), cs.mul(b1, b2, "b1b2")]
    monomials.append(cs.mul(b01, b2, "b0b1b2"))  # monomials[s]: the product of s's bits
    coords = []
    for values in zip(*get_torsion_points(), strict=True):
        coefficients = [
            sum((-1) ** bin(s ^ t).count("1") * values[t] for t in range(8) if t & s == t)
            for s in range(8)
        ]
        coords.append(weighted_sum([c % R for c in coefficients], monomials))
    return PointVar(*coords)


def is_in_subgroup(cs: Builder, p: PointVar) -> LC:
    """1 when the curve point ``p`` has prime order or is the identity, else 0 (``p`` must be
    on the curve)."""
    with cs.scope("subgroup"):
        q_x, q_y, *torsion_bits = cs.hints("decomposition", 5, _decompose, p.x, p.y)
        for i, bit in enumerate(torsion_bits):
            assert_boolean(cs, bit, f"torsion_bit{i}")
        q = PointVar(q_x, q_y)
        assert_on_curve(cs, q)
        for i in range(3):
            with cs.scope(f"double{i}"):
                q = double(cs, q)
        assert_equal_points(cs, add(cs, q, _lookup_torsion(cs, torsion_bits)), p, "is_8q_plus_t")
        return is_zero(cs, torsion_bits[0] + torsion_bits[1] + torsion_bits[2])


def _is_below_r(cs: Builder, bits: Sequence[LC]) -> LC:
    """1 when the 255 ``bits`` encode an integer below ``r``."""
    with cs.scope("below_r"):
        hi, lo = from_bits(bits[128:]), from_bits(bits[:128])
        r_hi, r_lo = constant(R >> 128), constant(R & ((1 << 128) - 1))
        hi_less = less_than(cs, hi, r_hi, 127)
        hi_equal = is_equal(cs, hi, r_hi)
        lo_less = less_than(cs, lo, r_lo, 128)
        return hi_less + cs.mul(hi_equal, lo_less, "equal_then_less")


def _root(u: int, sign: int) -> int:
    """The square root of ``u`` of parity ``sign``, or one of ``7u`` when ``u`` has none."""
    root = sqrt(u)
    if root is None:
        return sqrt(NON_SQUARE * u % R) or 0  # 7u is a square
    return root if root & 1 == sign else (R - root) % R


def decode_public_key(cs: Builder, bits: Sequence[LC]) -> tuple[LC, PointVar]:
    """``decode_pubkey`` of the 32-byte encoding whose 256 ``bits`` (least significant first)
    are given: ``(1, point)`` for a usable key, ``(0, junk)`` otherwise."""
    with cs.scope("decode_key"):
        y_bits, sign = bits[:255], bits[255]
        y = from_bits(y_bits)
        canonical = _is_below_r(cs, y_bits)
        yy = cs.mul(y, y, "yy")
        u = cs.hint("u", lambda n, d: n * inv(d) % R, yy - 1, yy * D + 1)
        cs.assert_mul(u, yy * D + 1, yy - 1, "u_times_denominator")
        has_root = cs.hint("has_root", lambda v: int(is_square(v)), u)
        assert_boolean(cs, has_root, "has_root_boolean")
        x = cs.hint("x", _root, u, sign)
        cs.assert_mul(u, NON_SQUARE - (NON_SQUARE - 1) * has_root, cs.mul(x, x, "xx"), "x_squared")
        low_bit = to_bits_canonical(cs, x)[0]
        parity_differs = low_bit + sign - 2 * cs.mul(low_bit, sign, "parity_and_sign")
        x_zero = is_zero(cs, x)
        nonzero_root = has_root - cs.mul(has_root, x_zero, "zero_root")
        cs.assert_mul(nonzero_root, parity_differs, ZERO, "root_has_sign_parity")
        decoded = cs.mul(cs.mul(canonical, has_root, "canonical_root"), 1 - parity_differs, "ok")
        on_curve = PointVar(cs.mul(has_root, x, "point_x"), 1 + cs.mul(has_root, y - 1, "point_y"))
        prime_order = cs.mul(decoded, is_in_subgroup(cs, on_curve), "prime_order")
        usable = cs.mul(prime_order, 1 - x_zero, "usable")
    return usable, PointVar(x, y)


def define_register_key(cs: Builder, slot: SlotVars, on: LC) -> Effect:
    usable, key = decode_public_key(cs, slot.record.field_bits(*PUBKEY))
    status = cs.mul(cs.mul(slot.a.exists, slot.owner_matches, "owned"), usable, "status")
    cs.assert_mul(on, slot.record.field(*STATUS) - status, ZERO, "status_field")
    applied = cs.mul(on, status, "applied")
    old = slot.a.pubkey
    return Effect(
        a_pubkey=(cs.mul(applied, key.x - old.x, "key_x"), cs.mul(applied, key.y - old.y, "key_y"))
    )


CIRCUIT = OpCircuit(register_key.DESCRIPTOR, define_register_key)
