from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.gadgets.bits import (
    FIELD_BITS,
    assert_bits_at_most,
    assert_range,
    assert_signed_range,
    from_bits,
    to_bits,
    to_bits_canonical,
)
from circuits.r1cs import Builder
from protocol.field import R
from tests.circuits.harness import Wires, asserting, run_gadget

felts = st.integers(min_value=0, max_value=R - 1)


def native_bits(x: int, n: int) -> list[int]:
    return [(x >> i) & 1 for i in range(n)]


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=1, max_value=253), st.data())
def test_to_bits_matches_python(n: int, data: st.DataObject) -> None:
    x = data.draw(st.integers(min_value=0, max_value=2**n - 1))
    run = run_gadget(lambda cs, ins: [*to_bits(cs, ins[0], n), from_bits([ins[0]])], [x])
    run.check()
    assert run.outputs == [*native_bits(x, n), x]
    assert len(run.system.constraints) == n + 1 + (n + 1)  # + one exposure per output


@settings(max_examples=10, deadline=None)
@given(felts)
def test_to_bits_canonical_matches_python(x: int) -> None:
    run = run_gadget(lambda cs, ins: to_bits_canonical(cs, ins[0]), [x])
    run.check()
    assert run.outputs == native_bits(x, FIELD_BITS)


@pytest.mark.parametrize("x", [0, 1, R - 1, 2**254, 2**255 - R - 1])
def test_to_bits_canonical_edges(x: int) -> None:
    run = run_gadget(lambda cs, ins: to_bits_canonical(cs, ins[0]), [x])
    run.check()
    assert run.outputs == native_bits(x, FIELD_BITS)
    assert sum(bit << i for i, bit in enumerate(run.outputs)) == x


@pytest.mark.parametrize("x", [0, 5, 2**255 - R - 1])
def test_the_alias_x_plus_r_is_rejected(x: int) -> None:
    alias = {"to_bits_canonical/bits": lambda v: native_bits(v + R, FIELD_BITS)}
    run = run_gadget(lambda cs, ins: to_bits_canonical(cs, ins[0])[:1], [x], overrides=alias)
    assert run.rejection().startswith("to_bits_canonical/canonical/")


def test_a_bit_set_to_two_is_rejected() -> None:
    bad = {"to_bits/bits": lambda v: [2, *native_bits(v, 8)[1:]]}
    run = run_gadget(lambda cs, ins: to_bits(cs, ins[0], 8), [4], overrides=bad)
    assert run.rejection() == "to_bits/bit0_boolean"


@pytest.mark.parametrize(("n", "x"), [(8, 256), (8, R - 1), (64, 2**64), (1, 2)])
def test_an_out_of_range_value_is_rejected(n: int, x: int) -> None:
    run = run_gadget(asserting(lambda cs, ins: assert_range(cs, ins[0], n)), [x])
    assert run.rejection() == "range/bits_sum"


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=1, max_value=100), st.data())
def test_range_checks_match_python(n: int, data: st.DataObject) -> None:
    x = data.draw(st.integers(min_value=-(2**n) - 2, max_value=2**n + 1))

    run = run_gadget(asserting(lambda cs, ins: assert_signed_range(cs, ins[0], n)), [x % R])
    if -(2**n) <= x < 2**n:
        run.check()
    else:
        assert run.rejection() == "signed_range/bits_sum"
    unsigned = run_gadget(asserting(lambda cs, ins: assert_range(cs, ins[0], n)), [x % R])
    if 0 <= x < 2**n:
        unsigned.check()
    else:
        assert unsigned.rejection() == "range/bits_sum"


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=40), st.data())
def test_bits_at_most_matches_python(n: int, data: st.DataObject) -> None:
    bound = data.draw(st.integers(min_value=0, max_value=2**n - 1))
    x = data.draw(st.integers(min_value=0, max_value=2**n - 1))

    def at_most(cs: Builder, ins: Wires) -> None:
        assert_bits_at_most(cs, to_bits(cs, ins[0], n), bound)

    run = run_gadget(asserting(at_most), [x])
    if x <= bound:
        run.check()
    else:
        assert run.rejection().startswith("at_most/")
