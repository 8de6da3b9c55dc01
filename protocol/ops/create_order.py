"""Create order (type 16, L2 signed): limit (GTC / GTT / IOC / post-only), market (IOC with a
worst price), reduce-only, and stop-loss / take-profit orders that wait for the mark price.

Checks (all before anything changes): signature; the market exists; ``min_base_amount <= size
< 2^base_amount_bits``; ``0 < price < 2^price_bits``; a limit price inside the band
``index * (1 -+ price_band / 1e6)`` (a market order's worst price is clamped into the band
instead); GTT needs a future ``order_expiry``, every other kind ``order_expiry = 0``; market
and trigger orders are IOC; trigger orders are reduce-only with a positive trigger price; a
reduce-only order needs an opposite position; a post-only order must not cross; the fee account
does not trade (no fill moves its collateral beside the fees it accrues: PROTOCOL 7.2). Then a
post-only order rests at once, and any other runs the first matching step
(``protocol.matching``: one maker handled, or the order rested or cancelled when nothing
crosses; one order-book leaf either way): if the taker's side of it fails (risk, open interest,
resting limits) the whole order is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from protocol.accounts import FEE_ACCOUNT
from protocol.eddsa import Signature
from protocol.errors import (
    AmountOutOfRange,
    BelowMinOrderSize,
    Expired,
    MalformedTransaction,
    OrderBookFull,
    PostOnlyWouldCross,
    PriceOutOfBand,
    ReduceOnlyViolation,
    ReservedAccount,
)
from protocol.events import Event
from protocol.markets import Market, TriggerOrder
from protocol.matching import compute_reducible, finish_taker, is_crossing, run_step
from protocol.ops.common import FILL_FIELDS, compute_fill, get_signer, require_not_rule_only
from protocol.ops.descriptor import Descriptor, get_single_account
from protocol.orders import add_trigger
from protocol.params import (
    RECORD_ACCOUNT_BYTES,
    RECORD_FLAGS_BYTES,
    RECORD_MARKET_BYTES,
    RECORD_PRICE_BYTES,
    RECORD_SIZE_BYTES,
    RECORD_TIME_BYTES,
)
from protocol.pubdata import Layout, OpType, Origin, Record, RecordField
from protocol.state import State, Taker
from protocol.types import PPM, BaseAmount, MarketIndex, Price, Timestamp


class OrderKind(IntEnum):
    LIMIT = 0
    MARKET = 1
    STOP_LOSS = 2
    TAKE_PROFIT = 3


class TimeInForce(IntEnum):
    GTC = 0  # good till cancelled
    GTT = 1  # good till order_expiry
    IOC = 2  # immediate or cancel
    POST_ONLY = 3  # rests, never takes


@dataclass(frozen=True, slots=True)
class CreateOrder:
    account: int
    nonce: int
    expiry: int
    market: MarketIndex
    is_ask: bool
    size: BaseAmount
    price: Price  # limit price; for market and trigger orders the worst fill price
    kind: int = OrderKind.LIMIT
    time_in_force: int = TimeInForce.GTC
    reduce_only: bool = False
    trigger_price: Price = 0
    order_expiry: Timestamp = 0
    signature: Signature | None = None

    def payload(self) -> tuple[int | bool, ...]:
        return (
            self.market,
            self.is_ask,
            self.size,
            self.price,
            self.kind,
            self.time_in_force,
            self.reduce_only,
            self.trigger_price,
            self.order_expiry,
        )

    @property
    def flags(self) -> int:
        return (
            int(self.is_ask) | int(self.reduce_only) << 1 | self.kind << 2 | self.time_in_force << 4
        )

    @classmethod
    def op_type(cls) -> int:
        return OpType.CREATE_ORDER


def compute_band(market: Market) -> tuple[int, int]:
    """The lowest and highest price an order may name: index -+ price_band (inside)."""
    index, band = market.data.index_price, market.params.price_band
    return max(1, -(-index * (PPM - band) // PPM)), index * (PPM + band) // PPM


def compute_market_limit(market: Market, is_ask: bool, worst: int) -> int:
    """A market order's worst price, clamped into the band."""
    low, high = compute_band(market)
    return max(worst, low) if is_ask else min(worst, high)


# plain ints for the hot path
_LIMIT, _STOP_LOSS = int(OrderKind.LIMIT), int(OrderKind.STOP_LOSS)
_GTT, _IOC, _POST_ONLY = int(TimeInForce.GTT), int(TimeInForce.IOC), int(TimeInForce.POST_ONLY)
_KINDS = frozenset(OrderKind)
_TIMES_IN_FORCE = frozenset(TimeInForce)


def check_order(state: State, market: Market, op: CreateOrder) -> None:
    """Every static check of the module docstring (nothing is written)."""
    kind, tif = op.kind, op.time_in_force
    if kind not in _KINDS or tif not in _TIMES_IN_FORCE:
        raise MalformedTransaction(f"unknown kind {kind} / time in force {tif}")
    preset = state.preset
    size, price, trigger, expiry = op.size, op.price, op.trigger_price, op.order_expiry
    if not (0 < size < 1 << preset.base_amount_bits and 0 < price < 1 << preset.price_bits):
        raise AmountOutOfRange(f"size {size!r} or price {price!r} out of range")
    if not (0 <= trigger < 1 << preset.price_bits and 0 <= expiry < 1 << preset.timestamp_bits):
        raise AmountOutOfRange(f"trigger price {trigger!r} or expiry {expiry!r} out of range")
    if size < market.params.min_base_amount:
        raise BelowMinOrderSize(f"size {size} below {market.params.min_base_amount}")
    if (tif == _GTT) != (expiry != 0):
        raise MalformedTransaction("order_expiry is set exactly for GTT orders")
    if tif == _GTT and expiry <= state.timestamp:
        raise Expired(f"order expiry {expiry} is not in the future")
    if kind != _LIMIT and tif != _IOC:
        raise MalformedTransaction("market and trigger orders are immediate-or-cancel")
    if (kind >= _STOP_LOSS) != (trigger != 0):
        raise MalformedTransaction("trigger_price is set exactly for stop-loss / take-profit")
    if trigger and not op.reduce_only:
        raise MalformedTransaction("stop-loss and take-profit orders are reduce-only")
    if kind == _LIMIT:
        low, high = compute_band(market)
        if not low <= price <= high:
            raise PriceOutOfBand(f"price {price} outside [{low}, {high}]")
    if op.reduce_only:
        account = state.accounts[op.account]
        if compute_reducible(account, market.index, op.is_ask) == 0:
            raise ReduceOnlyViolation("reduce-only order without an opposite position")


RECORD = Layout(
    OpType.CREATE_ORDER,
    (
        RecordField("account", RECORD_ACCOUNT_BYTES),
        RecordField("market", RECORD_MARKET_BYTES),
        RecordField("flags", RECORD_FLAGS_BYTES, bound=1 << 6),  # CreateOrder.flags: 6 bits
        RecordField("price", RECORD_PRICE_BYTES),
        RecordField("size", RECORD_SIZE_BYTES),
        RecordField("trigger_price", RECORD_PRICE_BYTES),
        RecordField("order_expiry", RECORD_TIME_BYTES),
        *FILL_FIELDS,
    ),
)


def process_create_order(state: State, op: CreateOrder) -> tuple[Event, ...]:
    account = get_signer(state, op)
    require_not_rule_only(account)
    state.increment_nonce(account)
    return place_order(state, op)


def place_order(state: State, op: CreateOrder) -> tuple[Event, ...]:
    """Checks and places an order for ``op.account`` (signature and nonce already handled)."""
    if op.account == FEE_ACCOUNT:
        raise ReservedAccount("the fee account does not trade")
    market = state.get_market(op.market)
    check_order(state, market, op)
    kind, tif = op.kind, op.time_in_force
    out: list[Event] = []
    if kind >= _STOP_LOSS:
        place_trigger(state, market, op, out)
        return tuple(out)
    limit = op.price if kind == _LIMIT else compute_market_limit(market, op.is_ask, op.price)
    rests = tif != _IOC
    taker = Taker(
        op.account, op.market, op.is_ask, op.size, limit, rests, op.reduce_only, op.order_expiry
    )
    if tif == _POST_ONLY:
        best = market.book.best(not op.is_ask)
        if best is not None and is_crossing(taker, best.price):
            raise PostOnlyWouldCross(f"post-only order would take at {best.price}")
        finish_taker(state, taker, out)
    else:
        run_step(state, taker, out)
    return tuple(out)


def place_trigger(state: State, market: Market, op: CreateOrder, out: list[Event]) -> None:
    if market.data.trigger_nonce >= 1 << state.preset.order_nonce_bits:
        raise OrderBookFull("trigger ids exhausted")
    trigger = compute_trigger(state, market, op)
    add_trigger(state, market, state.accounts[op.account], trigger, out)


def compute_trigger(state: State, market: Market, op: CreateOrder) -> TriggerOrder:
    """The trigger order ``op`` places: the market's next trigger id, A's cancel epoch."""
    return TriggerOrder(
        market.index,
        market.data.trigger_nonce,
        op.account,
        op.is_ask,
        op.size,
        op.trigger_price,
        op.price,
        op.kind == OrderKind.STOP_LOSS,
        state.accounts[op.account].cancel_epoch,
    )


def compute_create_order_record(op: CreateOrder, events: tuple[Event, ...]) -> bytes:
    return RECORD.encode(
        (
            op.account,
            op.market,
            op.flags,
            op.price,
            op.size,
            op.trigger_price,
            op.order_expiry,
            *compute_fill(events),
        )
    )


def get_create_order(record: Record, nonce: int, expiry: int) -> CreateOrder:
    """The order a record records (its flags split back into their fields)."""
    flags = record.get_int("flags")
    return CreateOrder(
        account=record.get_int("account"),
        nonce=nonce,
        expiry=expiry,
        market=record.get_int("market"),
        is_ask=bool(flags & 1),
        size=record.get_int("size"),
        price=record.get_int("price"),
        kind=flags >> 2 & 3,
        time_in_force=flags >> 4 & 3,
        reduce_only=bool(flags >> 1 & 1),
        trigger_price=record.get_int("trigger_price"),
        order_expiry=record.get_int("order_expiry"),
    )


DESCRIPTOR = Descriptor(
    CreateOrder,
    RECORD,
    Origin.L2_SIGNED,
    process_create_order,
    compute_create_order_record,
    get_single_account,
    get_create_order,
)
