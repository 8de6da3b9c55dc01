from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.gadgets.bits import to_bits
from circuits.gadgets.conditional import assert_equal_if, mux, select
from circuits.r1cs import constant
from protocol.field import R
from tests.circuits.harness import asserting, run_gadget

felts = st.integers(min_value=0, max_value=R - 1)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 1), felts, felts)
def test_select_matches_python(cond: int, t: int, f: int) -> None:
    run = run_gadget(lambda cs, ins: [select(cs, ins[0], ins[1], ins[2])], [cond, t, f])
    run.check()
    assert run.outputs == [t if cond else f]


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 3), st.data())
def test_mux_matches_python(k: int, data: st.DataObject) -> None:
    options = data.draw(st.lists(felts, min_size=2**k, max_size=2**k))
    index = data.draw(st.integers(0, 2**k - 1))

    run = run_gadget(lambda cs, ins: [mux(cs, to_bits(cs, ins[0], k), ins[1:])], [index, *options])
    run.check()
    assert run.outputs == [options[index]]


def test_mux_of_constants_needs_one_constraint_for_four() -> None:
    options = [constant(c) for c in (5, 6, 7, 100)]
    run = run_gadget(lambda cs, ins: [mux(cs, ins, options)], [1, 1])
    run.check()
    assert run.outputs == [100]
    assert sum(c.name.startswith("mux/") for c in run.system.constraints) == 1


def test_a_forged_mux_is_rejected() -> None:
    run = run_gadget(lambda cs, ins: [mux(cs, ins[:2], ins[2:])], [1, 0, 10, 20, 30, 40])
    assert run.outputs == [20]
    assert run.with_wire(run.output_wire_of("mux/select"), 5).rejection() == "mux/select"


def test_a_forged_select_is_rejected() -> None:
    run = run_gadget(lambda cs, ins: [select(cs, ins[0], ins[1], ins[2])], [1, 10, 20])
    assert run.with_wire(run.output_wire_of("select"), 0).rejection() == "select"


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 1), felts, st.one_of(felts, st.just(0)))
def test_conditional_assertion_matches_python(cond: int, a: int, b: int) -> None:
    run = run_gadget(
        asserting(lambda cs, ins: assert_equal_if(cs, ins[0], ins[1], ins[2])), [cond, a, b]
    )
    if not cond or a == b:
        run.check()
    else:
        assert run.rejection() == "equal_if"
