"""The blob evaluation gadget against ``protocol.blob.evaluate_blob`` (itself equal to
ckzg's ``y``: tests/sequencer/test_kzg.py): values, cost, and tampered witnesses refused."""

from __future__ import annotations

import random

import pytest

from circuits.gadgets.blob import evaluate_blob
from circuits.r1cs import Builder
from protocol import blob
from protocol.field import R
from tests.circuits.harness import Gadget, run_gadget


def evaluate(count: int) -> Gadget:
    """Inputs: ``count`` elements, then z; output p(z)."""
    return lambda cs, ins: [evaluate_blob(cs, ins[:count], ins[count])]


@pytest.mark.parametrize("count", [1, 9, 40])
def test_gadget_equals_the_barycentric_reference(count: int) -> None:
    rng = random.Random(count)
    elements = [rng.randrange(2**248) for _ in range(count)]
    elements[0] = 0  # a zero element contributes nothing
    z = rng.randrange(R)
    run = run_gadget(evaluate(count), [*elements, z])
    run.check()
    assert run.outputs == [blob.evaluate_blob(elements, z)]


def test_one_constraint_per_element_plus_thirteen() -> None:
    for count in (1, 10, 100):
        cs = Builder(witness=False)
        wires = [cs.private(f"e{i}", None) for i in range(count + 1)]
        evaluate_blob(cs, wires[:count], wires[count])
        assert cs.num_constraints == count + blob.LOG2_N + 1


def test_a_wrong_term_is_refused() -> None:
    elements, z = [5, 6, 7], 123456789
    cheat = {"blob_evaluation/term1": lambda f, zv: [f * 2]}
    run = run_gadget(evaluate(3), [*elements, z], overrides=cheat)
    assert run.rejection() == "blob_evaluation/term1_times_distance"


def test_a_wrong_y_is_refused() -> None:
    run = run_gadget(evaluate(2), [5, 6, 99])
    y_wire = run.output_wire_of("blob_evaluation/y")
    assert run.with_wire(y_wire, run.witness[y_wire] + 1).rejection() == "blob_evaluation/y"


def test_a_wrong_power_of_z_is_refused() -> None:
    run = run_gadget(evaluate(2), [5, 6, 99])
    wire = run.output_wire_of("blob_evaluation/z_pow_2^12")
    assert run.with_wire(wire, 1).rejection() == "blob_evaluation/z_pow_2^12"


def test_z_on_the_domain_has_no_witness_for_a_non_zero_element() -> None:
    run = run_gadget(evaluate(2), [5, 6, blob.ROOTS_OF_UNITY_BRP[1]])
    assert run.rejection() == "blob_evaluation/term1_times_distance"
