from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.gadgets.compare import assert_less_than, less_or_equal, less_than, signed_less_than
from protocol.field import R
from tests.circuits.harness import asserting, run_gadget


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=1, max_value=128), st.data())
def test_unsigned_comparators_match_python(n: int, data: st.DataObject) -> None:
    a, b = (data.draw(st.integers(min_value=0, max_value=2**n - 1)) for _ in range(2))
    b = data.draw(st.sampled_from([a, b]))
    run = run_gadget(
        lambda cs, ins: [less_than(cs, ins[0], ins[1], n), less_or_equal(cs, ins[0], ins[1], n)],
        [a, b],
    )
    run.check()
    assert run.outputs == [int(a < b), int(a <= b)]


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=1, max_value=128), st.data())
def test_signed_comparator_matches_python(n: int, data: st.DataObject) -> None:
    a, b = (data.draw(st.integers(min_value=-(2**n), max_value=2**n - 1)) for _ in range(2))
    run = run_gadget(lambda cs, ins: [signed_less_than(cs, ins[0], ins[1], n)], [a % R, b % R])
    run.check()
    assert run.outputs == [int(a < b)]


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=1, max_value=64), st.data())
def test_assert_less_than_matches_python(n: int, data: st.DataObject) -> None:
    a, b = (data.draw(st.integers(min_value=0, max_value=2**n - 1)) for _ in range(2))

    run = run_gadget(asserting(lambda cs, ins: assert_less_than(cs, ins[0], ins[1], n)), [a, b])
    if a < b:
        run.check()
    else:
        assert run.rejection() == "less_than/range/bits_sum"


def flipped(d: int) -> list[int]:
    """The bits of ``d`` in 9 bits with the top one flipped: the opposite comparison."""
    return [(d >> i) & 1 for i in range(8)] + [1 - (d >> 8 & 1)]


def test_a_flipped_comparison_is_rejected() -> None:
    run = run_gadget(
        lambda cs, ins: [less_than(cs, ins[0], ins[1], 8)],
        [3, 200],
        {"less_than/to_bits/bits": flipped},
    )
    assert run.outputs == [0]  # the cheat claims 3 >= 200 ...
    assert run.rejection() == "less_than/to_bits/bits_sum"  # ... and is caught


def test_a_flipped_signed_comparison_is_rejected() -> None:
    run = run_gadget(
        lambda cs, ins: [signed_less_than(cs, ins[0], ins[1], 7)],
        [-3 % R, 5],
        {"less_than/to_bits/bits": flipped},
    )
    assert run.outputs == [0]  # the cheat claims -3 >= 5 ...
    assert run.rejection() == "less_than/to_bits/bits_sum"
