"""The contracts' constants against protocol/: Config.sol and Operations.sol, and Blob.sol's
field, domain and 1/N (the blob evaluation itself is checked on-chain in test_batches.py)."""

from __future__ import annotations

import re

import pytest

from protocol import blob, pubdata
from protocol.field import R
from protocol.params import PRESETS
from scripts.paths import CONTRACTS


def _constant(source: str, name: str) -> int:
    match = re.search(rf"constant {name} =\s*(0x[0-9a-fA-F]+|\d+)", source)
    assert match, name
    return int(match.group(1), 0)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_config_constants_match_the_protocol(preset: str) -> None:
    p = PRESETS[preset]
    config = (CONTRACTS / "Config.sol").read_text()
    assert _constant(config, "FIELD_ORDER") == R
    assert _constant(config, "OP_BYTES") == pubdata.OP_BYTES
    assert _constant(config, "TIMESTAMP_BITS") == p.timestamp_bits
    operations = (CONTRACTS / "Operations.sol").read_text()
    for flag in ("ORDER_FLAG_ASK", "ORDER_FLAG_MARKET"):
        assert _constant(operations, flag) == getattr(pubdata, flag)
    for op_type in pubdata.OpType:
        assert _constant(operations, op_type.name) == op_type


def test_blob_constants_match_the_protocol() -> None:
    source = (CONTRACTS / "Blob.sol").read_text()
    assert _constant(source, "FIELD_ORDER") == R
    assert _constant(source, "ELEMENT_BYTES") == pubdata.CHUNK_BYTES
    assert _constant(source, "LOG2_N") == blob.LOG2_N
    assert _constant(source, "INVERSE_N") * blob.FIELD_ELEMENTS_PER_BLOB % R == 1
    table = source[source.index("uint256[12] memory powers") :]
    powers = [int(h, 16) for h in re.findall(r"0x[0-9a-f]{64}", table)][:12]
    w = blob.ROOTS_OF_UNITY_BRP[blob.reverse_bits(1)]
    assert powers == [pow(w, 2**b, R) for b in range(blob.LOG2_N)]
