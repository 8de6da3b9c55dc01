"""Deposit (type 1, L1 priority): USDC locked on L1 credited to an L2 account.

The account is created, owned by ``owner``, on its first deposit; a deposit into an existing
account credits it whoever sent it (the L1 contract took the money, so the rules cannot refuse
it). Invariant: collateral of ``account`` grows by exactly ``amount``.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol import pubdata
from protocol.errors import AmountOutOfRange
from protocol.events import AccountCreated, Deposited, Event
from protocol.state import State
from protocol.types import QuoteAmount, check_positive


@dataclass(frozen=True, slots=True)
class Deposit:
    account: int
    owner: bytes  # 20-byte L1 address
    amount: QuoteAmount

    @classmethod
    def op_type(cls) -> int:
        return pubdata.OpType.DEPOSIT


def process_deposit(state: State, op: Deposit) -> tuple[Event, ...]:
    check_positive(op.amount, state.preset.amount_bits, "amount")
    if len(op.owner) != pubdata.ADDRESS_BYTES:
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
    return pubdata.encode_deposit(pubdata.Deposit(op.account, op.owner, op.amount))
