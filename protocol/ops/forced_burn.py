"""Forced pool-share burn (type 8, L1 priority): the owner redeems pool shares through L1.

Applied (status 1) when ``owner`` owns the account and the burn passes the rules of burn shares
(``protocol.pool``); ``collateral_out`` is what it paid. Otherwise a no-op (status 0, 0 out):
never refused, whatever the shares asked (more than held, the record's whole width included).
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.errors import InvalidTransaction
from protocol.events import Event, RequestRejected, SharesBurned
from protocol.ops.common import RULE_ONLY_ACCOUNTS
from protocol.ops.descriptor import Descriptor, get_single_account
from protocol.params import RECORD_ACCOUNT_BYTES, RECORD_ADDRESS_BYTES, RECORD_AMOUNT_BYTES
from protocol.pool import burn_shares
from protocol.pubdata import RAW, Layout, OpType, Origin, RecordField, status_field
from protocol.state import State


@dataclass(frozen=True, slots=True)
class ForcedBurn:
    account: int
    owner: bytes
    shares: int

    @classmethod
    def op_type(cls) -> int:
        return OpType.FORCED_BURN


RECORD = Layout(
    OpType.FORCED_BURN,
    (
        RecordField("account", RECORD_ACCOUNT_BYTES),
        RecordField("owner", RECORD_ADDRESS_BYTES, RAW),
        RecordField("shares", RECORD_AMOUNT_BYTES),
        RecordField("collateral_out", RECORD_AMOUNT_BYTES, result=True),
        status_field(),
    ),
)


def process_forced_burn(state: State, op: ForcedBurn) -> tuple[Event, ...]:
    account = state.accounts.get(op.account)
    if account is None or account.owner != op.owner or op.account in RULE_ONLY_ACCOUNTS:
        return (RequestRejected(op.op_type(), op.account, "not the owner"),)
    out: list[Event] = []
    try:
        with state.transaction():
            burn_shares(state, account, op.shares, out)
    except InvalidTransaction as error:
        return (RequestRejected(op.op_type(), op.account, type(error).__name__),)
    return tuple(out)


def compute_forced_burn_record(op: ForcedBurn, events: tuple[Event, ...]) -> bytes:
    paid = [e.amount for e in events if isinstance(e, SharesBurned)]
    status = int(bool(paid))
    return RECORD.encode((op.account, op.owner, op.shares, sum(paid), status))


DESCRIPTOR = Descriptor(
    ForcedBurn,
    RECORD,
    Origin.L1,
    process_forced_burn,
    compute_forced_burn_record,
    get_single_account,
)
