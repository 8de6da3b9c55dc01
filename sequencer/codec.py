"""Encodings the operator keeps: signed L2 transactions as bytes (what the write-ahead log
stores), and L1 priority requests as the protocol operations they ask for.

Which operations, from their descriptors (``protocol/ops/<op>.py``): the L2-signed ones and the
L1 ones that the block circuit proves (``circuits.ops.slot.PROVEN_TYPES``); the others are
refused here, since the operator could not prove a block holding them.

An L2 transaction is ``type byte ‖ JSON`` of its fields (the signature as 64 hex-encoded bytes,
PROTOCOL section 5). Both directions check every field against what the rules can accept at
all: the exact set of fields; each integer field an ``int`` of its width (a record field's
width from its descriptor's layout, the nonce's and the expiry's from ``protocol.params``), each
flag a ``bool``; the signature absent or a canonical encoding. So a log entry reads back as
exactly the operation that was acknowledged, and no value can reach the rules that they could
not even represent (an account index of 2^256, say). Anything else raises CodecError. A
priority request is the bytes the contract's ``PriorityRequestQueued`` event carries
(PROTOCOL section 8).
"""

from __future__ import annotations

import json
from dataclasses import fields
from enum import IntEnum
from typing import Any

from circuits.ops.slot import PROVEN_TYPES
from protocol.eddsa import Signature
from protocol.ops.burn_shares import BurnShares
from protocol.ops.cancel_all import CancelAll
from protocol.ops.cancel_order import CancelOrder
from protocol.ops.create_order import CreateOrder, OrderKind, TimeInForce
from protocol.ops.deposit import Deposit
from protocol.ops.descriptor import SIGNED_FIELDS, Descriptor
from protocol.ops.forced_burn import ForcedBurn
from protocol.ops.forced_cancel_all import ForcedCancelAll
from protocol.ops.forced_order import ForcedOrder
from protocol.ops.forced_withdraw import ForcedWithdraw
from protocol.ops.mint_shares import MintShares
from protocol.ops.modify_order import ModifyOrder
from protocol.ops.register_key import RegisterKey
from protocol.ops.registry import DESCRIPTORS, decode_request, get_priority_operation
from protocol.ops.set_leverage import SetLeverage
from protocol.ops.transfer import Transfer
from protocol.ops.withdraw import Withdraw
from protocol.params import PRESETS
from protocol.pubdata import UINT, Origin

# every L2-signed and every L1 operation; the codec takes those of PROVEN_TYPES (``L2_TYPES``,
# ``decode_priority_request``), so a type the block circuit comes to prove is taken at once
L2Transaction = (
    Transfer | Withdraw | CreateOrder | CancelOrder | CancelAll | ModifyOrder | SetLeverage
    | MintShares | BurnShares
)  # fmt: skip
ProvableRequest = (
    Deposit | RegisterKey | ForcedWithdraw | ForcedCancelAll | ForcedOrder | ForcedBurn
)  # fmt: skip

BOOL = 0  # the bound of a flag field: the value is a bool
SIGNED_BITS = {  # the widest of every preset
    "nonce": max(p.account_nonce_bits for p in PRESETS.values()),
    "expiry": max(p.timestamp_bits for p in PRESETS.values()),
}
# fields the record packs into its flags byte (create order: bits 2-3 and 4-5)
PACKED_BOUNDS = {"kind": len(OrderKind), "time_in_force": len(TimeInForce)}


class CodecError(ValueError):
    """Bytes that are not the encoding of a supported transaction or request."""


def compute_field_bounds(d: Descriptor) -> dict[str, int]:
    """Per field of an L2 transaction (the signature aside): the exclusive upper bound of its
    integer value, or BOOL for a flag."""
    in_record = {f.name: f.limit for f in d.layout.fields if f.kind == UINT}
    bounds = {}
    for f in fields(d.op_class):
        if f.name == "signature":
            continue
        if f.type in ("bool", bool):
            bounds[f.name] = BOOL
        elif f.name in SIGNED_FIELDS:
            bounds[f.name] = 1 << SIGNED_BITS[f.name]
        elif f.name in in_record:
            bounds[f.name] = in_record[f.name]
        elif f.name in PACKED_BOUNDS:
            bounds[f.name] = PACKED_BOUNDS[f.name]
        else:
            raise TypeError(f"{d.name}: field {f.name} is not in the record: give it a width")
    return bounds


def get_l2_types(proven: frozenset[int]) -> dict[int, type[L2Transaction]]:
    """The L2-signed operations of ``proven``, by type byte: what the codec accepts."""
    return {t: d.op_class for t, d in ALL_L2_DESCRIPTORS.items() if t in proven}


ALL_L2_DESCRIPTORS: dict[int, Descriptor] = {
    d.op_type: d for d in DESCRIPTORS if d.origin == Origin.L2_SIGNED
}
L2_TYPES: dict[int, type[L2Transaction]] = get_l2_types(PROVEN_TYPES)
FIELD_BOUNDS: dict[int, dict[str, int]] = {
    t: compute_field_bounds(d) for t, d in ALL_L2_DESCRIPTORS.items()
}


def check_fields(op_type: int, body: dict[str, Any]) -> None:
    """Every field of ``body`` (a transaction of ``op_type`` by field name, signature aside) is
    of its type and width; raises CodecError naming the first that is not."""
    for name, bound in FIELD_BOUNDS[op_type].items():
        value = body[name]
        if bound == BOOL:
            if type(value) is not bool:
                raise CodecError(f"{name} must be true or false, got {value!r}")
        elif type(value) is not int or not 0 <= value < bound:
            raise CodecError(f"{name} must be an integer in [0, {bound}), got {value!r}")


def encode_tx(tx: L2Transaction) -> bytes:
    """``type ‖ JSON`` of a signed L2 transaction."""
    cls = type(tx)
    if cls not in L2_TYPES.values():
        raise CodecError(f"{cls.__name__} is not an L2 transaction (or not proven yet)")
    op_type = tx.op_type()
    body: dict[str, Any] = {f.name: _plain(getattr(tx, f.name)) for f in fields(tx)}
    check_fields(op_type, body)
    signature = body["signature"]
    if signature is not None:
        if not isinstance(signature, Signature):
            raise CodecError(f"the signature must be a Signature, got {type(signature).__name__}")
        try:
            body["signature"] = signature.to_bytes().hex()
        except Exception as e:  # any malformed point or scalar: one clean error
            raise CodecError(f"malformed signature: {e}") from None
    return bytes([op_type]) + json.dumps(body, sort_keys=True).encode()


def _plain(value: Any) -> Any:
    """An IntEnum field (``OrderKind``, ``TimeInForce``) as the int it is; the rest as is."""
    return int(value) if isinstance(value, IntEnum) else value


def decode_tx(data: bytes, known: Signature | None = None) -> L2Transaction:
    """The transaction ``encode_tx`` wrote; raises CodecError for anything else.

    A signature whose 64 bytes are ``known``'s is taken as ``known`` (its ``R`` not decompressed
    a second time: ``encode_checked`` reads back the transaction it has just encoded)."""
    if not data or data[0] not in L2_TYPES:
        raise CodecError("not an L2 transaction, or not proven yet (type byte)")
    cls = L2_TYPES[data[0]]
    try:
        body = json.loads(data[1:])
    except ValueError as e:
        raise CodecError(f"malformed transaction body: {e}") from None
    names = {f.name for f in fields(cls)}
    if not isinstance(body, dict) or set(body) != names:
        raise CodecError(f"a {cls.__name__} has the fields {sorted(names)}")
    check_fields(data[0], body)
    signature = body.pop("signature")
    if signature is not None and known is not None and _is_encoding_of(signature, known):
        body["signature"] = known
    elif signature is not None:
        try:
            body["signature"] = Signature.from_bytes(bytes.fromhex(signature))
        except (TypeError, ValueError) as e:
            raise CodecError(f"malformed signature: {e}") from None
    return cls(**body)


def _is_encoding_of(text: Any, signature: Signature) -> bool:
    """Whether ``text`` is the hex of ``signature``'s 64 bytes (False where it has none)."""
    try:
        return isinstance(text, str) and bytes.fromhex(text) == signature.to_bytes()
    except (TypeError, ValueError):
        return False


def decode_priority_request(request: bytes) -> ProvableRequest:
    """The protocol operation an L1 request asks for (``PriorityRequestQueued.request``).

    Raises CodecError for a request type the block circuit does not prove (today none: every
    L1 request is proven): an operator could not include it, so it must stop rather than skip
    it (the queue is consumed strictly in order)."""
    op = get_priority_operation(decode_request(request))
    if op.op_type() not in PROVEN_TYPES or not isinstance(op, ProvableRequest):
        raise CodecError(
            f"priority request type {request[0]} is not in the money-path block circuit"
        )
    return op
