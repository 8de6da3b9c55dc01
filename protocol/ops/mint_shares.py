"""Mint pool shares (type 27, L2 signed): collateral into the liquidity pool (``protocol.pool``).

Payload ``amount`` (``0 < amount < 2^amount_bits``). The signer passes the valid-risk-change rule
afterwards (a healthy account stays healthy); the pool must be solvent; at least one share.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.eddsa import Signature
from protocol.events import Event, SharesMinted
from protocol.ops.common import get_signer, require_not_rule_only, require_valid_risk_change
from protocol.ops.records import ACCOUNT, AMOUNT, encode_record
from protocol.pool import mint_shares
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
        return 27


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
    return encode_record(
        op.op_type(), [(op.account, ACCOUNT), (op.amount, AMOUNT), (minted, AMOUNT)]
    )
