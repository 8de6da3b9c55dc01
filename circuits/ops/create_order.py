"""Create order (type 16, L2 signed): the twin of ``protocol/ops/create_order.py`` for an order
whose first matching step ends it: it fills its best maker and nothing is left, or it fills
nothing and rests (GTC, GTT, post-only) or is cancelled (IOC, market) with no opposite order
crossing its limit. A taker left with size after its first step (it needs claims) and
stop-loss / take-profit orders are not proven yet (``taker_filled``, ``not_trigger``).

Record: account (1..6), market (7..8), flags (9: ``is_ask | reduce_only << 1 | kind << 2 |
time_in_force << 4``), price (10..13), size (14..19), trigger price (20..23), order expiry
(24..28), maker (29..34) and filled (35..40): the first step's fill. Signed by A over its nine
payload fields. Proven, as ``check_order`` and ``run_step`` do it:

- A exists and is neither the insurance fund, the fee account nor the funding pool
  (``not_fee_account``); its nonce grows by one;
- the market is in the tree and exists; ``min_base_amount <= size < 2^base_amount_bits``;
  ``0 < price < 2^price_bits``; no trigger price; a market order is IOC (``market_is_ioc``); the
  order expiry is set exactly for GTT, and then in the future;
- a limit price within the band ``[max(1, ceil(index (1 - band))), floor(index (1 + band))]``
  (``price_in_band``); a market order's worst price clamped into it (the limit ``L``);
- reduce-only needs an opposite position (``reduce_only_has_position``);
- **fills** exactly when the record's ``filled`` is not 0 (``fills``): never post-only
  (``post_only_never_takes``); the fill unit (``circuits/ops/fill_unit.py``) against the order
  at the book unit's key, B its maker; nothing is left (``taker_filled``);
- **no fill** otherwise: no maker named (``no_maker_without_fill``); the book unit's path is
  at a key of price ``L`` (``key_at_limit``), and the opposite side's lanes at better prices,
  at ``L`` on both sides of the key and in the leaf are zero (``no_crossing``:
  ``OrderBook.best_within`` finds nothing);
- **resting** (no fill, every time in force but IOC): the key's nonce is the side's next one
  (its counter, or the first nonce of an empty side: ``nonce_is_next``), the leaf there is free
  (``key_is_free``), A has fewer than ``max_open_orders_per_account`` orders
  (``open_orders_below_max``) and, unless reduce-only, ``TAV - IMR`` covers the order's own
  initial margin ``ceil(L * size * max(imf, position imf) / 1e6)`` (``order_margin_covered``);
  the order ``(A, size, is_ask, reduce_only, order expiry)`` is written at the key, the side's
  counter moves past it and A's open-order count grows by one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from circuits.gadgets.bits import assert_range
from circuits.gadgets.book_tree import Liquidity, OrderVars, compute_liquidity
from circuits.gadgets.compare import less_than, signed_less_than
from circuits.gadgets.conditional import select
from circuits.gadgets.equality import is_zero
from circuits.gadgets.matching import TakerVars
from circuits.gadgets.positions import compute_sign
from circuits.gadgets.risk import RiskWidths
from circuits.gadgets.rounding import ceil_div
from circuits.ops.book_unit import ORDER_FIELDS, add_orders
from circuits.ops.common import (
    MARKET_DATA,
    MARKET_PARAMS,
    PARAM_IMF,
    Effect,
    OpCircuit,
    SignedPayload,
    SlotVars,
    assert_nonzero_if,
    define_signer_checks,
    pick,
    select_market,
)
from circuits.ops.fill_unit import define_fill
from circuits.r1cs import ZERO, Builder, LinearCombination, constant
from protocol.accounts import FEE_ACCOUNT
from protocol.book import Order
from protocol.errors import InvalidTransaction
from protocol.markets import Market
from protocol.ops import create_order
from protocol.ops.create_order import CreateOrder, OrderKind, TimeInForce, compute_market_limit
from protocol.state import State
from protocol.types import PPM

LC = LinearCombination
FIELDS = {f.name: create_order.RECORD.offset(f.name) for f in create_order.RECORD.fields}
PARAM_MIN_SIZE = MARKET_PARAMS.index("min_base_amount")
PARAM_BAND = MARKET_PARAMS.index("price_band")
DATA_INDEX = MARKET_DATA.index("index_price")
FRACTION_BITS = PPM.bit_length() + 1  # 1e6 + a band (at most 1e6) < 2^21
PRICE_FIELD_BITS = 8 * FIELDS["price"][1]


def _compute_band(cs: Builder, slot: SlotVars, index: LC, band: LC) -> tuple[LC, LC]:
    """``compute_band``: the lowest and highest price a limit order may name."""
    bits = slot.preset.price_bits + FRACTION_BITS
    with cs.scope("band"):
        low_x = cs.mul(index, PPM - band, "low_notional")
        low = ceil_div(cs, low_x, PPM, bits, False, "low")
        low = low + is_zero(cs, low)  # max(1, .)
        high_x = cs.mul(index, PPM + band, "high_notional")
        high = ceil_div(cs, high_x - (PPM - 1), PPM, bits, True, "high")  # the floor
    return low, high


def _compute_limit(cs: Builder, price: LC, is_ask: LC, is_market: LC, low: LC, high: LC) -> LC:
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


def _assert_no_crossing(
    cs: Builder, slot: SlotVars, on: LC, q: Liquidity, is_ask: LC, limit: LC
) -> None:
    book = slot.get_book()
    asks = q.asks_cheaper + q.asks_at_price_below + q.asks_at_price_above + book.old_leaf.ask
    bids = q.bids_dearer + q.bids_at_price_above + q.bids_at_price_below + book.old_leaf.bid
    cs.assert_mul(on, book.path.price - limit, ZERO, "key_at_limit")
    # a bid crosses asks at <= L, an ask bids at >= L: all of those lanes are zero
    crossing = asks + cs.mul(is_ask, bids - asks, "crossing_side")
    cs.assert_mul(on, crossing, ZERO, "no_crossing")


def _compute_next_nonce(cs: Builder, slot: SlotVars, is_ask: LC) -> LC:
    """``OrderBook.get_next_nonce``: the side's counter, or its first nonce when it is empty
    (asks count up from 0, bids down from ``2^order_nonce_bits - 1``)."""
    book = slot.get_book()
    with cs.scope("next_nonce"):
        ask = cs.mul(1 - is_zero(cs, book.old_root.ask), book.ask_nonce, "ask")
        last = (1 << slot.preset.order_nonce_bits) - 1
        bid_empty = is_zero(cs, book.old_root.bid)
        bid = book.bid_nonce + cs.mul(bid_empty, last - book.bid_nonce, "bid")
        return bid + cs.mul(is_ask, ask - bid, "side")


def _assert_order_margin(
    cs: Builder, slot: SlotVars, on: LC, limit: LC, size: LC, market_imf: LC, position_imf: LC
) -> None:
    """``require_order_margin``: ``TAV - IMR >= ceil(L * size * max(imf, position imf) / 1e6)``."""
    preset = slot.preset
    with cs.scope("order_margin"):
        with cs.scope("imf"):
            imf = select(
                cs, less_than(cs, market_imf, position_imf, FRACTION_BITS), position_imf, market_imf
            )
        notional = cs.mul(limit, size, "notional")
        bits = PRICE_FIELD_BITS + preset.base_amount_bits + FRACTION_BITS
        margin = ceil_div(cs, cs.mul(notional, imf, "notional_imf"), PPM, bits, False, "margin")
        widths = RiskWidths.of(preset)
        free = slot.a_risk.tav - slot.a_risk.imr
        short = signed_less_than(cs, free, margin, max(widths.tav, widths.margin, bits) + 1)
    cs.assert_mul(on, short, ZERO, "order_margin_covered")


@dataclass(frozen=True)
class OrderFields:
    """The record's order: its fields and its flags' bits."""

    market: LC
    price: LC
    size: LC
    expiry: LC
    is_ask: LC
    reduce_only: LC
    is_market: LC  # kind MARKET (LIMIT otherwise: trigger kinds are refused)
    is_ioc: LC
    is_post_only: LC


def _check_fields(cs: Builder, slot: SlotVars, on: LC) -> OrderFields:
    """``check_order``'s checks of the record's own fields (the market's are elsewhere)."""
    record, preset = slot.record, slot.preset
    market, price, size = (record.field(*FIELDS[n]) for n in ("market", "price", "size"))
    trigger, expiry = record.field(*FIELDS["trigger_price"]), record.field(*FIELDS["order_expiry"])
    b = record.field_bits(*FIELDS["flags"])
    # trigger kinds (bit 3) are not proven yet; bits 6 and 7 are not flags
    cs.assert_mul(on, b[3] + b[6] + b[7], ZERO, "not_trigger")
    cs.assert_mul(on, trigger, ZERO, "no_trigger_price")
    is_ioc = cs.mul(b[5], 1 - b[4], "is_ioc")
    cs.assert_mul(cs.mul(on, b[2], "market_on"), 1 - is_ioc, ZERO, "market_is_ioc")
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
    return OrderFields(market, price, size, expiry, b[0], b[1], b[2], is_ioc, is_post_only)


@dataclass(frozen=True)
class MarketFields:
    """What the order reads of its market and of A's position there."""

    min_size: LC
    band: LC
    imf: LC
    index: LC
    position_size: LC
    position_imf: LC


def _read_market(cs: Builder, slot: SlotVars, selected: list[LC]) -> MarketFields:
    params = [m.params for m in slot.markets]
    positions = slot.a_positions
    with cs.scope("market"):
        return MarketFields(
            pick(cs, selected, [p[PARAM_MIN_SIZE] for p in params], "min_size"),
            pick(cs, selected, [p[PARAM_BAND] for p in params], "band"),
            pick(cs, selected, [p[PARAM_IMF] for p in params], "imf"),
            pick(cs, selected, [m.data[DATA_INDEX] for m in slot.markets], "index"),
            pick(cs, selected, [p.size for p in positions], "position_size"),
            pick(cs, selected, [p.imf for p in positions], "position_imf"),
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
    low, high = _compute_band(cs, slot, market.index, market.band)
    limit_on = cs.mul(on, 1 - order.is_market, "limit_on")
    with cs.scope("price_in_band"):
        assert_range(cs, cs.mul(limit_on, order.price - low, "above_low"), preset.price_bits + 1)
        assert_range(cs, cs.mul(limit_on, high - order.price, "below_high"), preset.price_bits + 1)
    sign = compute_sign(cs, market.position_size, preset.base_amount_bits, "position_sign")
    opposite = sign.positive - sign.negative
    reducible = sign.negative + cs.mul(order.is_ask, opposite, "reducible")
    reduce_on = cs.mul(on, order.reduce_only, "reduce_on")
    cs.assert_mul(reduce_on, 1 - reducible, ZERO, "reduce_only_has_position")
    return _compute_limit(cs, order.price, order.is_ask, order.is_market, low, high)


def _define_rest(
    cs: Builder, slot: SlotVars, rests: LC, order: OrderFields, market: MarketFields, limit: LC
) -> tuple[OrderVars, tuple[LC, LC]]:
    """``rest_order`` when ``rests``: the order's leaf change and the side counters' change."""
    book, preset, a = slot.get_book(), slot.preset, slot.a
    nonce = book.path.nonce
    expected = _compute_next_nonce(cs, slot, order.is_ask)
    cs.assert_mul(rests, nonce - expected, ZERO, "nonce_is_next")
    cs.assert_mul(rests, book.order.remaining, ZERO, "key_is_free")
    max_orders = preset.max_open_orders_per_account
    with cs.scope("open_orders"):
        below = less_than(cs, a.open_orders, constant(max_orders), max_orders.bit_length() + 1)
    cs.assert_mul(rests, 1 - below, ZERO, "open_orders_below_max")
    margin_on = cs.mul(rests, 1 - order.reduce_only, "margin_on")
    _assert_order_margin(cs, slot, margin_on, limit, order.size, market.imf, market.position_imf)
    target = (a.index, order.size, order.is_ask, order.reduce_only, order.expiry)
    was = book.order
    old = (was.account, was.remaining, was.is_ask, was.reduce_only, was.expiry)
    change = OrderVars(
        *(
            cs.mul(rests, new - before, f"write_{name}")
            for name, new, before in zip(ORDER_FIELDS, target, old, strict=True)
        )
    )
    rests_ask = cs.mul(rests, order.is_ask, "rests_ask")
    counters = (
        cs.mul(rests_ask, nonce + 1 - book.ask_nonce, "ask_counter"),
        cs.mul(rests - rests_ask, nonce - 1 - book.bid_nonce, "bid_counter"),
    )
    return change, counters


def define_create_order(cs: Builder, slot: SlotVars, on: LC) -> Effect:
    define_signer_checks(cs, slot, on)
    assert_nonzero_if(cs, on, slot.a.index - FEE_ACCOUNT, "not_fee_account")
    order = _check_fields(cs, slot, on)
    selected = select_market(cs, slot, on, order.market)
    market = _read_market(cs, slot, selected)
    limit = _check_against_market(cs, slot, on, order, market)
    book = slot.get_book()
    cs.assert_mul(on, order.market - book.market, ZERO, "book_market_is_record")
    liquidity = compute_liquidity(cs, book.path)
    # the first step fills a maker exactly when the record says it filled some size
    record = slot.record
    maker, filled = record.field(*FIELDS["maker"]), record.field(*FIELDS["filled"])
    fills = cs.mul(on, 1 - is_zero(cs, filled), "fills")
    finishes = on - fills  # the order rests or is cancelled without a fill
    cs.assert_mul(finishes, maker, ZERO, "no_maker_without_fill")
    cs.assert_mul(fills, order.is_post_only, ZERO, "post_only_never_takes")
    _assert_no_crossing(cs, slot, finishes, liquidity, order.is_ask, limit)
    rests = cs.mul(finishes, 1 - order.is_ioc, "rests")
    change, counters = _define_rest(cs, slot, rests, order, market, limit)
    taker = TakerVars(
        order.is_ask, limit, cs.mul(fills, order.size, "taker_size"), order.reduce_only
    )
    size = cs.mul(on, filled, "filled")
    step = define_fill(cs, slot, fills, selected, taker, liquidity, maker, size)
    # a taker left with size needs claims (not proven yet): the step fills it entirely
    cs.assert_mul(fills, step.taker_remaining, ZERO, "taker_filled")
    return replace(
        step.effect,
        a_nonce=on,
        a_open_orders=rests,
        uses_book=on,
        order=add_orders(change, step.effect.order),
        book_nonces=counters,
        signed=_signed_payload(cs, slot, on),
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
    order that rests at once (post-only) or the rules refuse before matching."""
    if op.kind >= OrderKind.STOP_LOSS or op.time_in_force == TimeInForce.POST_ONLY:
        return None
    if not 0 <= op.market < len(state.markets):
        return None
    market = state.markets[op.market]
    return market.book.best_within(not op.is_ask, _get_limit(market, op))


def get_book_key(state: State, op: CreateOrder) -> tuple[int, int] | None:
    """The key of the maker the order's first step fills, else the key the order rests at
    (or, cancelled, any key at its limit); None for trigger orders (not proven yet)."""
    if op.kind >= OrderKind.STOP_LOSS:
        return None
    if not 0 <= op.market < len(state.markets):
        return op.market, 0  # the rules refuse it
    maker = _get_maker(state, op)
    if maker is not None:
        return op.market, maker.key
    market = state.markets[op.market]
    book, limit = market.book, _get_limit(market, op)
    if op.time_in_force == TimeInForce.IOC or not 0 < limit < 1 << state.preset.price_bits:
        return op.market, max(0, limit) << state.preset.order_nonce_bits
    try:
        return op.market, book.compute_key(limit, book.get_next_nonce(op.is_ask))
    except InvalidTransaction:
        return op.market, 0  # the side's nonces are exhausted: the rules refuse it


def get_counterparty(state: State, op: CreateOrder) -> int | None:
    maker = _get_maker(state, op)
    return None if maker is None else maker.account


CIRCUIT = OpCircuit(create_order.DESCRIPTOR, define_create_order, get_book_key, get_counterparty)
