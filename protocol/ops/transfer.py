"""Transfer (type 3, L2 signed): collateral from one account to another.

Checks: signed by ``account``'s key (nonce, expiry, signature); ``to`` exists and differs from
``account``; neither the insurance fund nor the funding pool sends; ``0 < amount < 2^amount_bits``;
the sender passes the valid-risk-change rule (a healthy sender stays healthy; an unhealthy one
cannot transfer, as losing collateral never improves TAV / MMR). Invariant: the sum of the two
collateral balances is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol import pubdata
from protocol.accounts import FUNDING_POOL
from protocol.eddsa import Signature
from protocol.errors import MalformedTransaction, ReservedAccount
from protocol.events import Event, Transferred
from protocol.ops.common import get_signer, require_not_rule_only, require_valid_risk_change
from protocol.risk import compute_risk
from protocol.state import State
from protocol.types import AccountIndex, QuoteAmount, check_positive


@dataclass(frozen=True, slots=True)
class Transfer:
    account: int
    nonce: int
    expiry: int
    to: AccountIndex
    amount: QuoteAmount
    signature: Signature | None = None

    def payload(self) -> tuple[int, ...]:
        return (self.to, self.amount)

    @classmethod
    def op_type(cls) -> int:
        return pubdata.OpType.TRANSFER


def process_transfer(state: State, op: Transfer) -> tuple[Event, ...]:
    check_positive(op.amount, state.preset.amount_bits, "amount")
    sender = get_signer(state, op)
    require_not_rule_only(sender)
    if op.to == op.account:
        raise MalformedTransaction("transfer to oneself")
    if op.to == FUNDING_POOL:
        raise ReservedAccount("the funding pool receives only funding")
    receiver = state.get_account(op.to)
    before = compute_risk(sender, state.markets)
    state.decrease_collateral(sender, op.amount)
    state.increase_collateral(receiver, op.amount)
    state.increment_nonce(sender)
    require_valid_risk_change(state, sender, before)
    return (Transferred(op.account, op.to, op.amount),)


def compute_transfer_record(op: Transfer, events: tuple[Event, ...]) -> bytes:
    return pubdata.encode_transfer(pubdata.Transfer(op.account, op.to, op.amount))
