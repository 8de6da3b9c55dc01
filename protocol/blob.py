"""The batch's data as an EIP-4844 blob polynomial, and its evaluation at the block circuit's
challenge (PROTOCOL 9.9).

Layout. A batch's pubdata (its records, ``OP_BYTES`` each, in slot order) is cut into 31-byte
big-endian pieces, the last right-padded with zeros (``protocol.pubdata.compute_chunks``);
piece ``i`` is blob field element ``i``, stored in the blob as 32 big-endian bytes whose first
byte is zero (so every element is canonical, ``< r``). Elements after the last piece are zero.
One blob holds ``FIELD_ELEMENTS_PER_BLOB * 31`` bytes: 1,984 records of 64 bytes.

Evaluation form. The elements are the polynomial's values over the 4096th roots of unity in
bit-reversed order (EIP-4844); ``evaluate_blob`` is the spec's barycentric formula

    p(z) = (z^N - 1) / N * sum_i f_i * w_i / (z - w_i)          (z not a root)

where only non-zero ``f_i`` contribute.

Binding (PROTOCOL 9.9). The contract digests what it received into ``d`` (``compute_data_hash``:
the blob's versioned hash, or keccak256 of the calldata pubdata, and the L1 records it acts on);
the circuit commits to its own records with a Poseidon sponge ``c`` and derives the challenge
``z = hash4(c, d, old_root, new_root)`` itself, then exposes ``d``, ``z`` and the folded
evaluation ``e`` of its records' two polynomials (all records; the L1 records alone). ``z`` is
fixed only after both the proven records and the posted data are, so equal values at ``z`` mean
equal polynomials except with probability about 8192/r per try.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from hashlib import sha256

from protocol.field import R
from protocol.ops.registry import PRIORITY_TYPES
from protocol.poseidon import hash4
from protocol.pubdata import (
    CHUNK_BYTES,
    L1_WITHDRAWAL_TYPES,
    OP_BYTES,
    compute_chunks,
    compute_commitment,
    keccak256,
    split_records,
)

FIELD_ELEMENTS_PER_BLOB = 4096
BYTES_PER_FIELD_ELEMENT = 32
BYTES_PER_BLOB = FIELD_ELEMENTS_PER_BLOB * BYTES_PER_FIELD_ELEMENT
BLOB_DATA_BYTES = FIELD_ELEMENTS_PER_BLOB * CHUNK_BYTES  # pubdata bytes one blob carries
PRIMITIVE_ROOT_OF_UNITY = 7  # EIP-4844
VERSIONED_HASH_VERSION_KZG = 0x01
LOG2_N = FIELD_ELEMENTS_PER_BLOB.bit_length() - 1
SLOT_BYTES = 2  # an L1 record's slot index, big-endian, before the record
L1_RECORD_BYTES = SLOT_BYTES + OP_BYTES
# The records the contract acts on: priority requests (the queue) and L1 withdrawals (payouts).
L1_RECORD_TYPES = PRIORITY_TYPES | L1_WITHDRAWAL_TYPES


class DataAvailability(StrEnum):
    """Where a deployment posts its batches' pubdata (one flag, fixed at deployment)."""

    BLOBS = "blobs"  # EIP-4844 blobs of a type-3 commitBatch, opened by the precompile
    CALLDATA = "calldata"  # commitBatch's calldata, evaluated on L1 (chains without blobs)


class BlobError(ValueError):
    """Data that does not fit a blob, or a blob that is not a valid encoding."""


def reverse_bits(i: int, bits: int = LOG2_N) -> int:
    return int(format(i, f"0{bits}b")[::-1], 2)


def _compute_roots_brp() -> tuple[int, ...]:
    w = pow(PRIMITIVE_ROOT_OF_UNITY, (R - 1) // FIELD_ELEMENTS_PER_BLOB, R)
    return tuple(pow(w, reverse_bits(i), R) for i in range(FIELD_ELEMENTS_PER_BLOB))


ROOTS_OF_UNITY_BRP = _compute_roots_brp()  # w_i: the domain point of blob element i


def compute_blob_elements(pubdata: bytes) -> list[int]:
    """The non-trailing field elements of ``pubdata``'s blob (31 bytes each)."""
    if len(pubdata) > BLOB_DATA_BYTES:
        raise BlobError(f"{len(pubdata)} bytes exceed one blob's {BLOB_DATA_BYTES}")
    return compute_chunks(pubdata)


def compute_blob(pubdata: bytes) -> bytes:
    """The 131,072-byte blob carrying ``pubdata``."""
    body = b"".join(
        e.to_bytes(BYTES_PER_FIELD_ELEMENT, "big") for e in compute_blob_elements(pubdata)
    )
    return body.ljust(BYTES_PER_BLOB, b"\0")


def get_blob_pubdata(blob: bytes, length: int) -> bytes:
    """The first ``length`` pubdata bytes of ``blob`` (the inverse of ``compute_blob``); a blob
    with a non-zero top byte in an element, or data past ``length``, is refused."""
    if len(blob) != BYTES_PER_BLOB:
        raise BlobError(f"a blob is {BYTES_PER_BLOB} bytes, got {len(blob)}")
    if length > BLOB_DATA_BYTES:
        raise BlobError(f"{length} bytes exceed one blob's {BLOB_DATA_BYTES}")
    elements = [blob[i : i + BYTES_PER_FIELD_ELEMENT] for i in range(0, BYTES_PER_BLOB, 32)]
    if any(e[0] for e in elements):
        raise BlobError("a blob element has a non-zero first byte")
    data = b"".join(e[1:] for e in elements)
    if any(data[length:]):
        raise BlobError(f"the blob carries data after byte {length}")
    return data[:length]


def evaluate_blob(elements: Sequence[int], z: int) -> int:
    """``p(z)`` of the blob whose first elements are ``elements`` (the rest zero), by the
    barycentric formula of EIP-4844's ``evaluate_polynomial_in_evaluation_form``."""
    if len(elements) > FIELD_ELEMENTS_PER_BLOB:
        raise BlobError(f"{len(elements)} elements exceed a blob")
    z %= R
    if z in ROOTS_OF_UNITY_BRP:
        i = ROOTS_OF_UNITY_BRP.index(z)
        return elements[i] % R if i < len(elements) else 0
    total = 0
    for f, w in zip(elements, ROOTS_OF_UNITY_BRP, strict=False):
        if f:
            total += f * w * pow(z - w, -1, R)
    n = FIELD_ELEMENTS_PER_BLOB
    return total % R * (pow(z, n, R) - 1) * pow(n, -1, R) % R


def compute_versioned_hash(commitment: bytes) -> bytes:
    """EIP-4844's ``kzg_to_versioned_hash``: 0x01 ‖ sha256(commitment)[1:]."""
    return bytes([VERSIONED_HASH_VERSION_KZG]) + sha256(commitment).digest()[1:]


def compute_calldata_hash(pubdata: bytes) -> bytes:
    """The source hash of a batch posted as calldata: keccak256 of its pubdata."""
    return keccak256(pubdata)


def is_l1_record(record: bytes) -> bool:
    """Whether the contract acts on ``record`` (a priority request or an L1 withdrawal)."""
    return bool(record) and record[0] in L1_RECORD_TYPES


def get_l1_records(pubdata: bytes) -> bytes:
    """The blob path's calldata: each L1 record of ``pubdata`` as ``slot (2 bytes) ‖ record``,
    in slot order."""
    return b"".join(
        slot.to_bytes(SLOT_BYTES, "big") + r
        for slot, r in enumerate(split_records(pubdata))
        if is_l1_record(r)
    )


def compute_l1_pubdata(pubdata: bytes) -> bytes:
    """``pubdata`` with every record that is not an L1 record zeroed: the data whose polynomial
    the block circuit evaluates a second time (``blob_l1_y``)."""
    return b"".join(r if is_l1_record(r) else bytes(len(r)) for r in split_records(pubdata))


def decode_l1_records(l1_records: bytes, ops_per_block: int) -> list[tuple[int, bytes]]:
    """``(slot, record)`` of each entry of ``l1_records`` with the contract's checks: whole
    entries, slots strictly increasing and below ``ops_per_block``, L1 record types only."""
    if len(l1_records) % L1_RECORD_BYTES:
        raise BlobError(f"L1 records are {L1_RECORD_BYTES}-byte entries, got {len(l1_records)}")
    entries = []
    last = -1
    for off in range(0, len(l1_records), L1_RECORD_BYTES):
        slot = int.from_bytes(l1_records[off : off + SLOT_BYTES], "big")
        record = l1_records[off + SLOT_BYTES : off + L1_RECORD_BYTES]
        if slot <= last or slot >= ops_per_block:
            raise BlobError(f"L1 record slot {slot} after {last} (of {ops_per_block})")
        if not is_l1_record(record):
            raise BlobError(f"slot {slot}: type {record[0]} is not an L1 record")
        entries.append((slot, record))
        last = slot
    return entries


def evaluate_l1_records(l1_records: bytes, ops_per_block: int, z: int) -> int:
    """``p(z)`` of ``compute_l1_pubdata`` rebuilt from the L1 records alone, as the contract
    computes it (``Blob.evaluateRecords``): by linearity, each record adds its bytes' share of
    the (at most four) elements it overlaps, so the other slots cost nothing."""
    z %= R
    if pow(z, FIELD_ELEMENTS_PER_BLOB, R) == 1:
        raise BlobError("the challenge is a point of the domain")
    total = 0
    for slot, record in decode_l1_records(l1_records, ops_per_block):
        start = slot * OP_BYTES
        for i in range(start // CHUNK_BYTES, (start + OP_BYTES - 1) // CHUNK_BYTES + 1):
            lo, hi = max(start, i * CHUNK_BYTES), min(start + OP_BYTES, (i + 1) * CHUNK_BYTES)
            part = int.from_bytes(record[lo - start : hi - start], "big")
            f = part << (8 * ((i + 1) * CHUNK_BYTES - hi))
            w = ROOTS_OF_UNITY_BRP[i]
            total += f * w * pow(z - w, -1, R)
    n = FIELD_ELEMENTS_PER_BLOB
    return total % R * (pow(z, n, R) - 1) * pow(n, -1, R) % R


def compute_data_hash(source_hash: bytes, l1_records: bytes) -> int:
    """``d = keccak256(source_hash ‖ keccak256(l1_records)) mod r``: the contract's digest of
    the data it received (the blob's versioned hash, or keccak256 of the calldata pubdata, and
    the L1 records), a public input of the block proof (PROTOCOL 9.9)."""
    if len(source_hash) != 32:
        raise BlobError(f"a source hash is 32 bytes, got {len(source_hash)}")
    return int.from_bytes(keccak256(source_hash + keccak256(l1_records)), "big") % R


def compute_challenge(data_commitment: int, data_hash: int, old_root: int, new_root: int) -> int:
    """``z = hash4(c, d, old_root, new_root)``: the block circuit derives it from its own data
    commitment ``c`` (``protocol.pubdata.compute_commitment``, which binds the timestamp and
    every record) and the contract's digest ``d``, so the proven records and the posted data
    are both fixed before ``z`` is (PROTOCOL 9.9)."""
    return hash4(data_commitment, data_hash, old_root, new_root)


def fold_evaluations(y: int, y_l1: int, z: int) -> int:
    """The one public evaluation ``e = y + z^4096 · y_l1``: ``y`` the data's polynomial at
    ``z``, ``y_l1`` that of its L1 records alone (``compute_l1_pubdata``)."""
    return (y + pow(z, FIELD_ELEMENTS_PER_BLOB, R) * y_l1) % R


def compute_evaluation(pubdata: bytes, z: int) -> int:
    """``fold_evaluations`` of ``pubdata``'s two polynomials at ``z``."""
    y = evaluate_blob(compute_blob_elements(pubdata), z)
    y_l1 = evaluate_blob(compute_blob_elements(compute_l1_pubdata(pubdata)), z)
    return fold_evaluations(y, y_l1, z)


@dataclass(frozen=True)
class BatchData:
    """What binds a batch's data to its proof: the contract's digest ``d``, the circuit's
    challenge ``z`` and the folded evaluation ``e`` (public inputs 4 to 6, PROTOCOL 10)."""

    data_hash: int
    challenge: int
    evaluation: int


def compute_batch_data(
    source_hash: bytes, pubdata: bytes, timestamp: int, old_root: int, new_root: int
) -> BatchData:
    """The batch's :class:`BatchData`, as the circuit and the contract compute it."""
    d = compute_data_hash(source_hash, get_l1_records(pubdata))
    z = compute_challenge(compute_commitment(timestamp, pubdata), d, old_root, new_root)
    return BatchData(d, z, compute_evaluation(pubdata, z))
