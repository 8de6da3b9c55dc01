"""Create order (type 16, L2 signed): the twin of ``protocol/ops/create_order.py``'s checks of
an order before its first matching step, which the slot's step unit runs
(``circuits/ops/step_unit.py``: it fills the best maker, or rests or cancels the order with no
opposite order crossing its limit). A taker the first step leaves with size stays pending
for the next slot's claim (``circuits/ops/claim.py``). Stop-loss / take-profit orders are not
proven yet (``not_trigger``).

Record: account (1..6), market (7..8), flags (9: ``is_ask | reduce_only << 1 | kind << 2 |
time_in_force << 4``), price (10..13), size (14..19), trigger price (20..23), order expiry
(24..28), maker (29..34) and filled (35..40): the first step's fill. Signed by A over its nine
payload fields. Proven, as ``check_order`` does it:

- A exists and is neither the insurance fund, the fee account nor the funding pool
  (``not_fee_account``); its nonce grows by one;
- the market is in the tree and exists; ``min_base_amount <= size < 2^base_amount_bits``;
  ``0 < price < 2^price_bits``; no trigger price; a market order is IOC (``market_is_ioc``); the
  order expiry is set exactly for GTT, and then in the future;
- a limit price within the band ``[max(1, ceil(index (1 - band))), floor(index (1 + band))]``
  (``price_in_band``); a market order's worst price clamped into it (the limit ``L``);
- reduce-only needs an opposite position (``reduce_only_has_position``);
- a post-only order fills nothing (``post_only_never_takes``: it rests at once);
- the step: the taker ``(A, market, side, L, size, rests unless IOC, reduce-only, order
  expiry)`` against the record's maker and filled size.
"""

from __future__ import annotations

from dataclasses import dataclass

from circuits.gadgets.bits import assert_range
from circuits.gadgets.compare import less_than
from circuits.gadgets.conditional import select
from circuits.gadgets.equality import is_zero
from circuits.gadgets.positions import compute_sign
from circuits.gadgets.rounding import ceil_div
from circuits.ops.common import (
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
from circuits.r1cs import ZERO, Builder, LinearCombination
from protocol.accounts import FEE_ACCOUNT
from protocol.book import Order
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
    limit_on = cs.mul(on, 1 - order.is_market, "limit_on")
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
    taker = TakerOrderVars(
        on,
        *(
            cs.mul(on, v, f"taker_{name}")
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
        on,
        taker,
        tuple(selected),
        cs.mul(on, maker, "maker"),
        cs.mul(on, filled, "filled"),
        rests_at_once=post_only_on,
    )
    return Effect(a_nonce=on, signed=_signed_payload(cs, slot, on), step=step)


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
    limit = _get_limit(state.markets[op.market], op)
    rests = op.time_in_force != TimeInForce.IOC
    return op.market, get_finish_key(state, op.market, op.is_ask, limit, rests)


def get_counterparty(state: State, op: CreateOrder) -> int | None:
    maker = _get_maker(state, op)
    return None if maker is None else maker.account


CIRCUIT = OpCircuit(create_order.DESCRIPTOR, define_create_order, get_book_key, get_counterparty)
