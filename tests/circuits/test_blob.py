"""The blob evaluation gadget against ``protocol.blob.evaluate_blob`` (itself equal to
ckzg's ``y``: tests/sequencer/test_kzg.py): values, cost, and tampered witnesses refused."""

from __future__ import annotations

import random

import pytest

from circuits.gadgets.blob import (
    bind_data,
    compute_l1_elements,
    compute_power_n,
    evaluate_blob,
    is_l1_type,
)
from circuits.r1cs import Builder, LinearCombination, weighted_sum
from protocol import blob
from protocol.field import R
from protocol.pubdata import compute_commitment
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


# -- bind_data: the commitment, the challenge and the folded evaluation (PROTOCOL 9.9) ----------


def bind(cs: Builder, ins: list[LinearCombination]) -> list[LinearCombination]:
    """Inputs: SLOTS records of 64 byte wires, timestamp, old root, new root, d; out z, e."""
    data, (ts, old, new, d) = ins[: 64 * SLOTS], ins[64 * SLOTS :]
    records = [data[64 * s : 64 * s + 64] for s in range(SLOTS)]
    return list(bind_data(cs, records, ts, old, new, d))


def _bound(seed: int) -> tuple[bytes, list[int]]:
    pubdata, _ = _records(seed)
    return pubdata, [1_700_000_000, 11, 12, 13]


def test_bind_data_equals_the_batch_data_of_the_rules() -> None:
    pubdata, (ts, old, new, d) = _bound(4)
    run = run_gadget(bind, [*pubdata, ts, old, new, d])
    run.check()
    c = compute_commitment(ts, pubdata)
    z = blob.compute_challenge(c, d, old, new)
    assert run.outputs == [z, blob.compute_evaluation(pubdata, z)]
    source = bytes(32)
    data = blob.compute_batch_data(source, pubdata, ts, old, new)
    d2 = blob.compute_data_hash(source, blob.get_l1_records(pubdata))
    run2 = run_gadget(bind, [*pubdata, ts, old, new, d2])
    assert run2.outputs == [data.challenge, data.evaluation]


@pytest.mark.parametrize("op_type", sorted({*range(9), *range(16, 29)}))
def test_is_l1_type_is_the_l1_record_types(op_type: int) -> None:
    run = run_gadget(lambda cs, ins: [is_l1_type(cs, ins[0])], [op_type])
    run.check()
    assert run.outputs == [int(op_type in blob.L1_RECORD_TYPES)]


def test_a_wrong_l1_flag_is_refused() -> None:
    """A deposit flagged as not an L1 record (its bytes left out of y_l1) breaks is_zero."""
    run = run_gadget(lambda cs, ins: [is_l1_type(cs, ins[0])], [1])
    wire = run.output_wire_of("is_l1/is_zero/x_times_inverse")
    assert run.with_wire(wire, 1).rejection() == "is_l1/is_zero/x_times_inverse"
    wire = run.output_wire_of("is_l1/type_minus_8")
    assert run.with_wire(wire, 3).rejection() == "is_l1/type_minus_8"


@pytest.mark.parametrize(
    "constraint",
    ["evaluation/power_times_l1_evaluation", "blob_evaluation/y", "l1_evaluation/y"],
)
def test_a_wrong_evaluation_is_refused(constraint: str) -> None:
    pubdata, inputs = _bound(5)
    run = run_gadget(bind, [*pubdata, *inputs])
    wire = run.output_wire_of(constraint)
    assert run.with_wire(wire, run.witness[wire] + 1).rejection() == constraint


def test_the_challenge_is_the_hash_of_the_commitment_not_a_free_input() -> None:
    """Changing one record byte changes c, hence z: the records are fixed before z."""
    pubdata, inputs = _bound(6)
    z = run_gadget(bind, [*pubdata, *inputs]).outputs[0]
    changed = pubdata[:70] + bytes([pubdata[70] ^ 1]) + pubdata[71:]
    assert run_gadget(bind, [*changed, *inputs]).outputs[0] != z
    last = run_gadget(bind, [*pubdata, *inputs])
    name = next(
        c.name
        for c in reversed(last.system.constraints)
        if c.name.startswith("challenge/") and len(c.c) == 1
    )
    wire = last.output_wire_of(name)
    assert last.with_wire(wire, last.witness[wire] + 1).rejection() == name
