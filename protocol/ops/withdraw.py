"""Withdraw (type 4, L2 signed): collateral leaves L2 for the account's owner on L1.

Checks as for a transfer: signed, ``0 < amount < 2^amount_bits``, not the insurance fund or the
funding pool, and the account stays healthy (``TAV - amount >= IMR``: what may leave rounds
down with the margin rounded up). The L1 contract pays ``owner`` when the batch executes.
Invariant: deposits - withdrawals = the sum of all collateral.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.eddsa import Signature
from protocol.events import Event, Withdrawn
from protocol.ops.common import get_signer, require_not_rule_only, require_valid_risk_change
from protocol.ops.descriptor import Descriptor, get_single_account
from protocol.params import RECORD_ACCOUNT_BYTES, RECORD_ADDRESS_BYTES, RECORD_AMOUNT_BYTES
from protocol.pubdata import RAW, Layout, OpType, Origin, RecordField
from protocol.risk import compute_risk
from protocol.state import State
from protocol.types import QuoteAmount, check_positive


@dataclass(frozen=True, slots=True)
class Withdraw:
    account: int
    nonce: int
    expiry: int
    amount: QuoteAmount
    signature: Signature | None = None

    def payload(self) -> tuple[int, ...]:
        return (self.amount,)

    @classmethod
    def op_type(cls) -> int:
        return OpType.WITHDRAW


RECORD = Layout(
    OpType.WITHDRAW,
    (
        RecordField("account", RECORD_ACCOUNT_BYTES),
        RecordField("owner", RECORD_ADDRESS_BYTES, RAW, result=True),  # the L1 receiver
        RecordField("amount", RECORD_AMOUNT_BYTES),
    ),
)


def process_withdraw(state: State, op: Withdraw) -> tuple[Event, ...]:
    check_positive(op.amount, state.preset.amount_bits, "amount")
    account = get_signer(state, op)
    require_not_rule_only(account)
    before = compute_risk(account, state.markets)
    state.decrease_collateral(account, op.amount)
    state.increment_nonce(account)
    require_valid_risk_change(state, account, before)
    return (Withdrawn(op.account, account.owner, op.amount),)


def compute_withdraw_record(op: Withdraw, events: tuple[Event, ...]) -> bytes:
    (event,) = (e for e in events if isinstance(e, Withdrawn))
    return RECORD.encode((op.account, event.owner, op.amount))


DESCRIPTOR = Descriptor(
    Withdraw,
    RECORD,
    Origin.L2_SIGNED,
    process_withdraw,
    compute_withdraw_record,
    get_single_account,
)
