"""Poseidon in constraints: the twin of ``protocol.poseidon`` (permutation, hash2, hash4, hash8,
sponge).

The textbook round function on linear combinations: adding round constants and the MDS product
are linear (no constraint); each S-box ``x^5`` costs three constraints (``x^2``, ``x^4``,
``x^5``). Width 3: (8 * 3 + 57) * 3 = 243 constraints; width 5: (8 * 5 + 60) * 3 = 300; width
9: (8 * 9 + 63) * 3 = 405.

In the partial rounds the lanes that skip the S-box turn into ever longer combinations, and
lane 0's S-box input would carry all of them into three constraints a round. Instead, each
partial round's ``x^5`` constraint defines the *next* round's lane-0 input ``z`` as a fresh
wire: with ``next_input = m00 * x^5 + rest`` (``rest`` = the other lanes' share of the MDS row
plus the next round constant), the constraint reads ``x^4 * x == (z - rest) / m00``. The long
combination then appears once, and the next S-box works on the single wire ``z``; the count of
constraints is unchanged.

In a values-only builder (``circuits.r1cs``: a witness for a system built and cached already)
``permute`` takes ``_permute_values``: the same rounds on plain field elements, allocating the
same wires in the same order with the same values (``x^2``, ``x^4``, ``x^5`` of each S-box on a
non-constant lane; ``x^2``, ``x^4`` and the next input ``z`` of each partial round) and no
linear combination. It is a hint-like twin of the constrained path: the tests require the two
witnesses to be equal wire for wire and the cached system to accept it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from circuits.r1cs import Builder, LinearCombination, constant, weighted_sum
from protocol import poseidon as native
from protocol.field import R, inv

Lanes = list[LinearCombination]


def _sbox(cs: Builder, x: LinearCombination, lane: int) -> LinearCombination:
    x2 = cs.mul(x, x, f"lane{lane}_x2")
    x4 = cs.mul(x2, x2, f"lane{lane}_x4")
    return cs.mul(x4, x, f"lane{lane}_x5")


def _full_round(cs: Builder, lanes: Lanes, mds: native.Matrix) -> Lanes:
    out = [_sbox(cs, x, i) for i, x in enumerate(lanes)]
    return [weighted_sum(row, out) for row in mds]


def _partial_round(cs: Builder, lanes: Lanes, mds: native.Matrix, next_constant: int) -> Lanes:
    """S-box on lane 0 and the MDS product; the new lane 0 is the wire ``z - next_constant``."""
    x, m00 = lanes[0], mds[0][0]
    x2 = cs.mul(x, x, "lane0_x2")
    x4 = cs.mul(x2, x2, "lane0_x4")
    rest = weighted_sum(mds[0][1:], lanes[1:]) + next_constant
    z = cs.hint("next_lane0_input", lambda a, b, c: m00 * a * b + c, x4, x, rest)
    x5 = weighted_sum((_inverse(m00), -_inverse(m00)), (z, rest))  # (z - rest) / m00
    cs.assert_mul(x4, x, x5, "lane0_x5")
    mixed = [weighted_sum(row, [x5, *lanes[1:]]) for row in mds[1:]]
    return [z - next_constant, *mixed]


@cache
def _inverse(x: int) -> int:
    return inv(x)


def permute(cs: Builder, state: Sequence[LinearCombination]) -> Lanes:
    """``protocol.poseidon.permute`` of a width-3, 5 or 9 state."""
    if cs.values_only and not cs.has_hint_overrides:
        return _permute_values(cs, state)
    p = native.get_params(len(state))
    partial = range(p.half_full_rounds, p.half_full_rounds + p.partial_rounds)
    lanes = list(state)
    with cs.scope("poseidon"):
        for rnd, constants in enumerate(p.round_constants):
            lanes = [x + c for x, c in zip(lanes, constants, strict=True)]
            with cs.scope(f"round{rnd}"):
                if rnd in partial:
                    lanes = _partial_round(cs, lanes, p.mds, p.round_constants[rnd + 1][0])
                else:
                    lanes = _full_round(cs, lanes, p.mds)
    return lanes


def _permute_values(cs: Builder, state: Sequence[LinearCombination]) -> Lanes:
    """``permute``'s wires and values without its constraints (values-only builders)."""
    p = native.get_params(len(state))
    partial = range(p.half_full_rounds, p.half_full_rounds + p.partial_rounds)
    values = [x.value for x in state]
    assert all(v is not None for v in values)  # a values-only builder knows every value
    s: list[int] = values  # type: ignore[assignment]
    const = [x.is_constant for x in state]
    wire = cs.values_wire
    last = constant(0)
    for rnd, constants in enumerate(p.round_constants):
        s = [(x + c) % R for x, c in zip(s, constants, strict=True)]
        if rnd in partial:
            x = s[0]
            x2 = x * x % R
            x4 = x2 * x2 % R
            if not const[0]:
                wire(x2)
                wire(x4)
            s[0] = x4 * x % R
            s = [sum(m * v for m, v in zip(row, s, strict=True)) % R for row in p.mds]
            last = wire((s[0] + p.round_constants[rnd + 1][0]) % R)  # the next input z
            const = [False] * len(s)
        else:
            for i, x in enumerate(s):
                x2 = x * x % R
                x4 = x2 * x2 % R
                s[i] = x4 * x % R
                if not const[i]:
                    wire(x2)
                    wire(x4)
                    last = wire(s[i])
            s = [sum(m * v for m, v in zip(row, s, strict=True)) % R for row in p.mds]
            const = [all(const)] * len(s)  # the MDS mixes every lane into every lane
    if all(const):
        return [constant(v) for v in s]
    return [_value_lane(last, v) for v in s]


def _value_lane(anchor: LinearCombination, value: int) -> LinearCombination:
    """A non-constant lane for what follows in a values-only builder, which reads its value
    and whether it is constant (its terms name a wire of the permutation, never used)."""
    return LinearCombination(anchor.terms, value)


def hash2(cs: Builder, a: LinearCombination, b: LinearCombination) -> LinearCombination:
    """``protocol.poseidon.hash2``: lane 0 of ``permute([0, a, b])``."""
    return permute(cs, [constant(0), a, b])[0]


def hash4(
    cs: Builder,
    a: LinearCombination,
    b: LinearCombination,
    c: LinearCombination,
    d: LinearCombination,
) -> LinearCombination:
    """``protocol.poseidon.hash4``: lane 0 of ``permute([0, a, b, c, d])``."""
    return permute(cs, [constant(0), a, b, c, d])[0]


def hash8(
    cs: Builder,
    a: LinearCombination,
    b: LinearCombination,
    c: LinearCombination,
    d: LinearCombination,
    e: LinearCombination,
    f: LinearCombination,
    g: LinearCombination,
    h: LinearCombination,
) -> LinearCombination:
    """``protocol.poseidon.hash8``: lane 0 of ``permute([0, a, b, c, d, e, f, g, h])``."""
    return permute(cs, [constant(0), a, b, c, d, e, f, g, h])[0]


def sponge(cs: Builder, inputs: Sequence[LinearCombination], domain: int) -> LinearCombination:
    """``protocol.poseidon.sponge``: rate 4, capacity lane tagged with domain and length."""
    rate = native.SPONGE_RATE
    blocks = max(1, -(-len(inputs) // rate))  # an empty input is one zero block
    padded = [*inputs, *[constant(0)] * (blocks * rate - len(inputs))]
    state = [constant(native.sponge_tag(domain, len(inputs)))] + [constant(0)] * rate
    with cs.scope("sponge"):
        for i in range(0, len(padded), rate):
            block = padded[i : i + rate]
            state = permute(cs, [state[0], *(s + x for s, x in zip(state[1:], block, strict=True))])
    return state[1]
