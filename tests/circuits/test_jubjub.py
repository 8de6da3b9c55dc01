from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.gadgets import jubjub as gadget
from circuits.gadgets.bits import to_bits
from circuits.gadgets.jubjub import PointVar
from circuits.r1cs import Builder
from protocol import jubjub as native
from protocol.field import R
from tests.circuits.harness import Wires, asserting, run_gadget

scalars = st.integers(min_value=0, max_value=native.ORDER - 1)
TORSION = native.Point(0, R - 1)  # the point of order 2


def points(draw_scalar: int, torsion: bool) -> native.Point:
    p = native.base_mul(draw_scalar)
    return native.add(p, TORSION) if torsion else p


def point_pair(ins: Wires, at: int = 0) -> PointVar:
    return PointVar(ins[at], ins[at + 1])


@settings(max_examples=10, deadline=None)
@given(scalars, scalars, st.booleans())
def test_add_and_double_match_native(a: int, b: int, torsion: bool) -> None:
    p, q = points(a, torsion), points(b, False)

    def gadget_fn(cs: Builder, ins: Wires) -> Wires:
        s = gadget.add(cs, point_pair(ins), point_pair(ins, 2))
        d = gadget.double(cs, point_pair(ins))
        return [*s, *d]

    run = run_gadget(gadget_fn, [*p, *q])
    run.check()
    assert run.outputs == [*native.add(p, q), *native.double(p)]


@pytest.mark.parametrize(
    ("p", "q"),
    [(native.IDENTITY, native.IDENTITY), (TORSION, TORSION), (TORSION, native.GENERATOR)],
)
def test_addition_is_complete(p: native.Point, q: native.Point) -> None:
    run = run_gadget(lambda cs, ins: gadget.add(cs, point_pair(ins), point_pair(ins, 2)), [*p, *q])
    run.check()
    assert run.outputs == list(native.add(p, q))


@settings(max_examples=4, deadline=None)
@given(st.integers(min_value=1, max_value=2**40), scalars, st.booleans())
def test_scalar_mul_matches_native(k: int, a: int, torsion: bool) -> None:
    p = points(a, torsion)

    def gadget_fn(cs: Builder, ins: Wires) -> Wires:
        return list(gadget.scalar_mul(cs, to_bits(cs, ins[0], 41), point_pair(ins, 1)))

    run = run_gadget(gadget_fn, [k, *p])
    run.check()
    assert run.outputs == list(native.scalar_mul(k, p))


@settings(max_examples=4, deadline=None)
@given(st.integers(min_value=0, max_value=2**252 - 1), st.sampled_from([252, 253]))
def test_base_mul_matches_native(k: int, n: int) -> None:
    run = run_gadget(lambda cs, ins: list(gadget.base_mul(cs, to_bits(cs, ins[0], n))), [k])
    run.check()
    assert run.outputs == list(native.base_mul(k))


def on_curve(cs: Builder, ins: Wires) -> None:
    gadget.assert_on_curve(cs, point_pair(ins))


def in_subgroup(cs: Builder, ins: Wires) -> None:
    gadget.assert_in_subgroup(cs, point_pair(ins))


def not_identity(cs: Builder, ins: Wires) -> None:
    gadget.assert_not_identity_in_subgroup(cs, point_pair(ins))


@settings(max_examples=5, deadline=None)
@given(scalars, st.booleans())
def test_point_checks_match_native(a: int, torsion: bool) -> None:
    p = points(a, torsion)
    run_gadget(asserting(on_curve), list(p)).check()
    subgroup = run_gadget(asserting(in_subgroup), list(p))
    assert native.is_in_subgroup(p) == (not torsion)
    if torsion:
        assert subgroup.rejection().startswith("in_subgroup/is_8q_")
    else:
        subgroup.check()


@pytest.mark.parametrize(
    "p", [native.Point(1, 2), native.Point(5, native.GENERATOR.y), native.Point(0, 0)]
)
def test_a_point_off_the_curve_is_rejected(p: native.Point) -> None:
    assert not native.is_on_curve(p)
    assert run_gadget(asserting(on_curve), list(p)).rejection() == "on_curve/curve_equation"
    assert run_gadget(asserting(in_subgroup), list(p)).rejection().startswith("in_subgroup/")


def test_the_identity_is_in_the_subgroup_but_not_a_valid_key() -> None:
    run_gadget(asserting(in_subgroup), list(native.IDENTITY)).check()
    run = run_gadget(asserting(not_identity), list(native.IDENTITY))
    assert run.rejection() == "not_identity/x_invertible"
    run_gadget(asserting(not_identity), list(native.GENERATOR)).check()


def test_a_forged_quotient_is_rejected() -> None:
    run = run_gadget(
        lambda cs, ins: gadget.double(cs, point_pair(ins)),
        list(native.GENERATOR),
        {"double/x3": lambda n, d: [1]},
    )
    assert run.rejection() == "double/x3_times_denominator"


def test_a_forged_sum_is_rejected() -> None:
    run = run_gadget(
        lambda cs, ins: gadget.add(cs, point_pair(ins), point_pair(ins, 2)),
        [*native.GENERATOR, *native.GENERATOR],
        {"add/y3": lambda n, d: [native.GENERATOR.y]},
    )
    assert run.rejection() == "add/y3_times_denominator"


def test_a_forged_window_of_the_base_multiplication_is_rejected() -> None:
    run = run_gadget(lambda cs, ins: list(gadget.base_mul(cs, to_bits(cs, ins[0], 4))), [15])
    wire = run.output_wire_of("base_mul/window1/both_bits")
    assert run.with_wire(wire, 0).rejection() == "base_mul/window1/both_bits"
