"""Deposit (type 1, L1 priority): USDC locked on L1 credited to an L2 account.

The account is created, owned by ``owner``, on its first deposit; a deposit into an existing
account credits it whoever sent it (the L1 contract took the money, so the rules cannot refuse
it). Invariant: collateral of ``account`` grows by exactly ``amount``.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.errors import AmountOutOfRange
from protocol.events import AccountCreated, Deposited, Event
from protocol.ops.descriptor import Descriptor, get_single_account
from protocol.params import RECORD_ACCOUNT_BYTES, RECORD_ADDRESS_BYTES, RECORD_AMOUNT_BYTES
from protocol.pubdata import RAW, Layout, OpType, Origin, RecordField
from protocol.state import State
from protocol.types import QuoteAmount, check_positive


@dataclass(frozen=True, slots=True)
class Deposit:
    account: int
    owner: bytes  # 20-byte L1 address
    amount: QuoteAmount

    @classmethod
    def op_type(cls) -> int:
        return OpType.DEPOSIT


RECORD = Layout(
    OpType.DEPOSIT,
    (
        RecordField("account", RECORD_ACCOUNT_BYTES),
        RecordField("owner", RECORD_ADDRESS_BYTES, RAW),
        RecordField("amount", RECORD_AMOUNT_BYTES),
    ),
)


def process_deposit(state: State, op: Deposit) -> tuple[Event, ...]:
    check_positive(op.amount, state.preset.amount_bits, "amount")
    if len(op.owner) != RECORD_ADDRESS_BYTES:
        raise AmountOutOfRange("owner must be a 20-byte address")
    events: list[Event] = []
    account = state.accounts.get(op.account)
    if account is None:
        account = state.create_account(op.account, op.owner)
        events.append(AccountCreated(op.account, op.owner))
    state.increase_collateral(account, op.amount)
    events.append(Deposited(op.account, op.amount))
    return tuple(events)


def compute_deposit_record(op: Deposit, events: tuple[Event, ...]) -> bytes:
    return RECORD.encode((op.account, op.owner, op.amount))


DESCRIPTOR = Descriptor(
    Deposit, RECORD, Origin.L1, process_deposit, compute_deposit_record, get_single_account
)
