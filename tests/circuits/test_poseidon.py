from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.gadgets import poseidon as gadget
from circuits.r1cs import (
    Builder,
    ConstraintSystem,
    LinearCombination,
    UnsatisfiedConstraintError,
    constant,
)
from protocol import poseidon as native
from protocol.field import R
from tests.circuits.harness import run_gadget

felts = st.integers(min_value=0, max_value=R - 1)


@pytest.mark.parametrize(("width", "constraints"), [(3, 243), (5, 300), (9, 405)])
def test_permutation_matches_native_on_the_zero_state(width: int, constraints: int) -> None:
    run = run_gadget(lambda cs, ins: gadget.permute(cs, ins), [0] * width)
    run.check()
    assert run.outputs == native.permute([0] * width)
    assert len(run.system.constraints) == constraints + width  # + one exposure per lane


@settings(max_examples=8, deadline=None)
@given(st.sampled_from([3, 5, 9]), st.data())
def test_permutation_matches_native(width: int, data: st.DataObject) -> None:
    state = data.draw(st.lists(felts, min_size=width, max_size=width))
    run = run_gadget(lambda cs, ins: gadget.permute(cs, ins), state)
    run.check()
    assert run.outputs == native.permute(state)


@settings(max_examples=8, deadline=None)
@given(st.lists(felts, min_size=14, max_size=14))
def test_fixed_arity_hashes_match_native(xs: list[int]) -> None:
    run = run_gadget(
        lambda cs, ins: [
            gadget.hash2(cs, ins[0], ins[1]),
            gadget.hash4(cs, *ins[2:6]),
            gadget.hash8(cs, *ins[6:14]),
        ],
        xs,
    )
    run.check()
    assert run.outputs == [native.hash2(*xs[:2]), native.hash4(*xs[2:6]), native.hash8(*xs[6:])]


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


# -- the values-only path ----------------------------------------------------------------------

Define = Callable[[Builder, list[LinearCombination]], object]
VALUES_CASES: list[tuple[str, int, Define]] = [
    ("permute width 3", 3, lambda cs, w: gadget.permute(cs, w)),
    ("permute width 5", 5, lambda cs, w: gadget.permute(cs, w)),
    (
        "hash8, two constant inputs",
        4,
        lambda cs, w: gadget.hash8(
            cs, w[0], w[1], w[2], constant(0), w[3], constant(9), w[1], w[0]
        ),
    ),
    ("hash2 (constant lane 0)", 2, lambda cs, w: gadget.hash2(cs, *w)),
    ("hash4, one constant input", 3, lambda cs, w: gadget.hash4(cs, w[0], constant(5), *w[1:])),
    ("sponge of 6", 6, lambda cs, w: gadget.sponge(cs, w, 7)),
    ("all constant", 0, lambda cs, w: gadget.hash2(cs, constant(1), constant(2))),
    ("chained", 2, lambda cs, w: gadget.hash2(cs, gadget.hash2(cs, *w), w[0])),
]


def build_both(inputs: list[int], define: Define) -> tuple[ConstraintSystem, list[int], list[int]]:
    """The system and witness in witness mode, and the witness of a values-only builder; every
    permutation's output is exposed, so that the values feed constraints after the gadget."""
    witnesses = []
    system = None
    for values_only in (False, True):
        cs = Builder(witness=True, values_only=values_only)
        wires = [cs.private(f"in{i}", v) for i, v in enumerate(inputs)]
        out = define(cs, wires)
        for i, lane in enumerate(out if isinstance(out, list) else [out]):
            cs.expose(f"out{i}", lane + wires[0] if wires else lane)
        if values_only:
            witnesses.append(cs.witness_values())
        else:
            system, witness = cs.finalize()
            assert witness is not None
            witnesses.append(witness)
    assert system is not None
    return system, witnesses[0], witnesses[1]


@pytest.mark.parametrize(("label", "inputs", "define"), VALUES_CASES)
def test_the_values_only_path_gives_the_witness_wire_for_wire(
    label: str, inputs: int, define: Define
) -> None:
    rng = random.Random(label)
    system, full, values = build_both([rng.randrange(R) for _ in range(inputs)], define)
    assert values == full
    system.check(values)


def test_every_wire_of_the_values_only_path_is_constrained() -> None:
    """Each wire the values-only permutation allocates, changed alone, breaks the system."""
    rng = random.Random(3)
    system, _, values = build_both([rng.randrange(R) for _ in range(3)], VALUES_CASES[0][2])
    first = system.num_public + 1 + 3  # after the constant, the exposures and the inputs
    for wire in range(first, system.num_wires):
        tampered = list(values)
        tampered[wire] = (tampered[wire] + 1) % R
        with pytest.raises(UnsatisfiedConstraintError):
            system.check(tampered)
