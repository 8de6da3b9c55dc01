from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.gadgets import poseidon as gadget
from protocol import poseidon as native
from protocol.field import R
from tests.circuits.harness import run_gadget

felts = st.integers(min_value=0, max_value=R - 1)


@pytest.mark.parametrize(("width", "constraints"), [(3, 243), (5, 300)])
def test_permutation_matches_native_on_the_zero_state(width: int, constraints: int) -> None:
    run = run_gadget(lambda cs, ins: gadget.permute(cs, ins), [0] * width)
    run.check()
    assert run.outputs == native.permute([0] * width)
    assert len(run.system.constraints) == constraints + width  # + one exposure per lane


@settings(max_examples=8, deadline=None)
@given(st.sampled_from([3, 5]), st.data())
def test_permutation_matches_native(width: int, data: st.DataObject) -> None:
    state = data.draw(st.lists(felts, min_size=width, max_size=width))
    run = run_gadget(lambda cs, ins: gadget.permute(cs, ins), state)
    run.check()
    assert run.outputs == native.permute(state)


@settings(max_examples=8, deadline=None)
@given(st.lists(felts, min_size=6, max_size=6))
def test_hash2_and_hash4_match_native(xs: list[int]) -> None:
    run = run_gadget(
        lambda cs, ins: [gadget.hash2(cs, ins[0], ins[1]), gadget.hash4(cs, *ins[2:6])], xs
    )
    run.check()
    assert run.outputs == [native.hash2(*xs[:2]), native.hash4(*xs[2:])]


@settings(max_examples=10, deadline=None)
@given(st.lists(felts, min_size=0, max_size=9), st.integers(1, 2**64 - 1))
def test_sponge_matches_native(xs: list[int], domain: int) -> None:
    run = run_gadget(lambda cs, ins: [gadget.sponge(cs, ins, domain)], xs)
    run.check()
    assert run.outputs == [native.sponge(xs, domain)]


def test_a_wrong_partial_round_value_is_rejected() -> None:
    cheat = {"poseidon/round20/next_lane0_input": lambda a, b, c: [12345]}
    run = run_gadget(lambda cs, ins: [gadget.hash2(cs, ins[0], ins[1])], [1, 2], cheat)
    assert run.rejection() == "poseidon/round20/lane0_x5"


def test_a_wrong_sbox_value_is_rejected() -> None:
    run = run_gadget(lambda cs, ins: [gadget.hash2(cs, ins[0], ins[1])], [1, 2])
    wire = run.output_wire_of("poseidon/round0/lane1_x4")
    assert run.with_wire(wire, 7).rejection() == "poseidon/round0/lane1_x4"
