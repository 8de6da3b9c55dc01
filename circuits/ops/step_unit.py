"""A heavy slot's matching step (docs/PROTOCOL.md 8.C): the twin of ``protocol.matching``'s
``run_step`` for the step a create order or a claim asks of its slot (``Effect.step``; the
slot adds the operations' steps up and runs this unit once).

The step either fills the maker at the book unit's key (the record names the maker and the size:
``circuits/ops/fill_unit.py``) or finishes the taker, never both (one book path per step):

- **fills** exactly when the record's size is not 0; then the taker stays pending, into the
  next slot's claim, when the fill leaves it size, and finishes as filled otherwise;
- **finishes** otherwise: no maker named (``no_maker_without_fill``); the book unit's path is at
  a key of the taker's limit ``L`` (``key_at_limit``), and the opposite side's lanes at better
  prices, at ``L`` on both sides of the key and in the leaf are zero (``no_crossing``:
  ``OrderBook.best_within`` finds nothing). The remainder is cancelled, or **rests** when the
  taker's time in force lets it (``finish_taker``): the key's nonce is the side's next one (its
  counter, or the first nonce of an empty side: ``nonce_is_next``), the leaf there is free
  (``key_is_free``), A has fewer than ``max_open_orders_per_account`` orders
  (``open_orders_below_max``) and, unless reduce-only, ``TAV - IMR`` covers the order's own
  initial margin ``ceil(L * size * max(imf, position imf) / 1e6)`` (``order_margin_covered``);
  the order ``(A, remaining, is_ask, reduce_only, order expiry)`` is written at the key, the
  side's counter moves past it and A's open-order count grows by one.

Or it **cancels** the maker it meets (the prover's private choice, ``cancels_maker``, which the
fill unit holds to a reason: expired, the taker's own, reduce-only with nothing to reduce, or,
with ``maker_fails_risk``, the fill tried and failing the maker's valid-risk-change rule), and
the taker, its size kept, stays pending.

Not proven yet: a claim whose taker fails on its own side (``sequencer.witness.check_outcome``
refuses it).
"""

from __future__ import annotations

from dataclasses import replace

from circuits.gadgets.book_tree import Liquidity, OrderVars, compute_liquidity
from circuits.gadgets.boolean import assert_boolean
from circuits.gadgets.compare import less_than, signed_less_than
from circuits.gadgets.conditional import select
from circuits.gadgets.equality import is_zero
from circuits.gadgets.matching import TakerVars
from circuits.gadgets.risk import RiskWidths
from circuits.gadgets.rounding import ceil_div
from circuits.ops.book_unit import ORDER_FIELDS, add_orders
from circuits.ops.common import (
    PARAM_IMF,
    Effect,
    SlotVars,
    StepVars,
    TakerOrderVars,
    pick,
)
from circuits.ops.fill_unit import define_fill
from circuits.r1cs import ZERO, Builder, LinearCombination, constant
from protocol.errors import InvalidTransaction
from protocol.ops import create_order
from protocol.state import State
from protocol.types import PPM

LC = LinearCombination
FRACTION_BITS = PPM.bit_length() + 1  # 1e6 + a band (at most 1e6) < 2^21
PRICE_FIELD_BITS = 8 * create_order.RECORD.offset("price")[1]  # a limit is below 2^this
# what a pending taker keeps of the step's taker (its remaining size is the step's result)
KEPT_FIELDS = ("account", "market", "is_ask", "limit", "rests", "reduce_only", "expiry")


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
    cs: Builder, slot: SlotVars, on: LC, selected: tuple[LC, ...], limit: LC, size: LC
) -> None:
    """``require_order_margin``: ``TAV - IMR >= ceil(L * size * max(imf, position imf) / 1e6)``."""
    preset = slot.preset
    with cs.scope("order_margin"):
        with cs.scope("imf"):
            market_imf = pick(cs, selected, [m.params[PARAM_IMF] for m in slot.markets], "market")
            position_imf = pick(cs, selected, [p.imf for p in slot.a_positions], "position")
            larger = less_than(cs, market_imf, position_imf, FRACTION_BITS)
            imf = select(cs, larger, position_imf, market_imf)
        notional = cs.mul(limit, size, "notional")
        bits = PRICE_FIELD_BITS + preset.base_amount_bits + FRACTION_BITS
        margin = ceil_div(cs, cs.mul(notional, imf, "notional_imf"), PPM, bits, False, "margin")
        widths = RiskWidths.of(preset)
        free = slot.a_risk.tav - slot.a_risk.imr
        short = signed_less_than(cs, free, margin, max(widths.tav, widths.margin, bits) + 1)
    cs.assert_mul(on, short, ZERO, "order_margin_covered")


def _define_rest(
    cs: Builder, slot: SlotVars, rests: LC, taker: TakerOrderVars, selected: tuple[LC, ...]
) -> tuple[OrderVars, tuple[LC, LC]]:
    """``rest_order`` when ``rests``: the order's leaf change and the side counters' change."""
    book, preset, a = slot.get_book(), slot.preset, slot.a
    nonce = book.path.nonce
    expected = _compute_next_nonce(cs, slot, taker.is_ask)
    cs.assert_mul(rests, nonce - expected, ZERO, "nonce_is_next")
    cs.assert_mul(rests, book.order.remaining, ZERO, "key_is_free")
    max_orders = preset.max_open_orders_per_account
    with cs.scope("open_orders"):
        below = less_than(cs, a.open_orders, constant(max_orders), max_orders.bit_length() + 1)
    cs.assert_mul(rests, 1 - below, ZERO, "open_orders_below_max")
    margin_on = cs.mul(rests, 1 - taker.reduce_only, "margin_on")
    _assert_order_margin(cs, slot, margin_on, selected, taker.limit, taker.remaining)
    target = (a.index, taker.remaining, taker.is_ask, taker.reduce_only, taker.expiry)
    was = book.order
    old = (was.account, was.remaining, was.is_ask, was.reduce_only, was.expiry)
    change = OrderVars(
        *(
            cs.mul(rests, new - before, f"write_{name}")
            for name, new, before in zip(ORDER_FIELDS, target, old, strict=True)
        )
    )
    rests_ask = cs.mul(rests, taker.is_ask, "rests_ask")
    counters = (
        cs.mul(rests_ask, nonce + 1 - book.ask_nonce, "ask_counter"),
        cs.mul(rests - rests_ask, nonce - 1 - book.bid_nonce, "bid_counter"),
    )
    return change, counters


def define_step(
    cs: Builder, slot: SlotVars, step: StepVars, cancel: tuple[int, int] | None
) -> tuple[Effect, TakerOrderVars]:
    """The step's effect, and the taker it leaves pending (all 0 when it finishes).
    ``cancel``: the prover's choice (``cancels_maker``: the step cancels the maker it meets;
    ``maker_fails_risk``: because the fill, tried, fails the maker's risk rule; None in setup
    mode), which the fill unit holds to a reason."""
    book, taker = slot.get_book(), step.taker
    with cs.scope("step"):
        cs.assert_mul(step.on, book.market - taker.market, ZERO, "book_market_is_takers")
        liquidity = compute_liquidity(cs, book.path)
        fills = 1 - is_zero(cs, step.size)  # the size is 0 when no operation steps
        cancels = cs.private("cancels_maker", None if cancel is None else cancel[0])
        assert_boolean(cs, cancels, "cancels_boolean")
        cs.assert_mul(cancels, 1 - step.on + fills, ZERO, "cancels_without_fill")
        fails_risk = cs.private("maker_fails_risk", None if cancel is None else cancel[1])
        assert_boolean(cs, fails_risk, "fails_risk_boolean")
        cs.assert_mul(fails_risk, 1 - cancels, ZERO, "fails_risk_cancels")
        cs.assert_mul(step.on - fills, step.maker, ZERO, "no_maker_without_fill")
        finishes = step.on - fills - cancels
        _assert_no_crossing(cs, slot, finishes, liquidity, taker.is_ask, taker.limit)
        rests = cs.mul(finishes, taker.rests, "rests")
        change, counters = _define_rest(cs, slot, rests, taker, step.selected)
        filling = TakerVars(
            taker.is_ask,
            taker.limit,
            cs.mul(fills + fails_risk, taker.remaining, "taker_size"),
            taker.reduce_only,
        )
        fill = define_fill(
            cs,
            slot,
            fills,
            (cancels, fails_risk),
            step.selected,
            filling,
            liquidity,
            step.maker,
            step.size,
        )
        # what the taker has left: after its fill, or all of it after a cancelled maker
        remaining = fill.taker_remaining + cs.mul(cancels, taker.remaining, "kept")
        with cs.scope("pending"):
            pending = 1 - is_zero(cs, remaining)
            kept = {name: cs.mul(pending, getattr(taker, name), name) for name in KEPT_FIELDS}
            left = TakerOrderVars(pending, remaining=remaining, **kept)
    effect = replace(
        fill.effect,
        a_open_orders=fill.effect.a_open_orders + rests,
        uses_book=step.on,
        order=add_orders(change, fill.effect.order),
        book_nonces=counters,
    )
    return effect, left


def get_finish_key(state: State, market: int, is_ask: bool, limit: int, rests: bool) -> int:
    """The book key a step that finishes its taker reads: where the remainder rests (the side's
    next nonce at the limit), or any key at the limit for a remainder cancelled; 0 where the
    rules refuse the step (a limit out of range, the side's nonces exhausted)."""
    preset = state.preset
    if not 0 < limit < 1 << preset.price_bits:
        return 0
    if not rests:
        return limit << preset.order_nonce_bits
    book = state.markets[market].book
    try:
        return book.compute_key(limit, book.get_next_nonce(is_ask))
    except InvalidTransaction:
        return 0
