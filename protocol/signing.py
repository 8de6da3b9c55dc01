"""L2 transaction signing: the message hash every L2-signed operation is signed over.

For an operation of type ``t`` from account ``a`` with nonce ``n`` and expiry ``e`` (unix
seconds; the operation is valid in blocks with timestamp <= e), on the chain ``chain_id``:

    msg = sponge([chain_id, t, a, n, e, *payload], DOMAIN_L2_TX)

where ``payload`` is the operation's own fields as field elements, in declaration order (signed
values as ``v mod r``, booleans as 0 / 1, L1 addresses as 160-bit integers). The chain id and
the domain keep a signature from being replayed on another deployment or read as anything but
an L2 transaction; the nonce (one per account, which has one L2 key) keeps it from being
replayed at all; the expiry bounds how long a signed transaction may sit unexecuted. The
signature is EdDSA over Jubjub (``protocol.eddsa``) under the account's registered key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol, TypeVar

from protocol import eddsa
from protocol.accounts import Account
from protocol.errors import Expired, InvalidNonce, InvalidSignature, KeyNotRegistered
from protocol.field import from_signed
from protocol.jubjub import Point
from protocol.poseidon import sponge
from protocol.state import State
from protocol.types import check_unsigned

DOMAIN_L2_TX = int.from_bytes(b"zkp.l2tx", "big")


class SignedOp(Protocol):
    """What every L2-signed operation carries besides its payload."""

    @classmethod
    def op_type(cls) -> int: ...

    @property
    def account(self) -> int: ...

    @property
    def nonce(self) -> int: ...

    @property
    def expiry(self) -> int: ...

    @property
    def signature(self) -> eddsa.Signature | None: ...

    def payload(self) -> tuple[int | bool | bytes, ...]: ...


def to_field(value: int | bool | bytes) -> int:
    """One payload value as a field element."""
    if isinstance(value, bytes):
        return int.from_bytes(value, "big")
    return from_signed(int(value))


def compute_tx_message_inputs(chain_id: int, op: SignedOp) -> list[int]:
    """What the message's sponge absorbs for ``op``."""
    head = [chain_id, op.op_type(), op.account, op.nonce, op.expiry]
    return [*(to_field(v) for v in head), *(to_field(v) for v in op.payload())]


def compute_tx_message(chain_id: int, op: SignedOp) -> int:
    """The field element the account's key signs for ``op``."""
    return sponge(compute_tx_message_inputs(chain_id, op), DOMAIN_L2_TX)


def verify_tx_signatures(chain_id: int, signed: Sequence[tuple[Point, SignedOp]]) -> list[bool]:
    """Whether each ``op`` carries a valid signature under its key (a batch: ``eddsa.verify_many``);
    an unsigned one does not."""
    items = [
        (key, compute_tx_message_inputs(chain_id, op), op.signature)
        for key, op in signed
        if op.signature is not None
    ]
    valid = iter(eddsa.verify_many(DOMAIN_L2_TX, items))
    return [op.signature is not None and next(valid) for _, op in signed]


T = TypeVar("T", bound=Any)


def sign_tx(op: T, key: eddsa.SecretKey, chain_id: int) -> T:
    """``op`` with its signature filled in (what a wallet does)."""
    return replace(op, signature=eddsa.sign(key, compute_tx_message(chain_id, op)))


def check_signed_tx(state: State, account: Account, op: SignedOp) -> None:
    """Key registered, nonce is the next one, not expired, signature valid; raises otherwise.

    Writes nothing: the operation increments the nonce once everything else passed."""
    if not account.has_key():
        raise KeyNotRegistered(f"account {account.index} has no L2 key")
    if op.nonce != account.nonce:
        raise InvalidNonce(f"nonce {op.nonce}, expected {account.nonce}")
    check_unsigned(op.expiry, state.preset.timestamp_bits, "expiry")
    if op.expiry < state.timestamp:
        raise Expired(f"transaction expired at {op.expiry}, block time {state.timestamp}")
    if not state.config.check_signatures:
        return
    signature = op.signature
    message = compute_tx_message(state.config.chain_id, op)
    pubkey = Point(*account.pubkey)
    if signature is None or not eddsa.verify(pubkey, message, signature):
        raise InvalidSignature(f"bad signature for account {account.index}")
