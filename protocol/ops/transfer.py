"""Transfer (type 3, L2 signed): collateral from one account to another.

Checks: signed by ``account``'s key (nonce, expiry, signature); ``to`` exists and differs from
``account``; neither the insurance fund nor the funding pool sends; ``0 < amount < 2^amount_bits``;
the sender passes the valid-risk-change rule (a healthy sender stays healthy; an unhealthy one
cannot transfer, as losing collateral never improves TAV / MMR). Invariant: the sum of the two
collateral balances is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.accounts import FUNDING_POOL
from protocol.eddsa import Signature
from protocol.errors import MalformedTransaction, ReservedAccount
from protocol.events import Event, Transferred
from protocol.ops.common import get_signer, require_not_rule_only, require_valid_risk_change
from protocol.ops.descriptor import Descriptor
from protocol.params import RECORD_ACCOUNT_BYTES, RECORD_AMOUNT_BYTES
from protocol.pubdata import Layout, OpType, Origin, RecordField
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
        return OpType.TRANSFER


RECORD = Layout(
    OpType.TRANSFER,
    (
        RecordField("account", RECORD_ACCOUNT_BYTES),
        RecordField("to", RECORD_ACCOUNT_BYTES),
        RecordField("amount", RECORD_AMOUNT_BYTES),
    ),
)


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
    return RECORD.encode((op.account, op.to, op.amount))


def get_transfer_accounts(op: Transfer) -> tuple[int, ...]:
    return op.account, op.to


DESCRIPTOR = Descriptor(
    Transfer,
    RECORD,
    Origin.L2_SIGNED,
    process_transfer,
    compute_transfer_record,
    get_transfer_accounts,
)
