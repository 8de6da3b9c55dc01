"""Poseidon in constraints: the twin of ``protocol.poseidon`` (permutation, hash2, hash4, sponge).

The textbook round function on linear combinations: adding round constants and the MDS product
are linear (no constraint); each S-box ``x^5`` costs three constraints (``x^2``, ``x^4``,
``x^5``). Width 3: (8 * 3 + 57) * 3 = 243 constraints; width 5: (8 * 5 + 60) * 3 = 300.

In the partial rounds the lanes that skip the S-box turn into ever longer combinations, and
lane 0's S-box input would carry all of them into three constraints a round. Instead, each
partial round's ``x^5`` constraint defines the *next* round's lane-0 input ``z`` as a fresh
wire: with ``next_input = m00 * x^5 + rest`` (``rest`` = the other lanes' share of the MDS row
plus the next round constant), the constraint reads ``x^4 * x == (z - rest) / m00``. The long
combination then appears once, and the next S-box works on the single wire ``z``; the count of
constraints is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from circuits.r1cs import Builder, LinearCombination, constant, weighted_sum
from protocol import poseidon as native
from protocol.field import inv

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
    """``protocol.poseidon.permute`` of a width-3 or width-5 state."""
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
