from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.gadgets.equality import is_equal, is_zero
from protocol.field import R
from tests.circuits.harness import run_gadget

felts = st.integers(min_value=0, max_value=R - 1)


@settings(max_examples=25, deadline=None)
@given(felts, st.one_of(felts, st.just(0)))
def test_is_zero_and_is_equal_match_python(a: int, b: int) -> None:
    run = run_gadget(lambda cs, ins: [is_zero(cs, ins[1]), is_equal(cs, ins[0], ins[1])], [a, b])
    run.check()
    assert run.outputs == [int(b == 0), int(a == b)]


def test_is_equal_on_equal_values() -> None:
    run = run_gadget(lambda cs, ins: [is_equal(cs, ins[0], ins[1])], [12345, 12345])
    run.check()
    assert run.outputs == [1]


def test_claiming_a_nonzero_value_is_zero_is_rejected() -> None:
    run = run_gadget(
        lambda cs, ins: [is_zero(cs, ins[0])], [7], overrides={"is_zero/inverse": lambda x: [0]}
    )
    assert run.rejection() == "is_zero/x_times_out_is_zero"


def test_claiming_zero_is_nonzero_is_rejected() -> None:
    run = run_gadget(lambda cs, ins: [is_zero(cs, ins[0])], [0])
    forged = run.with_wire(run.output_wire_of("is_zero/x_times_inverse"), 1)
    assert forged.rejection() == "is_zero/x_times_inverse"
