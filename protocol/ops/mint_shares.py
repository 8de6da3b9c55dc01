"""Mint pool shares (type 27, L2 signed): collateral into the liquidity pool (``protocol.pool``).

Payload ``amount`` (``0 < amount < 2^amount_bits``). The signer passes the valid-risk-change rule
afterwards (a healthy account stays healthy); the pool must be solvent; at least one share.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.eddsa import Signature
from protocol.events import Event, SharesMinted
from protocol.ops.common import get_signer, require_not_rule_only, require_valid_risk_change
from protocol.ops.descriptor import Descriptor, get_single_account
from protocol.params import RECORD_ACCOUNT_BYTES, RECORD_AMOUNT_BYTES
from protocol.pool import mint_shares
from protocol.pubdata import Layout, OpType, Origin, RecordField
from protocol.risk import compute_risk
from protocol.state import State
from protocol.types import check_positive


@dataclass(frozen=True, slots=True)
class MintShares:
    account: int
    nonce: int
    expiry: int
    amount: int
    signature: Signature | None = None

    def payload(self) -> tuple[int, ...]:
        return (self.amount,)

    @classmethod
    def op_type(cls) -> int:
        return OpType.MINT_SHARES


RECORD = Layout(
    OpType.MINT_SHARES,
    (
        RecordField("account", RECORD_ACCOUNT_BYTES),
        RecordField("amount", RECORD_AMOUNT_BYTES),
        RecordField("minted", RECORD_AMOUNT_BYTES, result=True),
    ),
)


def process_mint_shares(state: State, op: MintShares) -> tuple[Event, ...]:
    check_positive(op.amount, state.preset.amount_bits, "amount")
    account = get_signer(state, op)
    require_not_rule_only(account)
    before = compute_risk(account, state.markets)
    state.increment_nonce(account)
    out: list[Event] = []
    mint_shares(state, account, op.amount, out)
    require_valid_risk_change(state, account, before)
    return tuple(out)


def compute_mint_shares_record(op: MintShares, events: tuple[Event, ...]) -> bytes:
    (minted,) = (e.shares for e in events if isinstance(e, SharesMinted))
    return RECORD.encode((op.account, op.amount, minted))


DESCRIPTOR = Descriptor(
    MintShares,
    RECORD,
    Origin.L2_SIGNED,
    process_mint_shares,
    compute_mint_shares_record,
    get_single_account,
)
