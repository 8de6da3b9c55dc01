"""Writers for the iden3 binary formats that circom and snarkjs read: ``.r1cs`` (version 1)
and ``.wtns`` (version 2), over the BLS12-381 scalar field.

Both are iden3 binary containers: a 4-byte magic, a u32 version, a u32 section count, then
sections of ``(u32 type, u64 byte length, payload)``. Integers are little-endian; field
elements take ``FIELD_BYTES`` bytes, little-endian, in standard (not Montgomery) form.

``.r1cs``: section 1 (header: field size, prime, wire count, public outputs, public inputs,
private inputs, label count, constraint count), section 2 (each constraint as three linear
combinations, each a term count then ``(u32 wire, element)`` terms in increasing wire order),
section 3 (wire -> label map; ours is the identity). Our public inputs are all reported as
public inputs (none as outputs), which keeps snarkjs's public-signal order equal to ours; the
private-input count, informational, is 0 (the builder does not tell inputs from other wires).

``.wtns``: section 1 (field size, prime, witness length), section 2 (the values).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path

from circuits.r1cs import LC, ConstraintSystem
from protocol.field import R

FIELD_BYTES = 32  # 255-bit prime, rounded up to whole 64-bit words
R1CS_VERSION = 1
WTNS_VERSION = 2


def _element(x: int) -> bytes:
    return x.to_bytes(FIELD_BYTES, "little")


def _container(magic: bytes, version: int, sections: Sequence[tuple[int, bytes]]) -> bytes:
    out = [magic, struct.pack("<II", version, len(sections))]
    for kind, payload in sections:
        out += [struct.pack("<IQ", kind, len(payload)), payload]
    return b"".join(out)


def _lc(lc: LC) -> bytes:
    terms = [struct.pack("<I", len(lc))]
    terms += [struct.pack("<I", wire) + _element(lc[wire]) for wire in sorted(lc)]
    return b"".join(terms)


def r1cs_bytes(system: ConstraintSystem) -> bytes:
    """The ``.r1cs`` file of ``system``."""
    header = struct.pack("<I", FIELD_BYTES) + _element(R)
    header += struct.pack("<IIII", system.num_wires, 0, system.num_public, 0)
    header += struct.pack("<QI", system.num_wires, len(system.constraints))
    constraints = b"".join(_lc(c.a) + _lc(c.b) + _lc(c.c) for c in system.constraints)
    labels = b"".join(struct.pack("<Q", i) for i in range(system.num_wires))
    return _container(b"r1cs", R1CS_VERSION, [(1, header), (2, constraints), (3, labels)])


def wtns_bytes(witness: Sequence[int]) -> bytes:
    """The ``.wtns`` file of a witness (wire 0 first, as ``ConstraintSystem`` orders them)."""
    header = struct.pack("<I", FIELD_BYTES) + _element(R) + struct.pack("<I", len(witness))
    values = b"".join(_element(v) for v in witness)
    return _container(b"wtns", WTNS_VERSION, [(1, header), (2, values)])


def write_r1cs(system: ConstraintSystem, path: Path) -> None:
    path.write_bytes(r1cs_bytes(system))


def write_wtns(witness: Sequence[int], path: Path) -> None:
    path.write_bytes(wtns_bytes(witness))
