"""Register L2 key (type 2, L1 priority): the account's owner sets the key that signs its L2
transactions.

Applied (status 1) when the account exists, ``owner`` is its owner and ``pubkey`` is the
canonical encoding of a Jubjub point of prime order; otherwise consumed as a no-op (status 0).
Replacing a key keeps the nonce, so transactions signed under the old key cannot be replayed.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.events import Event, KeyRegistered, RequestRejected
from protocol.jubjub import Point, PointError, decompress, is_in_subgroup, is_small_order
from protocol.ops.descriptor import Descriptor, get_single_account
from protocol.params import RECORD_ACCOUNT_BYTES, RECORD_ADDRESS_BYTES, RECORD_PUBKEY_BYTES
from protocol.pubdata import RAW, Layout, OpType, Origin, RecordField, status_field
from protocol.state import State


@dataclass(frozen=True, slots=True)
class RegisterKey:
    account: int
    owner: bytes
    pubkey: bytes  # 32-byte compressed Jubjub point

    @classmethod
    def op_type(cls) -> int:
        return OpType.REGISTER_KEY


RECORD = Layout(
    OpType.REGISTER_KEY,
    (
        RecordField("account", RECORD_ACCOUNT_BYTES),
        RecordField("owner", RECORD_ADDRESS_BYTES, RAW),
        RecordField("pubkey", RECORD_PUBKEY_BYTES, RAW),
        status_field(),
    ),
)


def decode_pubkey(data: bytes) -> Point | None:
    """The key encoded by ``data`` when it is a usable signing key, else None."""
    try:
        point = decompress(data)
    except PointError:
        return None
    if is_small_order(point) or not is_in_subgroup(point):
        return None
    return point


def process_register_key(state: State, op: RegisterKey) -> tuple[Event, ...]:
    account = state.accounts.get(op.account)
    if account is None or account.owner != op.owner:
        return (RequestRejected(op.op_type(), op.account, "not the owner"),)
    point = decode_pubkey(op.pubkey)
    if point is None:
        return (RequestRejected(op.op_type(), op.account, "invalid public key"),)
    key = (point.x, point.y)
    state.set_account_field(account, "pubkey", key)
    return (KeyRegistered(op.account, key),)


def compute_register_key_record(op: RegisterKey, events: tuple[Event, ...]) -> bytes:
    status = int(any(isinstance(e, KeyRegistered) for e in events))
    return RECORD.encode((op.account, op.owner, op.pubkey, status))


DESCRIPTOR = Descriptor(
    RegisterKey,
    RECORD,
    Origin.L1,
    process_register_key,
    compute_register_key_record,
    get_single_account,
)
