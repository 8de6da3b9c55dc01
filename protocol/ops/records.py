"""Packing of the trading operations' 64-byte pubdata records (types 16..; section 8).

Same conventions as ``protocol.pubdata``: big-endian fixed-width fields after the type byte,
zero-padded to ``OP_BYTES``. Each record carries the operation's inputs (so anyone can replay
the rules from L1 data) followed by its main results.
"""

from __future__ import annotations

from collections.abc import Sequence

from protocol.events import Event, Trade
from protocol.pubdata import OP_BYTES, PubdataError

ACCOUNT, MARKET, PRICE, SIZE, TIME, AMOUNT = 6, 2, 4, 6, 5, 8  # field widths in bytes


def encode_record(op_type: int, fields: Sequence[tuple[int, int]]) -> bytes:
    """``op_type`` then each ``(value, nbytes)`` big-endian; values must be non-negative."""
    body = bytearray([op_type])
    for value, nbytes in fields:
        if not 0 <= value < 1 << (8 * nbytes):
            raise PubdataError(f"{value} does not fit in {nbytes} bytes")
        body += value.to_bytes(nbytes, "big")
    if len(body) > OP_BYTES:
        raise PubdataError(f"record of type {op_type} is {len(body)} bytes")
    return bytes(body.ljust(OP_BYTES, b"\0"))


def decode_record(record: bytes, op_type: int, widths: Sequence[int]) -> list[int]:
    """The fields of a record of ``op_type`` with the given widths; checks type and padding."""
    if len(record) != OP_BYTES or record[0] != op_type:
        raise PubdataError(f"not a {OP_BYTES}-byte record of type {op_type}")
    values, pos = [], 1
    for nbytes in widths:
        values.append(int.from_bytes(record[pos : pos + nbytes], "big"))
        pos += nbytes
    if any(record[pos:]):
        raise PubdataError(f"non-zero padding after byte {pos}")
    return values


def compute_fill_fields(events: Sequence[Event]) -> list[tuple[int, int]]:
    """The result fields of a matching step: maker account and size filled (0, 0 if none)."""
    trades = [e for e in events if isinstance(e, Trade)]
    maker = trades[0].maker if trades else 0
    return [(maker, ACCOUNT), (sum(t.size for t in trades), SIZE)]
