"""Every operation is one descriptor (protocol/ops/<op>.py), and every layer derived from the
descriptors covers every operation, or marks it there as not proven yet.

Layers: the rules (``HANDLERS``), the pubdata codec (its layout), the block circuit
(``OP_CIRCUITS`` or ``NOT_PROVEN_YET``), ``contracts/Operations.sol`` (generated: every type,
and the request of every L1 operation), the operator's mempool codec (every proven L2-signed
operation, and only those) and the reconstruction (a record back to its operation). The check
is a function returning what is missing, so the test below also shows it catches an operation
that a layer lost.
"""

from __future__ import annotations

import importlib
import pkgutil
import random
import re
from collections.abc import Collection
from dataclasses import fields
from pathlib import Path
from typing import Any, get_args

import pytest

import circuits.ops
import protocol.ops
from circuits.ops.common import ACCOUNT, OWNER
from circuits.ops.slot import NOT_PROVEN_YET, OP_CIRCUITS, PROVEN_TYPES
from protocol import pubdata
from protocol.ops.descriptor import SIGNED_FIELDS, Descriptor
from protocol.ops.registry import BY_TYPE, DESCRIPTORS, HANDLERS, REQUEST_BYTES
from protocol.pubdata import RAW, Origin, Record
from scripts.gen_operations_sol import render
from sequencer import codec

OP_TYPES = frozenset(c.op_type for c in OP_CIRCUITS)  # what the account slots prove


def _modules(package: Any) -> dict[str, Any]:
    return {
        m.name: importlib.import_module(f"{package.__name__}.{m.name}")
        for m in pkgutil.iter_modules(package.__path__)
    }


def _sample(layout: pubdata.Layout, rng: random.Random) -> Record:
    values: list[int | bytes] = []
    for f in layout.fields:
        if f.kind == RAW:
            values.append(rng.randbytes(f.nbytes))
        else:
            values.append(rng.randrange(f.limit))
    return Record(layout, tuple(values))


def find_missing(
    descriptors: Collection[Descriptor],
    proven: Collection[int],
    not_proven: Collection[int],
    l2_types: Collection[int],
    solidity: str,
) -> list[str]:
    """What each layer lacks, one line per operation and layer (empty: all covered)."""
    missing = []
    constants = dict(re.findall(r"constant (\w+) = (\d+);", solidity))
    for d in descriptors:
        name = pubdata.OpType(d.op_type).name
        if d.op_class not in HANDLERS:
            missing.append(f"{name}: no handler in protocol.block")
        if (d.op_type in proven) == (d.op_type in not_proven):
            missing.append(f"{name}: neither proven by the block circuit nor marked not proven")
        if constants.get(name) != str(d.op_type):
            missing.append(f"{name}: no type constant in Operations.sol")
        if d.origin == Origin.L1 and f"{name}_REQUEST_BYTES" not in constants:
            missing.append(f"{name}: no request in Operations.sol")
        if d.origin == Origin.L2_SIGNED and (d.op_type in l2_types) != (d.op_type in proven):
            missing.append(f"{name}: the mempool does not take exactly the proven L2 types")
    return missing


def test_every_layer_covers_every_operation() -> None:
    assert find_missing(DESCRIPTORS, PROVEN_TYPES, NOT_PROVEN_YET, codec.L2_TYPES, render()) == []


def test_the_check_catches_an_operation_a_layer_lost() -> None:
    args = (DESCRIPTORS, PROVEN_TYPES, NOT_PROVEN_YET, codec.L2_TYPES, render())
    lost = pubdata.OpType.DELEVERAGE_STEP  # dropped from the circuit without being marked
    assert find_missing(args[0], PROVEN_TYPES - {lost}, *args[2:]) == [
        "DELEVERAGE_STEP: neither proven by the block circuit nor marked not proven"
    ]
    assert find_missing(*args[:4], render().replace("DEPOSIT = 1;", "")) == [
        "DEPOSIT: no type constant in Operations.sol"
    ]
    transfer = pubdata.OpType.TRANSFER
    assert find_missing(*args[:3], set(codec.L2_TYPES) - {transfer}, args[4]) == [
        "TRANSFER: the mempool does not take exactly the proven L2 types"
    ]


def test_one_descriptor_per_type_in_its_own_module() -> None:
    assert [d.op_type for d in DESCRIPTORS] == sorted(pubdata.OpType)
    for op_type in pubdata.OpType:
        d = BY_TYPE[op_type]
        assert d.name == op_type.name.lower()
        assert d.op_class.__module__ == f"protocol.ops.{d.name}"
        assert d.op_class.op_type() == op_type
    with_descriptor = {
        name for name, m in _modules(protocol.ops).items() if hasattr(m, "DESCRIPTOR")
    }
    assert with_descriptor == {d.name for d in DESCRIPTORS}
    with_circuit = {name for name, m in _modules(circuits.ops).items() if hasattr(m, "CIRCUIT")}
    assert with_circuit == {c.name for c in OP_CIRCUITS}


def test_layouts_share_the_account_and_owner_fields_and_fit_a_record() -> None:
    for d in DESCRIPTORS:
        layout = d.layout
        assert layout.end <= pubdata.OP_BYTES
        names = layout.names()
        assert len(set(names)) == len(names)
        if "owner" in names:
            assert layout.offset("owner") == OWNER
        if d.op_type in OP_TYPES and names:  # the slot reads A's index at bytes 1..6
            assert layout.offset("account") == ACCOUNT
        if d.origin == Origin.L1:
            assert REQUEST_BYTES[d.op_type] == layout.request_bytes


def test_the_static_unions_are_the_derived_sets() -> None:
    """The codec knows every L2-signed and L1 operation, and takes those of PROVEN_TYPES."""
    l2 = {d.op_class for d in DESCRIPTORS if d.origin == Origin.L2_SIGNED}
    assert set(get_args(codec.L2Transaction)) == l2
    assert set(codec.L2_TYPES.values()) == {cls for cls in l2 if cls.op_type() in PROVEN_TYPES}
    l1 = {d.op_class for d in DESCRIPTORS if d.origin == Origin.L1}
    assert set(get_args(codec.ProvableRequest)) == l1


@pytest.mark.parametrize("d", DESCRIPTORS, ids=lambda d: d.name)
def test_a_record_reads_back_as_its_operation(d: Descriptor) -> None:
    """Reconstruction's step: the record's input fields become the operation's fields."""
    rng = random.Random(d.op_type)
    for _ in range(20):
        record = _sample(d.layout, rng)
        if d.name == "create_order":  # flags in range: kind, time in force 0..3
            record = d.layout.make(**{**record.as_dict(), "flags": rng.randrange(64)})
        op = d.get_operation(record, nonce=7, expiry=9)
        assert type(op) is d.op_class
        for name, value in record.inputs().items():
            assert getattr(op, name) == value, name
        if d.origin == Origin.L2_SIGNED:
            assert (op.nonce, op.expiry, op.signature) == (7, 9, None)
        for f in fields(op):  # a flag reads back as a bool (a compiled dataclass insists)
            if f.type is bool or f.type == "bool":
                assert type(getattr(op, f.name)) is bool, f.name
        declared = {f.name for f in fields(op)} - {*SIGNED_FIELDS, "signature"}
        assert declared <= set(record.inputs()) | {"is_ask", "kind", "time_in_force", "reduce_only"}


PROVEN_L2 = [d for d in DESCRIPTORS if d.origin == Origin.L2_SIGNED and d.op_type in PROVEN_TYPES]


@pytest.mark.parametrize("d", PROVEN_L2, ids=lambda d: d.name)
def test_the_mempool_codec_knows_every_field_of_a_proven_l2_type(d: Descriptor) -> None:
    bounds = codec.compute_field_bounds(d)
    assert set(bounds) == {f.name for f in fields(d.op_class)} - {"signature"}


def test_the_trading_table_of_protocol_md_is_the_layouts() -> None:
    """docs/PROTOCOL.md 8.16's table of records 16..28: each field's width, in order."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "PROTOCOL.md").read_text()
    rows = dict(re.findall(r"^\| (\d+) [a-z -]+ \| (.+) \|$", text, flags=re.MULTILINE))
    for d in DESCRIPTORS:
        if d.op_type < pubdata.OpType.CREATE_ORDER:
            continue
        described = re.sub(r"\([^)]*\)", "", rows[str(d.op_type)])
        widths = [int(w) for w in re.findall(r"(\d+)\s*(?=,|\\\||$)", described)]
        assert widths == [f.nbytes for f in d.layout.fields], d.name
