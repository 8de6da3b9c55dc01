"""The key decoder's torsion lookup as a line: one of its wires set free, where else it meets
the curve (``test_necessity``: the lookup's constraints are necessary when it does).

``register_key``'s lookup interpolates the eight points of order dividing 8 over the bits
``b0, b1, b2`` and their products. With one of those wires free (value ``m``) and the others
fixed, the lookup is ``base + m * direction``: a line, which meets the curve
``-x^2 + y^2 = 1 + d x^2 y^2`` where a quartic in ``m`` vanishes.
"""

from __future__ import annotations

from functools import cache

from circuits.ops.register_key import TORSION_SCALAR, get_torsion_points
from protocol import jubjub
from protocol.field import R
from tests.circuits import roots as roots_poly


def torsion_bits(i: int) -> list[int]:
    return [i & 1, i >> 1 & 1, i >> 2 & 1]


MONOMIALS = {"b0b1": 0b011, "b0b2": 0b101, "b1b2": 0b110, "b0b1b2": 0b111}


@cache
def _lookup_coefficients() -> tuple[tuple[int, ...], ...]:
    """Per monomial (a set of bits), its coefficient point in the lookup's interpolation."""
    points = get_torsion_points()
    return tuple(
        tuple(
            sum((-1) ** bin(s ^ t).count("1") * p[t] for t in range(8) if t & s == t) % R
            for p in zip(*points, strict=True)
        )
        for s in range(8)
    )


def _monomial(s: int, bits: list[int]) -> int:
    return int(all(bits[i] for i in range(3) if s >> i & 1))


def _line(free: str, bits: list[int]) -> tuple[list[int], list[int]]:
    """The lookup as ``base + m * direction`` where ``m`` is the free wire's value."""
    c = _lookup_coefficients()
    if free in MONOMIALS:  # its own coefficient times m; the others at their products
        chosen = MONOMIALS[free]
        terms = [(c[s], s == chosen, 1 if s == chosen else _monomial(s, bits)) for s in range(8)]
    else:  # bit i is m: each monomial with it is m times the product of its other bits
        i = int(free.removeprefix("torsion_bit"))
        terms = [(c[s], bool(s >> i & 1), _monomial(s & ~(1 << i), bits)) for s in range(8)]
    base = [sum(p[k] * m for p, free_, m in terms if not free_) % R for k in (0, 1)]
    direction = [sum(p[k] * m for p, free_, m in terms if free_) % R for k in (0, 1)]
    return base, direction


def _curve_points_on_line(base: list[int], direction: list[int]) -> list[int]:
    """The ``m`` where ``base + m * direction`` is on the curve ``-x^2 + y^2 = 1 + d x^2 y^2``."""
    x, y = [base[0], direction[0]], [base[1], direction[1]]
    xx, yy = roots_poly.mul(x, x), roots_poly.mul(y, y)
    equation = roots_poly.add(roots_poly.add(roots_poly.scale(R - 1, xx), yy), [R - 1])
    equation = roots_poly.add(equation, roots_poly.scale(-jubjub.D % R, roots_poly.mul(xx, yy)))
    return roots_poly.roots(equation)


def _torsion_index(p: jubjub.Point) -> int:
    return get_torsion_points().index(jubjub.scalar_mul(TORSION_SCALAR, p))


def find_other_torsion_point(free: str) -> tuple[list[int], int, jubjub.Point, int]:
    """``(bits, m, point, t)``: the torsion bits claimed (``m`` among them when ``free`` is a
    bit), the free wire's value, the curve point the lookup then gives, and its torsion index:
    with the bits all 0 (the key claimed in the subgroup) a point of non-zero torsion, or with
    some bit set one in the subgroup, so that a wrong key would pass or a right one fail."""
    for index in range(8):
        bits = torsion_bits(index)
        base, direction = _line(free, bits)
        for m in _curve_points_on_line(base, direction):
            point = jubjub.Point((base[0] + m * direction[0]) % R, (base[1] + m * direction[1]) % R)
            if free in MONOMIALS:
                claimed, honest = bits, {_monomial(MONOMIALS[free], bits)}
            else:
                i = int(free.removeprefix("torsion_bit"))
                claimed, honest = [*bits[:i], m, *bits[i + 1 :]], {0, 1}
            t = _torsion_index(point)
            if m not in honest and (sum(claimed) % R == 0) == (t != 0):
                return claimed, m, point, t
    raise LookupError(f"no other curve point on the line of {free}")
