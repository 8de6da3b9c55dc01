"""Forced order (type 7, L1 priority): the owner places an order through L1 (censorship
resistance for closing positions).

Fields: ``account``, ``owner``, ``market``, ``flags`` (bit 0 sell, bit 1 market order),
``price`` (limit price, or a market order's worst price), ``size``. Applied (status 1) when
``owner`` owns the account and the order passes every rule of create order: a limit order is
GTC, a market order IOC (``protocol.ops.create_order``); it needs no L2 key or nonce. Anything
the rules refuse consumes the request as a no-op (status 0). Claims may follow, as for any
taker.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.errors import InvalidTransaction
from protocol.events import Event, RequestRejected
from protocol.ops.common import RULE_ONLY_ACCOUNTS
from protocol.ops.create_order import CreateOrder, OrderKind, TimeInForce, place_order
from protocol.ops.descriptor import Descriptor, get_single_account
from protocol.params import (
    RECORD_ACCOUNT_BYTES,
    RECORD_ADDRESS_BYTES,
    RECORD_FLAGS_BYTES,
    RECORD_MARKET_BYTES,
    RECORD_PRICE_BYTES,
    RECORD_SIZE_BYTES,
)
from protocol.pubdata import (
    ORDER_FLAG_ASK,
    ORDER_FLAG_MARKET,
    ORDER_FLAGS_MASK,
    RAW,
    Layout,
    OpType,
    Origin,
    RecordField,
    status_field,
)
from protocol.state import State


@dataclass(frozen=True, slots=True)
class ForcedOrder:
    account: int
    owner: bytes
    market: int
    flags: int
    price: int
    size: int

    def as_order(self) -> CreateOrder:
        is_market = bool(self.flags & ORDER_FLAG_MARKET)
        return CreateOrder(
            account=self.account,
            nonce=0,
            expiry=0,
            market=self.market,
            is_ask=bool(self.flags & ORDER_FLAG_ASK),
            size=self.size,
            price=self.price,
            kind=OrderKind.MARKET if is_market else OrderKind.LIMIT,
            time_in_force=TimeInForce.IOC if is_market else TimeInForce.GTC,
        )

    @classmethod
    def op_type(cls) -> int:
        return OpType.FORCED_ORDER


RECORD = Layout(
    OpType.FORCED_ORDER,
    (
        RecordField("account", RECORD_ACCOUNT_BYTES),
        RecordField("owner", RECORD_ADDRESS_BYTES, RAW),
        RecordField("market", RECORD_MARKET_BYTES),
        RecordField("flags", RECORD_FLAGS_BYTES, bound=ORDER_FLAGS_MASK + 1),
        RecordField("price", RECORD_PRICE_BYTES),
        RecordField("size", RECORD_SIZE_BYTES),
        status_field(),
    ),
)


def process_forced_order(state: State, op: ForcedOrder) -> tuple[Event, ...]:
    account = state.accounts.get(op.account)
    if account is None or account.owner != op.owner or op.account in RULE_ONLY_ACCOUNTS:
        return (RequestRejected(op.op_type(), op.account, "not the owner"),)
    if op.flags & ~ORDER_FLAGS_MASK:
        return (RequestRejected(op.op_type(), op.account, "unknown flags"),)
    try:
        with state.transaction():
            return place_order(state, op.as_order())
    except InvalidTransaction as error:
        return (RequestRejected(op.op_type(), op.account, type(error).__name__),)


def compute_forced_order_record(op: ForcedOrder, events: tuple[Event, ...]) -> bytes:
    status = int(not any(isinstance(e, RequestRejected) for e in events))
    return RECORD.encode((op.account, op.owner, op.market, op.flags, op.price, op.size, status))


DESCRIPTOR = Descriptor(
    ForcedOrder,
    RECORD,
    Origin.L1,
    process_forced_order,
    compute_forced_order_record,
    get_single_account,
)
