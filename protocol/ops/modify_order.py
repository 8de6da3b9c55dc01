"""Modify order (type 20, L2 signed): a new price and / or size for one of the signer's
resting orders.

Same price and a smaller (or equal) size: the order is cut in place and keeps its priority.
Anything else: the order is cancelled and a new one rests with a new nonce (behind every
order at the new price), keeping its side, reduce-only flag and GTT expiry; the new price must
be inside the band and must not cross (modify never takes liquidity: ``PostOnlyWouldCross``),
and an order that may open exposure needs its initial margin as a new order does. Checked
here, the new order then rests in the claim that follows (the modify leaves it as a pending
post-only taker): one order-book leaf per operation, as the block circuit proves them
(``protocol.matching``).
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.eddsa import Signature
from protocol.errors import (
    BelowMinOrderSize,
    NotOrderOwner,
    PostOnlyWouldCross,
    PriceOutOfBand,
    UnknownOrder,
)
from protocol.events import Event, OrderReduced
from protocol.matching import require_order_margin
from protocol.ops.common import get_signer
from protocol.ops.create_order import compute_band
from protocol.ops.descriptor import Descriptor, get_single_account
from protocol.orders import cancel_order, is_live, set_order_remaining
from protocol.params import (
    RECORD_ACCOUNT_BYTES,
    RECORD_MARKET_BYTES,
    RECORD_ORDER_KEY_BYTES,
    RECORD_PRICE_BYTES,
    RECORD_SIZE_BYTES,
)
from protocol.pubdata import Layout, OpType, Origin, RecordField
from protocol.state import State, Taker
from protocol.types import check_positive


@dataclass(frozen=True, slots=True)
class ModifyOrder:
    account: int
    nonce: int
    expiry: int
    market: int
    key: int
    price: int
    size: int
    signature: Signature | None = None

    def payload(self) -> tuple[int, ...]:
        return (self.market, self.key, self.price, self.size)

    @classmethod
    def op_type(cls) -> int:
        return OpType.MODIFY_ORDER


RECORD = Layout(
    OpType.MODIFY_ORDER,
    (
        RecordField("account", RECORD_ACCOUNT_BYTES),
        RecordField("market", RECORD_MARKET_BYTES),
        RecordField("key", RECORD_ORDER_KEY_BYTES),
        RecordField("price", RECORD_PRICE_BYTES),
        RecordField("size", RECORD_SIZE_BYTES),
    ),
)


def process_modify_order(state: State, op: ModifyOrder) -> tuple[Event, ...]:
    account = get_signer(state, op)
    market = state.get_market(op.market)
    order = market.book.orders.get(op.key)
    if order is None or not is_live(state, order):  # a dead order is already cancelled
        raise UnknownOrder(f"no order {op.key} in market {op.market}")
    if order.account != account.index:
        raise NotOrderOwner(f"order {op.key} belongs to account {order.account}")
    check_positive(op.size, state.preset.base_amount_bits, "size")
    check_positive(op.price, state.preset.price_bits, "price")
    if op.size < market.params.min_base_amount:
        raise BelowMinOrderSize(f"size {op.size} below {market.params.min_base_amount}")
    state.increment_nonce(account)
    out: list[Event] = []
    if op.price == order.price and op.size <= order.remaining:
        set_order_remaining(state, market, order, op.size)
        out.append(OrderReduced(market.index, order.key, account.index, op.size))
        return tuple(out)
    low, high = compute_band(market)
    if not low <= op.price <= high:
        raise PriceOutOfBand(f"price {op.price} outside [{low}, {high}]")
    cancel_order(state, market, order, "modified", out)
    best = market.book.best(not order.is_ask)
    if best is not None and (best.price >= op.price if order.is_ask else best.price <= op.price):
        raise PostOnlyWouldCross(f"modified order would take at {best.price}")
    if not order.reduce_only:
        require_order_margin(state, account, market, op.price, op.size)
    market.book.get_next_nonce(order.is_ask)  # OrderBookFull refuses here, as every check
    taker = Taker(
        account.index,
        market.index,
        order.is_ask,
        op.size,
        op.price,
        True,
        order.reduce_only,
        order.expiry,
        post_only=True,
    )
    state.set_pending(taker)  # its claim rests it
    return tuple(out)


def compute_modify_order_record(op: ModifyOrder, events: tuple[Event, ...]) -> bytes:
    return RECORD.encode((op.account, op.market, op.key, op.price, op.size))


DESCRIPTOR = Descriptor(
    ModifyOrder,
    RECORD,
    Origin.L2_SIGNED,
    process_modify_order,
    compute_modify_order_record,
    get_single_account,
)
