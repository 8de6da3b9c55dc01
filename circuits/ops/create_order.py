"""Create order (type 16, L2 signed): the twin of ``protocol/ops/create_order.py``'s checks of
an order before its first matching step, which the slot's step unit runs
(``circuits/ops/step_unit.py``: it fills the best maker, or rests or cancels the order with no
opposite order crossing its limit). A taker the first step leaves with size stays pending
for the next slot's claim (``circuits/ops/claim.py``). A stop-loss / take-profit order
(``place_trigger``) runs no step: it is written into the market's trigger tree through the
slot's book unit (``circuits/ops/book_unit.py``), where firing it later removes it
(``circuits/ops/trigger_order.py``).

Record: account (1..6), market (7..8), flags (9: ``is_ask | reduce_only << 1 | kind << 2 |
time_in_force << 4``), price (10..13), size (14..19), trigger price (20..23), order expiry
(24..28), maker (29..34) and filled (35..40): the first step's fill. Signed by A over its nine
payload fields. Proven, as ``check_order`` does it:

- A exists and is neither the insurance fund, the fee account nor the funding pool
  (``not_fee_account``); its nonce grows by one;
- the market is in the tree and exists; ``min_base_amount <= size < 2^base_amount_bits``;
  ``0 < price < 2^price_bits``; the flags below ``2^6`` (``flags_in_range``); a trigger price
  exactly for the trigger kinds (``no_trigger_price``), then ``0 < trigger price <
  2^price_bits``; a market or trigger order is IOC (``market_is_ioc``); the order expiry is set
  exactly for GTT, and then in the future;
- a limit price within the band ``[max(1, ceil(index (1 - band))), floor(index (1 + band))]``
  (``price_in_band``); a market order's worst price clamped into it (the limit ``L``);
- reduce-only needs an opposite position (``reduce_only_has_position``); a trigger order is
  reduce-only (``trigger_is_reduce_only``);
- a post-only order fills nothing (``post_only_never_takes``: it rests at once);
- a limit or market order's step: the taker ``(A, market, side, L, size, rests unless IOC,
  reduce-only, order expiry)`` against the record's maker and filled size;
- a trigger order instead fills nothing (``trigger_fills_nothing``) and runs no step; A has
  fewer than ``max_open_orders_per_account`` orders (``open_orders_below_max``), its count grows
  by one; the book unit is the market's (``book_is_order_market``) and its trigger leaf, at the
  market's trigger nonce (``trigger_id``; below ``2^order_nonce_bits``, the path's, else
  ``OrderBookFull``), is empty before and then holds ``(A, is_ask, is_stop_loss, size, trigger
  price, price as the worst price, A's cancel epoch)`` (``writes_<field>``); the market's
  trigger nonce grows by one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from circuits.gadgets.bits import assert_range
from circuits.gadgets.compare import less_than
from circuits.gadgets.conditional import select
from circuits.gadgets.equality import is_zero
from circuits.gadgets.positions import compute_sign
from circuits.gadgets.rounding import ceil_div
from circuits.ops.book_unit import TRIGGER_FIELDS, TriggerChange
from circuits.ops.common import (
    DATA_TRIGGER_NONCE,
    MARKET_DATA,
    MARKET_PARAMS,
    Effect,
    OpCircuit,
    SignedPayload,
    SlotVars,
    StepVars,
    TakerOrderVars,
    assert_nonzero_if,
    define_signer_checks,
    pick,
    select_market,
)
from circuits.ops.step_unit import FRACTION_BITS, PRICE_FIELD_BITS, get_finish_key
from circuits.r1cs import ZERO, Builder, LinearCombination, constant
from protocol.accounts import FEE_ACCOUNT
from protocol.book import Order
from protocol.markets import Market, TriggerOrder
from protocol.ops import create_order
from protocol.ops.create_order import (
    CreateOrder,
    OrderKind,
    TimeInForce,
    compute_market_limit,
    compute_trigger,
)
from protocol.state import State
from protocol.types import PPM

LC = LinearCombination
FIELDS = {f.name: create_order.RECORD.offset(f.name) for f in create_order.RECORD.fields}
PARAM_MIN_SIZE = MARKET_PARAMS.index("min_base_amount")
PARAM_BAND = MARKET_PARAMS.index("price_band")
DATA_INDEX = MARKET_DATA.index("index_price")


def compute_price_band(cs: Builder, slot: SlotVars, index: LC, band: LC) -> tuple[LC, LC]:
    """``compute_band``: the lowest and highest price a limit order may name."""
    bits = slot.preset.price_bits + FRACTION_BITS
    with cs.scope("band"):
        low_x = cs.mul(index, PPM - band, "low_notional")
        low = ceil_div(cs, low_x, PPM, bits, False, "low")
        low = low + is_zero(cs, low)  # max(1, .)
        high_x = cs.mul(index, PPM + band, "high_notional")
        high = ceil_div(cs, high_x - (PPM - 1), PPM, bits, True, "high")  # the floor
    return low, high


def compute_limit(cs: Builder, price: LC, is_ask: LC, is_market: LC, low: LC, high: LC) -> LC:
    """The taker's limit: the price of a limit order; a market order's worst price clamped into
    the band (``compute_market_limit``)."""
    n = PRICE_FIELD_BITS + 1
    with cs.scope("limit"):
        with cs.scope("below_low"):
            raised = select(cs, less_than(cs, price, low, n), low, price)
        with cs.scope("above_high"):
            lowered = select(cs, less_than(cs, high, price, n), high, price)
        clamped = select(cs, is_ask, raised, lowered)
        return price + cs.mul(is_market, clamped - price, "market_limit")


def assert_price_in_band(
    cs: Builder, slot: SlotVars, on: LC, price: LC, band: tuple[LC, LC]
) -> None:
    """``low <= price <= high`` when ``on`` (``PriceOutOfBand``)."""
    low, high = band
    bits = slot.preset.price_bits + 1
    with cs.scope("price_in_band"):
        assert_range(cs, cs.mul(on, price - low, "above_low"), bits)
        assert_range(cs, cs.mul(on, high - price, "below_high"), bits)


@dataclass(frozen=True)
class OrderFields:
    """The record's order: its fields and its flags' bits."""

    market: LC
    price: LC
    size: LC
    expiry: LC
    is_ask: LC
    reduce_only: LC
    is_market: LC  # kind MARKET
    is_ioc: LC
    is_post_only: LC
    is_trigger: LC  # kind STOP_LOSS or TAKE_PROFIT
    is_stop_loss: LC
    trigger_price: LC
    trigger_on: LC  # on · is_trigger


def _check_fields(cs: Builder, slot: SlotVars, on: LC) -> OrderFields:
    """``check_order``'s checks of the record's own fields (the market's are elsewhere)."""
    record, preset = slot.record, slot.preset
    market, price, size = (record.field(*FIELDS[n]) for n in ("market", "price", "size"))
    trigger, expiry = record.field(*FIELDS["trigger_price"]), record.field(*FIELDS["order_expiry"])
    b = record.field_bits(*FIELDS["flags"])
    cs.assert_mul(on, b[6] + b[7], ZERO, "flags_in_range")  # not flags
    # kind = b[2] + 2 b[3]: limit, market, stop-loss, take-profit
    take_profit = cs.mul(b[2], b[3], "is_take_profit")
    is_market, is_stop_loss = b[2] - take_profit, b[3] - take_profit
    trigger_on = cs.mul(on, b[3], "trigger_on")
    cs.assert_mul(on - trigger_on, trigger, ZERO, "no_trigger_price")
    assert_nonzero_if(cs, trigger_on, trigger, "trigger_price_positive")
    with cs.scope("trigger_price_in_range"):
        assert_range(cs, cs.mul(trigger_on, trigger, "trigger_price"), preset.price_bits)
    cs.assert_mul(trigger_on, 1 - b[1], ZERO, "trigger_is_reduce_only")
    is_ioc = cs.mul(b[5], 1 - b[4], "is_ioc")
    market_on = cs.mul(on, b[2] + b[3] - take_profit, "market_on")  # not a limit order
    cs.assert_mul(market_on, 1 - is_ioc, ZERO, "market_is_ioc")
    gtt_on = cs.mul(on, cs.mul(b[4], 1 - b[5], "is_gtt"), "gtt_on")
    cs.assert_mul(on - gtt_on, expiry, ZERO, "expiry_only_gtt")
    with cs.scope("expiry_in_future"):
        ahead = cs.mul(gtt_on, expiry - slot.timestamp - 1, "ahead")
        assert_range(cs, ahead, preset.timestamp_bits)
    with cs.scope("size_in_range"):
        assert_range(cs, cs.mul(on, size, "size"), preset.base_amount_bits)
    assert_nonzero_if(cs, on, price, "price_positive")
    with cs.scope("price_in_range"):
        assert_range(cs, cs.mul(on, price, "price"), preset.price_bits)
    is_post_only = cs.mul(b[4], b[5], "is_post_only")
    return OrderFields(
        *(market, price, size, expiry, b[0], b[1], is_market, is_ioc, is_post_only),
        *(b[3], is_stop_loss, trigger, trigger_on),
    )


@dataclass(frozen=True)
class MarketFields:
    """What the order reads of its market and of A's position there."""

    min_size: LC
    band: LC
    index: LC
    position_size: LC


def _read_market(cs: Builder, slot: SlotVars, selected: list[LC]) -> MarketFields:
    params = [m.params for m in slot.markets]
    positions = slot.a_positions
    with cs.scope("market"):
        return MarketFields(
            pick(cs, selected, [p[PARAM_MIN_SIZE] for p in params], "min_size"),
            pick(cs, selected, [p[PARAM_BAND] for p in params], "band"),
            pick(cs, selected, [m.data[DATA_INDEX] for m in slot.markets], "index"),
            pick(cs, selected, [p.size for p in positions], "position_size"),
        )


def _check_against_market(
    cs: Builder, slot: SlotVars, on: LC, order: OrderFields, market: MarketFields
) -> LC:
    """The size minimum, the band, reduce-only's position; returns the limit."""
    preset = slot.preset
    with cs.scope("size_at_least_min"):
        assert_range(
            cs, cs.mul(on, order.size - market.min_size, "excess"), preset.base_amount_bits
        )
    low, high = compute_price_band(cs, slot, market.index, market.band)
    limit_on = cs.mul(on, 1 - order.is_market - order.is_trigger, "limit_on")
    assert_price_in_band(cs, slot, limit_on, order.price, (low, high))
    sign = compute_sign(cs, market.position_size, preset.base_amount_bits, "position_sign")
    opposite = sign.positive - sign.negative
    reducible = sign.negative + cs.mul(order.is_ask, opposite, "reducible")
    reduce_on = cs.mul(on, order.reduce_only, "reduce_on")
    cs.assert_mul(reduce_on, 1 - reducible, ZERO, "reduce_only_has_position")
    return compute_limit(cs, order.price, order.is_ask, order.is_market, low, high)


def define_create_order(cs: Builder, slot: SlotVars, on: LC) -> Effect:
    define_signer_checks(cs, slot, on)
    assert_nonzero_if(cs, on, slot.a.index - FEE_ACCOUNT, "not_fee_account")
    order = _check_fields(cs, slot, on)
    selected = select_market(cs, slot, on, order.market)
    market = _read_market(cs, slot, selected)
    limit = _check_against_market(cs, slot, on, order, market)
    record = slot.record
    maker, filled = record.field(*FIELDS["maker"]), record.field(*FIELDS["filled"])
    post_only_on = cs.mul(on, order.is_post_only, "post_only_on")
    cs.assert_mul(post_only_on, filled, ZERO, "post_only_never_takes")
    trigger_on = order.trigger_on
    steps = on - trigger_on  # a limit or market order's step; a trigger order's none
    taker = TakerOrderVars(
        steps,
        *(
            cs.mul(steps, v, f"taker_{name}")
            for name, v in (
                ("account", slot.a.index),
                ("market", order.market),
                ("is_ask", order.is_ask),
                ("limit", limit),
                ("remaining", order.size),
                ("rests", 1 - order.is_ioc),
                ("reduce_only", order.reduce_only),
                ("expiry", order.expiry),
            )
        ),
    )
    step = StepVars(
        steps,
        taker,
        tuple(selected),
        cs.mul(steps, maker, "maker"),
        cs.mul(steps, filled, "filled"),
        rests_at_once=post_only_on,
    )
    placed = _place_trigger(cs, slot, trigger_on, order, selected)
    return replace(placed, a_nonce=on, signed=_signed_payload(cs, slot, on), step=step)


def _place_trigger(
    cs: Builder, slot: SlotVars, on: LC, order: OrderFields, selected: list[LC]
) -> Effect:
    """``place_trigger`` when ``on`` (a trigger order): its leaf written at the market's
    trigger nonce, which grows by one, and A's count (see the module docstring)."""
    book, a, record = slot.get_book(), slot.a, slot.record
    maker, filled = record.field(*FIELDS["maker"]), record.field(*FIELDS["filled"])
    cs.assert_mul(on, maker + filled, ZERO, "trigger_fills_nothing")
    max_orders = slot.preset.max_open_orders_per_account
    with cs.scope("open_orders"):
        below = less_than(cs, a.open_orders, constant(max_orders), max_orders.bit_length() + 1)
    cs.assert_mul(on, 1 - below, ZERO, "open_orders_below_max")
    cs.assert_mul(on, book.market - order.market, ZERO, "book_is_order_market")
    written = (
        *(a.index, order.is_ask, order.is_stop_loss, order.size),
        *(order.trigger_price, order.price, a.cancel_epoch),
    )
    for name, field, value in zip(TRIGGER_FIELDS, book.trigger, written, strict=True):
        cs.assert_mul(on, field - value, ZERO, f"writes_{name}")
    # the selected market's trigger nonce: the new order's id, and its one more
    nonces = tuple(cs.mul(order.is_trigger, s, f"trigger_nonce{m}") for m, s in enumerate(selected))
    ids = [m.data[DATA_TRIGGER_NONCE] for m in slot.markets]
    trigger_id = pick(cs, nonces, ids, "trigger_id")
    return Effect(
        a_open_orders=on,
        uses_book=on,
        trigger=TriggerChange(on, on, trigger_id),
        trigger_nonces=nonces,
    )


def _signed_payload(cs: Builder, slot: SlotVars, on: LC) -> SignedPayload:
    """``CreateOrder.payload``: market, is_ask, size, price, kind, time in force, reduce_only,
    trigger price, order expiry."""
    record = slot.record
    b = record.field_bits(*FIELDS["flags"])
    payload = {
        "market": record.field(*FIELDS["market"]),
        "is_ask": b[0],
        "size": record.field(*FIELDS["size"]),
        "price": record.field(*FIELDS["price"]),
        "kind": b[2] + 2 * b[3],
        "time_in_force": b[4] + 2 * b[5],
        "reduce_only": b[1],
        "trigger_price": record.field(*FIELDS["trigger_price"]),
        "order_expiry": record.field(*FIELDS["order_expiry"]),
    }
    signed = tuple(cs.mul(on, v, f"signed_{n}") for n, v in payload.items())
    return SignedPayload(on, signed)


def _get_limit(market: Market, op: CreateOrder) -> int:
    """The taker's limit: the price, or a market order's worst price clamped into the band."""
    if op.kind == OrderKind.MARKET:
        return compute_market_limit(market, op.is_ask, op.price)
    return op.price


def _get_maker(state: State, op: CreateOrder) -> Order | None:
    """The maker the order's first step meets (``run_step``), if it crosses one; None for an
    order that rests at once (post-only), a trigger order (no step) or one the rules refuse
    before matching."""
    if op.kind >= OrderKind.STOP_LOSS or op.time_in_force == TimeInForce.POST_ONLY:
        return None
    if not 0 <= op.market < len(state.markets):
        return None
    market = state.markets[op.market]
    return market.book.best_within(not op.is_ask, _get_limit(market, op))


def get_book_key(state: State, op: CreateOrder) -> tuple[int, int]:
    """The key of the maker the order's first step fills, else the key the order rests at
    (or, cancelled, any key at its limit); any key of the market (0) for a trigger order,
    whose slot reads the book leaf and the trigger leaf only."""
    if not 0 <= op.market < len(state.markets) or op.kind >= OrderKind.STOP_LOSS:
        return op.market, 0
    maker = _get_maker(state, op)
    if maker is not None:
        return op.market, maker.key
    limit = _get_limit(state.markets[op.market], op)
    rests = op.time_in_force != TimeInForce.IOC
    return op.market, get_finish_key(state, op.market, op.is_ask, limit, rests)


def get_counterparty(state: State, op: CreateOrder) -> int | None:
    maker = _get_maker(state, op)
    return None if maker is None else maker.account


def get_trigger(state: State, op: CreateOrder) -> tuple[int, TriggerOrder | None] | None:
    """A trigger order's id (its market's trigger nonce) and the order it places (None for
    any other order)."""
    if op.kind < OrderKind.STOP_LOSS or not 0 <= op.market < len(state.markets):
        return None
    market = state.markets[op.market]
    if op.account not in state.accounts:
        return market.data.trigger_nonce, None  # the rules refuse it
    return market.data.trigger_nonce, compute_trigger(state, market, op)


CIRCUIT = OpCircuit(
    create_order.DESCRIPTOR,
    define_create_order,
    get_book_key,
    get_counterparty,
    get_trigger=get_trigger,
)
