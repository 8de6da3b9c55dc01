"""Cancel order (type 18, L2 signed): removes one resting order (by market and key) or one
trigger order (by market and trigger id) of the signer.

Checks: signature; the market exists; the order exists and is live (``UnknownOrder``: a dead
one, of an earlier epoch of its owner's, was cancelled by a cancel-all) and is the signer's
(``NotOrderOwner``). Effects: the order leaves the book (or trigger list), open-order count - 1.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.eddsa import Signature
from protocol.errors import NotOrderOwner, UnknownOrder
from protocol.events import Event
from protocol.ops.common import get_signer
from protocol.ops.descriptor import Descriptor, get_single_account
from protocol.orders import cancel_order, is_live, remove_trigger
from protocol.params import (
    RECORD_ACCOUNT_BYTES,
    RECORD_FLAGS_BYTES,
    RECORD_MARKET_BYTES,
    RECORD_ORDER_KEY_BYTES,
)
from protocol.pubdata import Layout, OpType, Origin, RecordField
from protocol.state import State


@dataclass(frozen=True, slots=True)
class CancelOrder:
    account: int
    nonce: int
    expiry: int
    market: int
    key: int  # order key (price << order_nonce_bits | nonce), or the trigger id
    is_trigger: bool = False
    signature: Signature | None = None

    def payload(self) -> tuple[int | bool, ...]:
        return (self.market, self.key, self.is_trigger)

    @classmethod
    def op_type(cls) -> int:
        return OpType.CANCEL_ORDER


RECORD = Layout(
    OpType.CANCEL_ORDER,
    (
        RecordField("account", RECORD_ACCOUNT_BYTES),
        RecordField("market", RECORD_MARKET_BYTES),
        RecordField("key", RECORD_ORDER_KEY_BYTES),
        RecordField("is_trigger", RECORD_FLAGS_BYTES, bound=2),
    ),
)


def process_cancel_order(state: State, op: CancelOrder) -> tuple[Event, ...]:
    account = get_signer(state, op)
    market = state.get_market(op.market)
    order = (market.triggers if op.is_trigger else market.book.orders).get(op.key)
    if order is None or not is_live(state, order):  # a dead order is already cancelled
        raise UnknownOrder(f"no order {op.key} in market {op.market}")
    if order.account != account.index:
        raise NotOrderOwner(f"order {op.key} belongs to account {order.account}")
    state.increment_nonce(account)
    out: list[Event] = []
    if op.is_trigger:
        remove_trigger(state, market, market.triggers[op.key], "user", out)
    else:
        cancel_order(state, market, market.book.orders[op.key], "user", out)
    return tuple(out)


def compute_cancel_order_record(op: CancelOrder, events: tuple[Event, ...]) -> bytes:
    return RECORD.encode((op.account, op.market, op.key, int(op.is_trigger)))


DESCRIPTOR = Descriptor(
    CancelOrder,
    RECORD,
    Origin.L2_SIGNED,
    process_cancel_order,
    compute_cancel_order_record,
    get_single_account,
)
