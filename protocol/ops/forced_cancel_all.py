"""Forced cancel-all (type 6, L1 priority): the owner cancels every order of the account
through L1. Applied (status 1) when ``owner`` owns the account, else a no-op (status 0)."""

from __future__ import annotations

from dataclasses import dataclass

from protocol import pubdata
from protocol.events import Event, RequestRejected
from protocol.orders import cancel_all_orders
from protocol.state import State


@dataclass(frozen=True, slots=True)
class ForcedCancelAll:
    account: int
    owner: bytes

    @classmethod
    def op_type(cls) -> int:
        return pubdata.OpType.FORCED_CANCEL_ALL


def process_forced_cancel_all(state: State, op: ForcedCancelAll) -> tuple[Event, ...]:
    account = state.accounts.get(op.account)
    if account is None or account.owner != op.owner:
        return (RequestRejected(op.op_type(), op.account, "not the owner"),)
    out: list[Event] = []
    cancel_all_orders(state, account, "forced", out)
    return tuple(out)


def compute_forced_cancel_all_record(op: ForcedCancelAll, events: tuple[Event, ...]) -> bytes:
    status = int(not any(isinstance(e, RequestRejected) for e in events))
    return pubdata.encode_forced_cancel_all(pubdata.ForcedCancelAll(op.account, op.owner, status))
