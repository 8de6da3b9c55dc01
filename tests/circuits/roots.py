"""The roots in F_r of a polynomial of small degree (coefficients lowest first).

Cantor-Zassenhaus: ``gcd(f, x^r - x)`` keeps the product of the distinct linear factors, which
random ``gcd(g, (x + a)^((r-1)/2) - 1)`` split. A test helper: it finds the points where a line
of the plane meets the Jubjub curve (``test_necessity.py``).
"""

from __future__ import annotations

import random

from protocol.field import R, inv

Poly = list[int]


def _trim(a: Poly) -> Poly:
    while a and a[-1] == 0:
        a.pop()
    return a


def add(a: Poly, b: Poly) -> Poly:
    n = max(len(a), len(b))
    return _trim(
        [((a[i] if i < len(a) else 0) + (b[i] if i < len(b) else 0)) % R for i in range(n)]
    )


def scale(c: int, a: Poly) -> Poly:
    return _trim([c * x % R for x in a])


def mul(a: Poly, b: Poly) -> Poly:
    out = [0] * max(0, len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            out[i + j] = (out[i + j] + x * y) % R
    return _trim(out)


def divmod_poly(a: Poly, f: Poly) -> tuple[Poly, Poly]:
    a, q = list(a), [0] * max(1, len(a) - len(f) + 1)
    lead = inv(f[-1])
    while len(a) >= len(f):
        c, shift = a[-1] * lead % R, len(a) - len(f)
        q[shift] = c
        for i, x in enumerate(f):
            a[shift + i] = (a[shift + i] - c * x) % R
        _trim(a)
    return _trim(q), a


def _pow_mod(base: Poly, e: int, f: Poly) -> Poly:
    result, base = [1], divmod_poly(base, f)[1]
    while e:
        if e & 1:
            result = divmod_poly(mul(result, base), f)[1]
        base = divmod_poly(mul(base, base), f)[1]
        e >>= 1
    return result


def _gcd(a: Poly, b: Poly) -> Poly:
    while b:
        a, b = b, divmod_poly(a, b)[1]
    return scale(inv(a[-1]), a)


def roots(f: Poly) -> list[int]:
    """The distinct roots of ``f`` (not the zero polynomial) in F_r."""
    f = _trim(list(f))
    linear = _gcd(f, add(_pow_mod([0, 1], R, f), [0, R - 1]))
    return sorted(_split(linear, random.Random(0)))


def _split(f: Poly, rng: random.Random) -> list[int]:
    if len(f) <= 1:
        return []
    if len(f) == 2:
        return [-f[0] * inv(f[1]) % R]
    while True:
        g = _gcd(f, add(_pow_mod([rng.randrange(R), 1], (R - 1) // 2, f), [R - 1]))
        if 1 < len(g) < len(f):
            return _split(g, rng) + _split(divmod_poly(f, g)[0], rng)
