"""The blob evaluation gadget against ``protocol.blob.evaluate_blob`` (itself equal to
ckzg's ``y``: tests/sequencer/test_kzg.py): values, cost, and tampered witnesses refused."""

from __future__ import annotations

import random

import pytest

from circuits.gadgets.blob import (
    compute_data_commitment,
    compute_l1_elements,
    compute_power_n,
    evaluate_blob,
)
from circuits.r1cs import Builder, LinearCombination, weighted_sum
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


# -- the blob path's second evaluation: the L1 records, the others zeroed (PROTOCOL 9.9) --------
SLOTS = 3


def evaluate_pair(cs: Builder, ins: list[LinearCombination]) -> list[LinearCombination]:
    """Inputs: SLOTS records of 64 byte wires, SLOTS flags, z; outputs p(z) and p_L1(z)."""
    data, flags, z = ins[: 64 * SLOTS], ins[64 * SLOTS : 64 * SLOTS + SLOTS], ins[-1]
    records = [data[64 * s : 64 * s + 64] for s in range(SLOTS)]
    elements = [
        weighted_sum([256 ** (30 - p) for p in range(len(data[i : i + 31]))], data[i : i + 31])
        for i in range(0, len(data), 31)
    ]
    with cs.scope("blob_evaluation"):
        power = compute_power_n(cs, z)
    y = evaluate_blob(cs, elements, z, power)
    y_l1 = evaluate_blob(cs, compute_l1_elements(cs, records, flags), z, power, "l1_evaluation")
    return [y, y_l1]


def _records(seed: int) -> tuple[bytes, list[int]]:
    rng = random.Random(seed)
    types = [1, 3, 4]  # deposit, transfer, withdraw: the transfer is zeroed
    pubdata = b"".join(bytes([t]) + rng.randbytes(63) for t in types)
    return pubdata, [1, 0, 1]


def test_the_second_evaluation_equals_the_masked_reference() -> None:
    pubdata, flags = _records(1)
    z = 987654321
    run = run_gadget(evaluate_pair, [*pubdata, *flags, z])
    run.check()
    ops = len(pubdata) // 64
    assert run.outputs == [
        blob.evaluate_blob(blob.compute_blob_elements(pubdata), z),
        blob.evaluate_l1_records(blob.get_l1_records(pubdata), ops, z),
    ]


def test_masking_costs_one_product_per_overlap() -> None:
    cs = Builder(witness=False)
    records = [[cs.private(f"b{s}_{k}", None) for k in range(64)] for s in range(SLOTS)]
    flags = [cs.private(f"f{s}", None) for s in range(SLOTS)]
    elements = compute_l1_elements(cs, records, flags)
    overlaps = sum(
        len({(31 * i + p) // 64 for p in range(31) if 31 * i + p < 64 * SLOTS})
        for i in range(len(elements))
    )
    assert len(elements) == 7 and cs.num_constraints == overlaps == 9


def test_a_record_unmasked_in_the_second_evaluation_is_refused() -> None:
    """A product that lets the transfer's bytes into p_L1 breaks its constraint."""
    pubdata, flags = _records(2)
    run = run_gadget(evaluate_pair, [*pubdata, *flags, 5])
    wire = run.output_wire_of("l1_masking/element2_slot1")
    assert run.with_wire(wire, run.witness[wire] + 1).rejection() == "l1_masking/element2_slot1"


def test_a_wrong_second_evaluation_is_refused() -> None:
    pubdata, flags = _records(3)
    run = run_gadget(evaluate_pair, [*pubdata, *flags, 5])
    wire = run.output_wire_of("l1_evaluation/y")
    assert run.with_wire(wire, run.witness[wire] + 1).rejection() == "l1_evaluation/y"


def test_the_data_commitment_equals_the_reference_at_a_permutation_per_four_elements() -> None:
    data = random.Random(9).randbytes(64 * 4)
    elements = blob.compute_blob_elements(data)  # 9 elements: three permutations
    run = run_gadget(lambda cs, ins: [compute_data_commitment(cs, ins)], elements)
    run.check()
    assert run.outputs == [blob.compute_data_commitment(data)]
    last = next(
        c.name
        for c in reversed(run.system.constraints)
        if c.name.startswith("data_commitment/") and len(c.c) == 1
    )
    wire = run.output_wire_of(last)
    assert run.with_wire(wire, run.witness[wire] + 1).rejection() == last
    for count, constraints in ((4, 297), (8, 597), (12, 897)):  # 300 per permutation, 75/element
        cs = Builder(witness=False)
        compute_data_commitment(cs, [cs.private(f"e{i}", None) for i in range(count)])
        assert cs.num_constraints == constraints
