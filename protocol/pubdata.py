"""Pubdata: the 64-byte operation records of PROTOCOL section 8, the L1 priority requests, the
31-byte chunking and the batch commitment of section 9.

Every record is ``OP_BYTES`` bytes, big-endian, zero-padded at the end; byte 0 is the operation
type. What follows is the operation's :class:`Layout`: its fields in order, each a fixed number
of bytes (widths from ``protocol.params``). Every operation declares its layout once, in its
descriptor (``protocol/ops/<op>.py``); this module is the one codec that reads and writes all of
them. Decoding is strict (wrong type byte or length, a value at or above its field's bound — a
status is 0 or 1, forced-order flags only the known bits — or a non-zero padding byte raise
``PubdataError``), so every record has exactly one encoding.

A field is an *input* (what the operation was asked to do) or a *result* (what the rules made
of it). A priority request (what L1 hashes into its queue) is the record's prefix up to, not
including, its first result field. The queue is a keccak prefix-hash chain:
``h_i = keccak256(h_{i-1} ‖ request_i)`` with ``h_{-1} = 0``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from Crypto.Hash import keccak

from protocol import poseidon
from protocol.params import RECORD_ACCOUNT_BYTES, RECORD_ADDRESS_BYTES, RECORD_PUBKEY_BYTES

OP_BYTES = 64
CHUNK_BYTES = 31  # a 31-byte big-endian chunk is always < r
ACCOUNT_BYTES = RECORD_ACCOUNT_BYTES  # account indices are 48-bit in every preset
ADDRESS_BYTES = RECORD_ADDRESS_BYTES
PUBKEY_BYTES = RECORD_PUBKEY_BYTES
ZERO_HASH = bytes(32)
DOMAIN_PUBDATA = int.from_bytes(b"pubdata", "big")  # the batch commitment's sponge domain

# Flags of a forced order; any other bit is invalid.
ORDER_FLAG_ASK = 0x01  # sell; otherwise buy
ORDER_FLAG_MARKET = 0x02  # immediate-or-cancel at worst price `price`; otherwise a resting limit
ORDER_FLAGS_MASK = ORDER_FLAG_ASK | ORDER_FLAG_MARKET


class PubdataError(ValueError):
    """A record or request that is not a valid encoding."""


class OpType(IntEnum):
    """The type byte of every operation (one descriptor each in ``protocol/ops/<name>.py``)."""

    NOOP = 0
    DEPOSIT = 1
    REGISTER_KEY = 2
    TRANSFER = 3
    WITHDRAW = 4
    FORCED_WITHDRAW = 5
    FORCED_CANCEL_ALL = 6
    FORCED_ORDER = 7
    FORCED_BURN = 8
    CREATE_ORDER = 16
    CLAIM = 17
    CANCEL_ORDER = 18
    CANCEL_ALL = 19
    MODIFY_ORDER = 20
    SET_LEVERAGE = 21
    TRIGGER_ORDER = 22
    PRE_EXECUTION = 23
    LIQUIDATE = 24
    TAKEOVER = 25
    DELEVERAGE = 26
    MINT_SHARES = 27
    BURN_SHARES = 28
    DELEVERAGE_STEP = 29
    DELEVERAGE_END = 30


class Origin(IntEnum):
    """Who puts an operation into a block."""

    L1 = 0  # a priority request of the L1 contract, consumed in queue order
    L2_SIGNED = 1  # a transaction signed by the account's L2 key
    SEQUENCER = 2  # inserted by the operator where the rules call for it (claims, liquidations)


# Records that pay out on L1 when their batch is executed.
L1_WITHDRAWAL_TYPES = frozenset({OpType.WITHDRAW, OpType.FORCED_WITHDRAW})

# -- fields and layouts -------------------------------------------------------------------------

UINT, RAW = 0, 1  # a field's kind: a big-endian unsigned integer, or raw bytes (address, key)


@dataclass(frozen=True)
class RecordField:
    """One field of a record: ``nbytes`` wide; a UINT value is in ``[0, bound)`` (0: any value
    of the width), a RAW one exactly ``nbytes`` long; ``result`` when the rules compute it."""

    name: str
    nbytes: int
    kind: int = UINT
    result: bool = False
    bound: int = 0

    @property
    def limit(self) -> int:
        """The exclusive upper bound of a UINT value."""
        return self.bound or 1 << (8 * self.nbytes)


def status_field(name: str = "status") -> RecordField:
    """A result field that is 0 (refused, consumed as a no-op) or 1 (applied)."""
    return RecordField(name, 1, UINT, True, 2)


@dataclass(frozen=True)
class Layout:
    """The fields after a record's type byte, in order."""

    op_type: int
    fields: tuple[RecordField, ...]

    def offset(self, name: str) -> tuple[int, int]:
        """``(first byte, length)`` of field ``name`` in the record."""
        start = 1
        for f in self.fields:
            if f.name == name:
                return start, f.nbytes
            start += f.nbytes
        raise KeyError(f"type {self.op_type} has no field {name!r}")

    def offsets(self) -> tuple[tuple[int, int], ...]:
        """``(first byte, length)`` of every field, in order."""
        return tuple(self.offset(f.name) for f in self.fields)

    @property
    def end(self) -> int:
        """The first byte after the last field (the padding starts there)."""
        return 1 + sum(f.nbytes for f in self.fields)

    @property
    def request_bytes(self) -> int:
        """The length of the request: the record up to its first result field."""
        start = 1
        for f in self.fields:
            if f.result:
                return start
            start += f.nbytes
        return start

    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def encode(self, values: Sequence[object]) -> bytes:
        """The record of ``values``, one per field in order; PubdataError for a value that is
        not in its field's range (``object``: the compiled engine would raise TypeError for a
        value of another type before the check could name it)."""
        if len(values) != len(self.fields):
            raise PubdataError(f"type {self.op_type} has {len(self.fields)} fields")
        body = bytearray([self.op_type])
        for f, value in zip(self.fields, values, strict=True):
            body += encode_field(f, value)
        return bytes(body.ljust(OP_BYTES, b"\0"))

    def make(self, **values: object) -> Record:
        """A record of this layout by field name (omitted result fields are 0)."""
        unknown = set(values) - set(self.names())
        if unknown:
            raise PubdataError(f"type {self.op_type} has no fields {sorted(unknown)}")
        out: list[int | bytes] = []
        for f in self.fields:
            if f.name in values:
                value = values[f.name]
                if not isinstance(value, int | bytes):
                    raise PubdataError(f"{f.name} = {value!r} is neither an integer nor bytes")
                out.append(value)
            elif f.result:
                out.append(0)
            else:
                raise PubdataError(f"field {f.name} of type {self.op_type} is missing")
        return Record(self, tuple(out))

    def decode(self, record: bytes) -> Record:
        """The values of a record of this layout; strict (see the module docstring)."""
        if len(record) != OP_BYTES:
            raise PubdataError(f"a record is {OP_BYTES} bytes, got {len(record)}")
        if record[0] != self.op_type:
            raise PubdataError(f"expected type {self.op_type}, got {record[0]}")
        values: list[int | bytes] = []
        pos = 1
        for f in self.fields:
            values.append(decode_field(f, record[pos : pos + f.nbytes]))
            pos += f.nbytes
        if any(record[pos:]):
            raise PubdataError(f"non-zero padding after byte {pos}")
        return Record(self, tuple(values))


@dataclass(frozen=True)
class Record:
    """A decoded record: its layout and one value per field."""

    layout: Layout
    values: tuple[int | bytes, ...]

    @property
    def op_type(self) -> int:
        return self.layout.op_type

    def get(self, name: str) -> int | bytes:
        return self.values[self.layout.names().index(name)]

    def get_int(self, name: str) -> int:
        value = self.get(name)
        if not isinstance(value, int):
            raise PubdataError(f"field {name} is not an integer")
        return value

    def get_bytes(self, name: str) -> bytes:
        value = self.get(name)
        if not isinstance(value, bytes):
            raise PubdataError(f"field {name} is not raw bytes")
        return value

    def as_dict(self) -> dict[str, int | bytes]:
        return dict(zip(self.layout.names(), self.values, strict=True))

    def inputs(self) -> dict[str, int | bytes]:
        """The input fields (not the results) by name."""
        fields = self.layout.fields
        return {f.name: v for f, v in zip(fields, self.values, strict=True) if not f.result}

    def encode(self) -> bytes:
        return self.layout.encode(self.values)


def encode_field(f: RecordField, value: object) -> bytes:
    if f.kind == RAW:
        if not isinstance(value, bytes) or len(value) != f.nbytes:
            raise PubdataError(f"{f.name} must be {f.nbytes} bytes, got {value!r}")
        return value
    if not isinstance(value, int) or not 0 <= value < f.limit:
        raise PubdataError(f"{f.name} = {value!r} is not in [0, {f.limit})")
    return value.to_bytes(f.nbytes, "big")


def decode_field(f: RecordField, data: bytes) -> int | bytes:
    if f.kind == RAW:
        return bytes(data)
    value = int.from_bytes(data, "big")
    if value >= f.limit:
        raise PubdataError(f"{f.name} = {value} is not in [0, {f.limit})")
    return value


# -- priority requests and their hash chain -----------------------------------------------------


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def compute_priority_hash(prev: bytes, request: bytes) -> bytes:
    """One link of the queue's chain: ``keccak256(prev ‖ request)``."""
    if len(prev) != 32:
        raise PubdataError(f"prev must be 32 bytes, got {len(prev)}")
    return keccak256(prev + request)


def compute_priority_chain(requests: Iterable[bytes], start: bytes = ZERO_HASH) -> bytes:
    """The chain hash after ``requests``, starting from the hash ``start``."""
    h = start
    for request in requests:
        h = compute_priority_hash(h, request)
    return h


# -- batches ------------------------------------------------------------------------------------


def get_op_type(record: bytes) -> int:
    """The type byte of a record."""
    return record[0]


def split_records(pubdata: bytes) -> list[bytes]:
    if len(pubdata) % OP_BYTES:
        raise PubdataError(f"pubdata length {len(pubdata)} is not a multiple of {OP_BYTES}")
    return [pubdata[i : i + OP_BYTES] for i in range(0, len(pubdata), OP_BYTES)]


def compute_batch_pubdata(records: Sequence[bytes], ops_per_block: int) -> bytes:
    """A batch's pubdata: its records, padded with noops to ``ops_per_block`` slots."""
    if len(records) > ops_per_block:
        raise PubdataError(f"{len(records)} records do not fit {ops_per_block} slots")
    for record in records:
        if len(record) != OP_BYTES:
            raise PubdataError(f"a record is {OP_BYTES} bytes, got {len(record)}")
    return b"".join(records) + bytes(OP_BYTES * (ops_per_block - len(records)))


def get_l1_withdrawals(pubdata: bytes) -> bytes:
    """The records that pay out on L1 (``executeBatch``'s argument), concatenated in order."""
    return b"".join(r for r in split_records(pubdata) if r[0] in L1_WITHDRAWAL_TYPES)


def compute_chunks(pubdata: bytes) -> list[int]:
    """Pubdata cut into 31-byte big-endian field elements, the last right-padded with zeros."""
    return [
        int.from_bytes(pubdata[i : i + CHUNK_BYTES].ljust(CHUNK_BYTES, b"\0"), "big")
        for i in range(0, len(pubdata), CHUNK_BYTES)
    ]


def compute_commitment(timestamp: int, pubdata: bytes) -> int:
    """The batch commitment: ``sponge(DOMAIN_PUBDATA, [timestamp, c_0, ..., c_{k-1}])``."""
    return poseidon.sponge([timestamp, *compute_chunks(pubdata)], DOMAIN_PUBDATA)
