"""Register L2 key (type 2, L1 priority): the account's owner sets the key that signs its L2
transactions.

Applied (status 1) when the account exists, ``owner`` is its owner and ``pubkey`` is the
canonical encoding of a Jubjub point of prime order; otherwise consumed as a no-op (status 0).
Replacing a key keeps the nonce, so transactions signed under the old key cannot be replayed.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol import pubdata
from protocol.events import Event, KeyRegistered, RequestRejected
from protocol.jubjub import Point, PointError, decompress, is_in_subgroup, is_small_order
from protocol.state import State


@dataclass(frozen=True, slots=True)
class RegisterKey:
    account: int
    owner: bytes
    pubkey: bytes  # 32-byte compressed Jubjub point

    @classmethod
    def op_type(cls) -> int:
        return pubdata.OpType.REGISTER_KEY


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
    return pubdata.encode_register_key(pubdata.RegisterKey(op.account, op.owner, op.pubkey, status))
