"""Encodings the operator keeps: signed L2 transactions as bytes (what the write-ahead log
stores), and L1 priority requests as the protocol operations they ask for.

An L2 transaction is ``type byte ‖ JSON`` of its fields (the signature as 64 hex-encoded bytes,
PROTOCOL section 5); decoding checks the type and the exact set of fields, so a log entry reads
back as exactly the operation that was acknowledged. A priority request is the bytes the
contract's ``PriorityRequestQueued`` event carries (PROTOCOL section 8).
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from protocol import pubdata
from protocol.eddsa import Signature
from protocol.ops.deposit import Deposit
from protocol.ops.forced_withdraw import ForcedWithdraw
from protocol.ops.register_key import RegisterKey
from protocol.ops.registry import decode_request, get_priority_operation
from protocol.ops.transfer import Transfer
from protocol.ops.withdraw import Withdraw

L2Transaction = Transfer | Withdraw
ProvableRequest = Deposit | RegisterKey | ForcedWithdraw  # the money-path circuit proves these

L2_TYPES: dict[int, type[L2Transaction]] = {
    pubdata.OpType.TRANSFER: Transfer,
    pubdata.OpType.WITHDRAW: Withdraw,
}


class CodecError(ValueError):
    """Bytes that are not the encoding of a supported transaction or request."""


def encode_tx(tx: L2Transaction) -> bytes:
    """``type ‖ JSON`` of a signed L2 transaction."""
    if type(tx) not in L2_TYPES.values():
        raise CodecError(f"{type(tx).__name__} is not an L2 transaction")
    body: dict[str, Any] = {}
    for f in fields(tx):
        value = getattr(tx, f.name)
        body[f.name] = value.to_bytes().hex() if isinstance(value, Signature) else value
    return bytes([tx.op_type()]) + json.dumps(body, sort_keys=True).encode()


def decode_tx(data: bytes) -> L2Transaction:
    """The transaction ``encode_tx`` wrote; raises CodecError for anything else."""
    if not data or data[0] not in L2_TYPES:
        raise CodecError("not an L2 transaction (unknown type byte)")
    cls = L2_TYPES[data[0]]
    try:
        body = json.loads(data[1:])
    except ValueError as e:
        raise CodecError(f"malformed transaction body: {e}") from None
    names = {f.name for f in fields(cls)}
    if not isinstance(body, dict) or set(body) != names:
        raise CodecError(f"a {cls.__name__} has the fields {sorted(names)}")
    signature = body.pop("signature")
    if signature is not None:
        try:
            body["signature"] = Signature.from_bytes(bytes.fromhex(signature))
        except (TypeError, ValueError) as e:
            raise CodecError(f"malformed signature: {e}") from None
    if not all(type(v) is int for k, v in body.items() if k != "signature"):
        raise CodecError("transaction fields must be integers")
    return cls(**body)


def decode_priority_request(request: bytes) -> ProvableRequest:
    """The protocol operation an L1 request asks for (``PriorityRequestQueued.request``).

    Raises CodecError for the request types the block circuit does not prove yet (forced
    cancel-all, forced order, forced burn): an operator cannot include them, so it must stop
    rather than skip them (the queue is consumed strictly in order)."""
    op = get_priority_operation(decode_request(request))
    if not isinstance(op, ProvableRequest):
        raise CodecError(
            f"priority request type {request[0]} is not in the money-path block circuit"
        )
    return op
