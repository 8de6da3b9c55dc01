"""Cancel all (type 19, L2 signed): every resting and trigger order of the signer dies at once,
lazily (PROTOCOL 7.1, 8.19): nonce + 1, cancel epoch + 1, open orders 0; no book changes, and
the dead orders leave the books when a matching step meets them. Record: account and the
number of open orders it zeroed."""

from __future__ import annotations

from dataclasses import dataclass

from protocol.eddsa import Signature
from protocol.events import AllOrdersCancelled, Event
from protocol.ops.common import get_signer
from protocol.ops.descriptor import Descriptor, get_single_account
from protocol.orders import cancel_all
from protocol.params import RECORD_ACCOUNT_BYTES, RECORD_COUNT_BYTES
from protocol.pubdata import Layout, OpType, Origin, RecordField
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
        return OpType.CANCEL_ALL


RECORD = Layout(
    OpType.CANCEL_ALL,
    (
        RecordField("account", RECORD_ACCOUNT_BYTES),
        RecordField("cancelled", RECORD_COUNT_BYTES, result=True),
    ),
)


def process_cancel_all(state: State, op: CancelAll) -> tuple[Event, ...]:
    account = get_signer(state, op)
    state.increment_nonce(account)
    out: list[Event] = []
    cancel_all(state, account, "user", out)
    return tuple(out)


def compute_cancel_all_record(op: CancelAll, events: tuple[Event, ...]) -> bytes:
    cancelled = sum(e.cancelled for e in events if isinstance(e, AllOrdersCancelled))
    return RECORD.encode((op.account, cancelled))


DESCRIPTOR = Descriptor(
    CancelAll,
    RECORD,
    Origin.L2_SIGNED,
    process_cancel_all,
    compute_cancel_all_record,
    get_single_account,
)
