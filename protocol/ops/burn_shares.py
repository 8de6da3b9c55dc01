"""Burn pool shares (type 28, L2 signed): shares back into collateral (``protocol.pool``).

Payload ``shares`` (``0 < shares <= held``). Pays ``shares * pool value / supply`` rounded down;
the insurance fund must keep ``TAV >= MMR`` afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.eddsa import Signature
from protocol.events import Event, SharesBurned
from protocol.ops.common import get_signer
from protocol.ops.records import ACCOUNT, AMOUNT, encode_record
from protocol.pool import burn_shares
from protocol.state import State
from protocol.types import check_positive


@dataclass(frozen=True, slots=True)
class BurnShares:
    account: int
    nonce: int
    expiry: int
    shares: int
    signature: Signature | None = None

    def payload(self) -> tuple[int, ...]:
        return (self.shares,)

    @classmethod
    def op_type(cls) -> int:
        return 28


def process_burn_shares(state: State, op: BurnShares) -> tuple[Event, ...]:
    check_positive(op.shares, state.preset.pool_share_bits, "shares")
    account = get_signer(state, op)
    state.increment_nonce(account)
    out: list[Event] = []
    burn_shares(state, account, op.shares, out)
    return tuple(out)


def compute_burn_shares_record(op: BurnShares, events: tuple[Event, ...]) -> bytes:
    (paid,) = (e.amount for e in events if isinstance(e, SharesBurned))
    return encode_record(op.op_type(), [(op.account, ACCOUNT), (op.shares, AMOUNT), (paid, AMOUNT)])
