"""Forced withdraw (type 5, L1 priority): the owner withdraws through L1, no L2 key needed.

``withdrawn = min(requested, max(0, TAV - IMR))`` when ``owner`` owns the account and it is
not the insurance fund or the funding pool; else 0 (the request is consumed as a no-op). The
account stays healthy, so the rule is the same as a signed withdrawal's, but it never fails:
a forced request must always be consumable, or it could block the priority queue.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.events import Event, RequestRejected, Withdrawn
from protocol.ops.common import RULE_ONLY_ACCOUNTS, compute_max_withdrawable
from protocol.ops.descriptor import Descriptor, get_single_account
from protocol.params import RECORD_ACCOUNT_BYTES, RECORD_ADDRESS_BYTES, RECORD_AMOUNT_BYTES
from protocol.pubdata import RAW, Layout, OpType, Origin, RecordField
from protocol.state import State
from protocol.types import check_unsigned


@dataclass(frozen=True, slots=True)
class ForcedWithdraw:
    account: int
    owner: bytes
    requested: int

    @classmethod
    def op_type(cls) -> int:
        return OpType.FORCED_WITHDRAW


RECORD = Layout(
    OpType.FORCED_WITHDRAW,
    (
        RecordField("account", RECORD_ACCOUNT_BYTES),
        RecordField("owner", RECORD_ADDRESS_BYTES, RAW),
        RecordField("requested", RECORD_AMOUNT_BYTES),
        RecordField("withdrawn", RECORD_AMOUNT_BYTES, result=True),
    ),
)


def process_forced_withdraw(state: State, op: ForcedWithdraw) -> tuple[Event, ...]:
    check_unsigned(op.requested, state.preset.amount_bits, "requested")
    account = state.accounts.get(op.account)
    if account is None or account.owner != op.owner or op.account in RULE_ONLY_ACCOUNTS:
        return (RequestRejected(op.op_type(), op.account, "not the owner"),)
    amount = min(op.requested, compute_max_withdrawable(state, account))
    if amount == 0:
        return (RequestRejected(op.op_type(), op.account, "nothing withdrawable"),)
    state.decrease_collateral(account, amount)
    return (Withdrawn(op.account, op.owner, amount),)


def compute_forced_withdraw_record(op: ForcedWithdraw, events: tuple[Event, ...]) -> bytes:
    withdrawn = sum(e.amount for e in events if isinstance(e, Withdrawn))
    return RECORD.encode((op.account, op.owner, op.requested, withdrawn))


DESCRIPTOR = Descriptor(
    ForcedWithdraw,
    RECORD,
    Origin.L1,
    process_forced_withdraw,
    compute_forced_withdraw_record,
    get_single_account,
)
