"""contracts/Operations.sol: generated from the operations' descriptors (protocol/ops/)."""

from __future__ import annotations

import re

from protocol import pubdata
from protocol.ops.registry import DESCRIPTORS, REQUEST_BYTES
from scripts.gen_operations_sol import OUTPUT, render


def test_the_committed_file_is_the_generator_output() -> None:
    assert OUTPUT.read_text() == render(), "run `python -m scripts.gen_operations_sol`"


def _constants(source: str) -> dict[str, int]:
    found = re.findall(r"constant (\w+) = (0x[0-9a-fA-F]+|\d+);", source)
    return {name: int(value, 0) for name, value in found}


def test_the_constants_are_the_descriptors() -> None:
    constants = _constants(OUTPUT.read_text())
    for d in DESCRIPTORS:
        name = pubdata.OpType(d.op_type).name
        assert constants[name] == d.op_type
        if d.op_type in REQUEST_BYTES:
            assert constants[f"{name}_REQUEST_BYTES"] == REQUEST_BYTES[d.op_type]
        if d.op_type in REQUEST_BYTES or d.op_type in pubdata.L1_WITHDRAWAL_TYPES:
            for f in d.layout.fields:
                offset = constants[f"{name}_{f.name.upper()}_OFFSET"]
                assert offset == d.layout.offset(f.name)[0]
    assert (constants["OWNER_OFFSET"], constants["AFTER_OWNER"]) == (7, 27)
    # the u64 fields L1 reads with readU64 are 8 bytes wide
    for name, field in [
        ("deposit", "amount"),
        ("withdraw", "amount"),
        ("forced_withdraw", "withdrawn"),
    ]:
        (d,) = (d for d in DESCRIPTORS if d.name == name)
        assert d.layout.offset(field)[1] == 8


def test_literal_offsets_are_gone_from_the_readers() -> None:
    source = OUTPUT.read_text()
    assert not re.search(r"readU64\([^)]*, \d+\)", source)
