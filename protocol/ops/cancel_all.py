"""Cancel all (type 19, L2 signed): removes every resting and trigger order of the signer, in
(book before triggers, market, key) order. Record: account and the number cancelled."""

from __future__ import annotations

from dataclasses import dataclass

from protocol.eddsa import Signature
from protocol.events import Event
from protocol.ops.common import get_signer
from protocol.ops.records import ACCOUNT, encode_record
from protocol.orders import cancel_all_orders
from protocol.state import State


@dataclass(frozen=True, slots=True)
class CancelAll:
    account: int
    nonce: int
    expiry: int
    signature: Signature | None = None

    def payload(self) -> tuple[int, ...]:
        return ()

    @classmethod
    def op_type(cls) -> int:
        return 19


def process_cancel_all(state: State, op: CancelAll) -> tuple[Event, ...]:
    account = get_signer(state, op)
    state.increment_nonce(account)
    out: list[Event] = []
    cancel_all_orders(state, account, "user", out)
    return tuple(out)


def compute_cancel_all_record(op: CancelAll, events: tuple[Event, ...]) -> bytes:
    return encode_record(op.op_type(), [(op.account, ACCOUNT), (len(events), 2)])
