from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.gadgets.division import div_rem, floor_div
from protocol.field import R, to_signed
from tests.circuits.harness import Gadget, run_gadget


def divide(q_bits: int, b_bits: int) -> Gadget:
    return lambda cs, ins: div_rem(cs, ins[0], ins[1], q_bits, b_bits)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 120), st.integers(1, 120), st.data())
def test_div_rem_matches_python(q_bits: int, b_bits: int, data: st.DataObject) -> None:
    b = data.draw(st.integers(min_value=1, max_value=2**b_bits - 1))
    a = data.draw(st.integers(min_value=0, max_value=b * 2**q_bits - 1))
    run = run_gadget(divide(q_bits, b_bits), [a, b])
    run.check()
    assert run.outputs == list(divmod(a, b))


def test_a_remainder_equal_to_the_divisor_is_rejected() -> None:
    cheat = {"div_rem/quotient_remainder": lambda a, b: (a // b - 1, a % b + b)}
    run = run_gadget(divide(16, 16), [1000, 7], overrides=cheat)
    assert run.outputs == [141, 13]  # a true equation 1000 = 141 * 7 + 13 ...
    assert run.rejection() == "div_rem/remainder_lt_divisor/range/bits_sum"  # ... rejected


def test_a_division_by_zero_has_no_witness() -> None:
    run = run_gadget(divide(16, 16), [1000, 0])
    assert run.rejection() == "div_rem/remainder_lt_divisor/range/bits_sum"


@pytest.mark.parametrize(("q_bits", "a"), [(4, 16 * 7), (1, 14)])
def test_a_quotient_out_of_range_is_rejected(q_bits: int, a: int) -> None:
    run = run_gadget(divide(q_bits, 8), [a, 7])
    assert run.rejection() == "div_rem/quotient/range/bits_sum"


def floor_divide(q_bits: int, b_bits: int) -> Gadget:
    return lambda cs, ins: [floor_div(cs, ins[0], ins[1], q_bits, b_bits)]


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 100), st.integers(1, 100), st.data())
def test_floor_div_matches_python_on_signed_numerators(
    q_bits: int, b_bits: int, data: st.DataObject
) -> None:
    b = data.draw(st.integers(min_value=1, max_value=2**b_bits - 1))
    a = data.draw(st.integers(min_value=-b * 2**q_bits, max_value=b * 2**q_bits - 1))
    run = run_gadget(floor_divide(q_bits, b_bits), [a % R, b])
    run.check()
    assert [to_signed(v) for v in run.outputs] == [a // b]


def test_a_floor_rounded_up_is_rejected() -> None:
    """-1000 // 7 is -143 (rem 1); -142 with the remainder -6 is a true equation, refused."""
    cheat = {"div_rem/quotient_remainder": lambda a, b: (-142, -6)}
    run = run_gadget(floor_divide(16, 16), [-1000 % R, 7], overrides=cheat)
    assert to_signed(run.outputs[0]) == -142
    assert run.rejection() == "div_rem/remainder/range/bits_sum"


def test_a_floor_quotient_out_of_range_is_rejected() -> None:
    run = run_gadget(floor_divide(4, 8), [(-17 * 7) % R, 7])
    assert run.rejection() == "div_rem/quotient/signed_range/bits_sum"
