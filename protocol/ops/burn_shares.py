"""Burn pool shares (type 28, L2 signed): shares back into collateral (``protocol.pool``).

Payload ``shares`` (``0 < shares <= held``). Pays ``shares * max(0, pool value) / supply``
rounded down; the insurance fund must keep ``TAV >= MMR`` afterwards. The insurance fund and the
funding pool cannot burn (the fund's own field is the supply).
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.eddsa import Signature
from protocol.events import Event, SharesBurned
from protocol.ops.common import get_signer, require_not_rule_only
from protocol.ops.descriptor import Descriptor, get_single_account
from protocol.params import RECORD_ACCOUNT_BYTES, RECORD_AMOUNT_BYTES
from protocol.pool import burn_shares
from protocol.pubdata import Layout, OpType, Origin, RecordField
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
        return OpType.BURN_SHARES


RECORD = Layout(
    OpType.BURN_SHARES,
    (
        RecordField("account", RECORD_ACCOUNT_BYTES),
        RecordField("shares", RECORD_AMOUNT_BYTES),
        RecordField("paid", RECORD_AMOUNT_BYTES, result=True),
    ),
)


def process_burn_shares(state: State, op: BurnShares) -> tuple[Event, ...]:
    check_positive(op.shares, state.preset.pool_share_bits, "shares")
    account = get_signer(state, op)
    require_not_rule_only(account)
    state.increment_nonce(account)
    out: list[Event] = []
    burn_shares(state, account, op.shares, out)
    return tuple(out)


def compute_burn_shares_record(op: BurnShares, events: tuple[Event, ...]) -> bytes:
    (paid,) = (e.amount for e in events if isinstance(e, SharesBurned))
    return RECORD.encode((op.account, op.shares, paid))


DESCRIPTOR = Descriptor(
    BurnShares,
    RECORD,
    Origin.L2_SIGNED,
    process_burn_shares,
    compute_burn_shares_record,
    get_single_account,
)
