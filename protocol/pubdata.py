"""Pubdata: the 64-byte operation records of PROTOCOL section 8, the L1 priority requests, the
31-byte chunking and the batch commitment of section 9.

Every record is ``OP_BYTES`` bytes, big-endian, zero-padded at the end; byte 0 is the operation
type, bytes 1..6 the 48-bit account index. One ``encode_<op>`` / ``decode_<op>`` pair per
operation type; decoders are strict (wrong type byte, a value out of its width, a status byte
other than 0 or 1, or a non-zero padding byte raise ``PubdataError``), so every record has
exactly one encoding. ``contracts/Operations.sol`` mirrors this file section by section.

A priority request (what L1 hashes into its queue) is the record's prefix up to, not including,
its first result field; ``request_of`` cuts it, ``decode_request`` reads one back (result fields
zero). The queue is a keccak prefix-hash chain: ``h_i = keccak256(h_{i-1} ‖ request_i)`` with
``h_{-1} = 0``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from Crypto.Hash import keccak

from protocol import poseidon

OP_BYTES = 64
CHUNK_BYTES = 31  # a 31-byte big-endian chunk is always < r
ACCOUNT_BYTES = 6  # account indices are 48-bit in every preset
ADDRESS_BYTES = 20
PUBKEY_BYTES = 32
ZERO_HASH = bytes(32)
DOMAIN_PUBDATA = int.from_bytes(b"pubdata", "big")  # the batch commitment's sponge domain

# Flags of a forced order (byte 29 of its record); any other bit is invalid.
ORDER_FLAG_ASK = 0x01  # sell; otherwise buy
ORDER_FLAG_MARKET = 0x02  # immediate-or-cancel at worst price `price`; otherwise a resting limit
ORDER_FLAGS_MASK = ORDER_FLAG_ASK | ORDER_FLAG_MARKET


class PubdataError(ValueError):
    """A record or request that is not a valid encoding."""


class OpType(IntEnum):
    NOOP = 0
    DEPOSIT = 1
    REGISTER_KEY = 2
    TRANSFER = 3
    WITHDRAW = 4
    FORCED_WITHDRAW = 5
    FORCED_CANCEL_ALL = 6
    FORCED_ORDER = 7
    FORCED_BURN = 8


# Length of the L1 request of each priority operation (its record up to the first result field).
REQUEST_BYTES: dict[OpType, int] = {
    OpType.DEPOSIT: 35,
    OpType.REGISTER_KEY: 59,
    OpType.FORCED_WITHDRAW: 35,
    OpType.FORCED_CANCEL_ALL: 27,
    OpType.FORCED_ORDER: 40,
    OpType.FORCED_BURN: 35,
}
PRIORITY_TYPES = frozenset(REQUEST_BYTES)
# Records that pay out on L1 when their batch is executed.
L1_WITHDRAWAL_TYPES = frozenset({OpType.WITHDRAW, OpType.FORCED_WITHDRAW})


@dataclass(frozen=True)
class Noop:
    pass


@dataclass(frozen=True)
class Deposit:
    account: int
    owner: bytes  # the depositor's L1 address, 20 bytes
    amount: int


@dataclass(frozen=True)
class RegisterKey:
    account: int
    owner: bytes
    pubkey: bytes  # 32 bytes
    status: int = 0


@dataclass(frozen=True)
class Transfer:
    from_account: int
    to_account: int
    amount: int


@dataclass(frozen=True)
class Withdraw:
    account: int
    owner: bytes  # receiver on L1
    amount: int


@dataclass(frozen=True)
class ForcedWithdraw:
    account: int
    owner: bytes
    requested: int
    withdrawn: int = 0


@dataclass(frozen=True)
class ForcedCancelAll:
    account: int
    owner: bytes
    status: int = 0


@dataclass(frozen=True)
class ForcedOrder:
    account: int
    owner: bytes
    market: int
    flags: int
    price: int
    size: int
    status: int = 0


@dataclass(frozen=True)
class ForcedBurn:
    account: int
    owner: bytes
    shares: int
    collateral_out: int = 0
    status: int = 0


Operation = (
    Noop
    | Deposit
    | RegisterKey
    | Transfer
    | Withdraw
    | ForcedWithdraw
    | ForcedCancelAll
    | ForcedOrder
    | ForcedBurn
)


# -- fields -------------------------------------------------------------------------------------


def _uint(value: int, nbytes: int, name: str) -> bytes:
    if not 0 <= value < 1 << (8 * nbytes):
        raise PubdataError(f"{name} = {value} does not fit in {nbytes} bytes")
    return value.to_bytes(nbytes, "big")


def _raw(value: bytes, nbytes: int, name: str) -> bytes:
    if len(value) != nbytes:
        raise PubdataError(f"{name} must be {nbytes} bytes, got {len(value)}")
    return value


def _status(value: int) -> bytes:
    if value not in (0, 1):
        raise PubdataError(f"status must be 0 or 1, got {value}")
    return bytes([value])


def _record(op_type: OpType, *fields: bytes) -> bytes:
    body = bytes([op_type]) + b"".join(fields)
    return body.ljust(OP_BYTES, b"\0")


class _Reader:
    """Reads the fields of one record in order and checks the padding after the last one."""

    def __init__(self, record: bytes, op_type: OpType) -> None:
        if len(record) != OP_BYTES:
            raise PubdataError(f"a record is {OP_BYTES} bytes, got {len(record)}")
        if record[0] != op_type:
            raise PubdataError(f"expected type {op_type.value}, got {record[0]}")
        self.record = record
        self.pos = 1

    def raw(self, nbytes: int) -> bytes:
        value = self.record[self.pos : self.pos + nbytes]
        self.pos += nbytes
        return value

    def uint(self, nbytes: int) -> int:
        return int.from_bytes(self.raw(nbytes), "big")

    def status(self) -> int:
        value = self.uint(1)
        if value > 1:
            raise PubdataError(f"status must be 0 or 1, got {value}")
        return value

    def done(self) -> None:
        if any(self.record[self.pos :]):
            raise PubdataError(f"non-zero padding after byte {self.pos}")


# -- 0 noop -------------------------------------------------------------------------------------


def encode_noop(op: Noop) -> bytes:
    return _record(OpType.NOOP)


def decode_noop(record: bytes) -> Noop:
    _Reader(record, OpType.NOOP).done()
    return Noop()


# -- 1 deposit: account, owner, amount ----------------------------------------------------------


def encode_deposit(op: Deposit) -> bytes:
    return _record(
        OpType.DEPOSIT,
        _uint(op.account, ACCOUNT_BYTES, "account"),
        _raw(op.owner, ADDRESS_BYTES, "owner"),
        _uint(op.amount, 8, "amount"),
    )


def decode_deposit(record: bytes) -> Deposit:
    r = _Reader(record, OpType.DEPOSIT)
    op = Deposit(r.uint(ACCOUNT_BYTES), r.raw(ADDRESS_BYTES), r.uint(8))
    r.done()
    return op


# -- 2 register L2 key: account, owner, pubkey | status -----------------------------------------


def encode_register_key(op: RegisterKey) -> bytes:
    return _record(
        OpType.REGISTER_KEY,
        _uint(op.account, ACCOUNT_BYTES, "account"),
        _raw(op.owner, ADDRESS_BYTES, "owner"),
        _raw(op.pubkey, PUBKEY_BYTES, "pubkey"),
        _status(op.status),
    )


def decode_register_key(record: bytes) -> RegisterKey:
    r = _Reader(record, OpType.REGISTER_KEY)
    op = RegisterKey(r.uint(ACCOUNT_BYTES), r.raw(ADDRESS_BYTES), r.raw(PUBKEY_BYTES), r.status())
    r.done()
    return op


# -- 3 transfer: from, to, amount ---------------------------------------------------------------


def encode_transfer(op: Transfer) -> bytes:
    return _record(
        OpType.TRANSFER,
        _uint(op.from_account, ACCOUNT_BYTES, "from_account"),
        _uint(op.to_account, ACCOUNT_BYTES, "to_account"),
        _uint(op.amount, 8, "amount"),
    )


def decode_transfer(record: bytes) -> Transfer:
    r = _Reader(record, OpType.TRANSFER)
    op = Transfer(r.uint(ACCOUNT_BYTES), r.uint(ACCOUNT_BYTES), r.uint(8))
    r.done()
    return op


# -- 4 withdraw: account, owner (L1 receiver), amount -------------------------------------------


def encode_withdraw(op: Withdraw) -> bytes:
    return _record(
        OpType.WITHDRAW,
        _uint(op.account, ACCOUNT_BYTES, "account"),
        _raw(op.owner, ADDRESS_BYTES, "owner"),
        _uint(op.amount, 8, "amount"),
    )


def decode_withdraw(record: bytes) -> Withdraw:
    r = _Reader(record, OpType.WITHDRAW)
    op = Withdraw(r.uint(ACCOUNT_BYTES), r.raw(ADDRESS_BYTES), r.uint(8))
    r.done()
    return op


# -- 5 forced withdraw: account, owner, requested | withdrawn -----------------------------------


def encode_forced_withdraw(op: ForcedWithdraw) -> bytes:
    return _record(
        OpType.FORCED_WITHDRAW,
        _uint(op.account, ACCOUNT_BYTES, "account"),
        _raw(op.owner, ADDRESS_BYTES, "owner"),
        _uint(op.requested, 8, "requested"),
        _uint(op.withdrawn, 8, "withdrawn"),
    )


def decode_forced_withdraw(record: bytes) -> ForcedWithdraw:
    r = _Reader(record, OpType.FORCED_WITHDRAW)
    op = ForcedWithdraw(r.uint(ACCOUNT_BYTES), r.raw(ADDRESS_BYTES), r.uint(8), r.uint(8))
    r.done()
    return op


# -- 6 forced cancel-all: account, owner | status -----------------------------------------------


def encode_forced_cancel_all(op: ForcedCancelAll) -> bytes:
    return _record(
        OpType.FORCED_CANCEL_ALL,
        _uint(op.account, ACCOUNT_BYTES, "account"),
        _raw(op.owner, ADDRESS_BYTES, "owner"),
        _status(op.status),
    )


def decode_forced_cancel_all(record: bytes) -> ForcedCancelAll:
    r = _Reader(record, OpType.FORCED_CANCEL_ALL)
    op = ForcedCancelAll(r.uint(ACCOUNT_BYTES), r.raw(ADDRESS_BYTES), r.status())
    r.done()
    return op


# -- 7 forced order: account, owner, market, flags, price, size | status ------------------------


def encode_forced_order(op: ForcedOrder) -> bytes:
    if op.flags & ~ORDER_FLAGS_MASK:
        raise PubdataError(f"unknown order flags {op.flags:#x}")
    return _record(
        OpType.FORCED_ORDER,
        _uint(op.account, ACCOUNT_BYTES, "account"),
        _raw(op.owner, ADDRESS_BYTES, "owner"),
        _uint(op.market, 2, "market"),
        _uint(op.flags, 1, "flags"),
        _uint(op.price, 4, "price"),
        _uint(op.size, 6, "size"),
        _status(op.status),
    )


def decode_forced_order(record: bytes) -> ForcedOrder:
    r = _Reader(record, OpType.FORCED_ORDER)
    account, owner, market, flags = (
        r.uint(ACCOUNT_BYTES),
        r.raw(ADDRESS_BYTES),
        r.uint(2),
        r.uint(1),
    )
    if flags & ~ORDER_FLAGS_MASK:
        raise PubdataError(f"unknown order flags {flags:#x}")
    op = ForcedOrder(account, owner, market, flags, r.uint(4), r.uint(6), r.status())
    r.done()
    return op


# -- 8 forced pool-share burn: account, owner, shares | collateral out, status ------------------


def encode_forced_burn(op: ForcedBurn) -> bytes:
    return _record(
        OpType.FORCED_BURN,
        _uint(op.account, ACCOUNT_BYTES, "account"),
        _raw(op.owner, ADDRESS_BYTES, "owner"),
        _uint(op.shares, 8, "shares"),
        _uint(op.collateral_out, 8, "collateral_out"),
        _status(op.status),
    )


def decode_forced_burn(record: bytes) -> ForcedBurn:
    r = _Reader(record, OpType.FORCED_BURN)
    op = ForcedBurn(r.uint(ACCOUNT_BYTES), r.raw(ADDRESS_BYTES), r.uint(8), r.uint(8), r.status())
    r.done()
    return op


# -- any record ---------------------------------------------------------------------------------

_ENCODERS: dict[type, Callable[[Any], bytes]] = {
    Noop: encode_noop,
    Deposit: encode_deposit,
    RegisterKey: encode_register_key,
    Transfer: encode_transfer,
    Withdraw: encode_withdraw,
    ForcedWithdraw: encode_forced_withdraw,
    ForcedCancelAll: encode_forced_cancel_all,
    ForcedOrder: encode_forced_order,
    ForcedBurn: encode_forced_burn,
}
_DECODERS: dict[OpType, Callable[[bytes], Operation]] = {
    OpType.NOOP: decode_noop,
    OpType.DEPOSIT: decode_deposit,
    OpType.REGISTER_KEY: decode_register_key,
    OpType.TRANSFER: decode_transfer,
    OpType.WITHDRAW: decode_withdraw,
    OpType.FORCED_WITHDRAW: decode_forced_withdraw,
    OpType.FORCED_CANCEL_ALL: decode_forced_cancel_all,
    OpType.FORCED_ORDER: decode_forced_order,
    OpType.FORCED_BURN: decode_forced_burn,
}


def encode_op(op: Operation) -> bytes:
    """The 64-byte record of any money-path operation."""
    return _ENCODERS[type(op)](op)


def decode_op(record: bytes) -> Operation:
    """The operation a money-path record encodes (types 0..8)."""
    if not record:
        raise PubdataError("empty record")
    try:
        decoder = _DECODERS[OpType(record[0])]
    except ValueError:
        raise PubdataError(f"type {record[0]} is not a money-path operation") from None
    return decoder(record)


def get_op_type(record: bytes) -> int:
    """The type byte of a record (types 16.. are the trading operations of the engine)."""
    return record[0]


# -- priority requests and their hash chain -----------------------------------------------------


def is_priority_type(op_type: int) -> bool:
    return op_type in PRIORITY_TYPES


def request_of(record: bytes) -> bytes:
    """The L1 request a priority record answers: its prefix up to the first result field."""
    op_type = get_op_type(record)
    if not is_priority_type(op_type):
        raise PubdataError(f"type {op_type} is not a priority operation")
    return record[: REQUEST_BYTES[OpType(op_type)]]


def decode_request(request: bytes) -> Operation:
    """The operation of an L1 request (as the contract's event carries it), result fields 0."""
    if not request or not is_priority_type(request[0]):
        raise PubdataError("not a priority request")
    expected = REQUEST_BYTES[OpType(request[0])]
    if len(request) != expected:
        raise PubdataError(f"a type {request[0]} request is {expected} bytes, got {len(request)}")
    return decode_op(request.ljust(OP_BYTES, b"\0"))


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def compute_priority_hash(prev: bytes, request: bytes) -> bytes:
    """One link of the queue's chain: ``keccak256(prev ‖ request)``."""
    return keccak256(_raw(prev, 32, "prev") + request)


def compute_priority_chain(requests: Iterable[bytes], start: bytes = ZERO_HASH) -> bytes:
    """The chain hash after ``requests``, starting from the hash ``start``."""
    h = start
    for request in requests:
        h = compute_priority_hash(h, request)
    return h


# -- batches ------------------------------------------------------------------------------------


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


def get_priority_requests(pubdata: bytes) -> list[bytes]:
    """The L1 requests a batch consumes, in order."""
    return [request_of(r) for r in split_records(pubdata) if is_priority_type(r[0])]


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
