"""Forced cancel-all (type 6, L1 priority): the owner cancels every order of the account
through L1, as cancel all does (lazily, PROTOCOL 8.6) but without a nonce. Applied (status 1)
when ``owner`` owns the account (and its cancel epochs are not spent), else a no-op
(status 0)."""

from __future__ import annotations

from dataclasses import dataclass

from protocol.events import Event, RequestRejected
from protocol.ops.descriptor import Descriptor, get_single_account
from protocol.orders import cancel_all, is_cancel_epoch_spent
from protocol.params import RECORD_ACCOUNT_BYTES, RECORD_ADDRESS_BYTES
from protocol.pubdata import RAW, Layout, OpType, Origin, RecordField, status_field
from protocol.state import State


@dataclass(frozen=True, slots=True)
class ForcedCancelAll:
    account: int
    owner: bytes

    @classmethod
    def op_type(cls) -> int:
        return OpType.FORCED_CANCEL_ALL


RECORD = Layout(
    OpType.FORCED_CANCEL_ALL,
    (
        RecordField("account", RECORD_ACCOUNT_BYTES),
        RecordField("owner", RECORD_ADDRESS_BYTES, RAW),
        status_field(),
    ),
)


def process_forced_cancel_all(state: State, op: ForcedCancelAll) -> tuple[Event, ...]:
    account = state.accounts.get(op.account)
    if account is None or account.owner != op.owner:
        return (RequestRejected(op.op_type(), op.account, "not the owner"),)
    if is_cancel_epoch_spent(state, account):
        return (RequestRejected(op.op_type(), op.account, "cancel epochs exhausted"),)
    out: list[Event] = []
    cancel_all(state, account, "forced", out)
    return tuple(out)


def compute_forced_cancel_all_record(op: ForcedCancelAll, events: tuple[Event, ...]) -> bytes:
    status = int(not any(isinstance(e, RequestRejected) for e in events))
    return RECORD.encode((op.account, op.owner, status))


DESCRIPTOR = Descriptor(
    ForcedCancelAll,
    RECORD,
    Origin.L1,
    process_forced_cancel_all,
    compute_forced_cancel_all_record,
    get_single_account,
)
