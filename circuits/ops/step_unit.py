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
  the order ``(A, remaining, is_ask, reduce_only, order expiry, A's cancel epoch)`` is written
  at the key, the side's counter moves past it and A's open-order count grows by one.

Or it **cancels** the maker it meets (the prover's private choice, ``cancels_maker``, which the
fill unit holds to a reason: expired, the taker's own, reduce-only with nothing to reduce, or,
with ``maker_fails_risk``, the fill tried and failing the maker's valid-risk-change rule), and
the taker, its size kept, stays pending.

Or, in a claim only (``StepVars.may_end``; ``ends_alone``), it **ends** the taker on the
taker's own failure (``ends_taker``, the rules' ``end_taker``): nothing moves, the remainder is
cancelled. Either at the maker it meets (the fill unit: the best crossing order, live, and the
taker reduce-only with nothing to reduce, or the fill, tried, passing the maker's risk rule and
failing the taker's or the open-interest cap), or, with ``rest_fails``, where the remainder
would rest: nothing crosses it, and A has no room for an order or, unless reduce-only, not the
margin, or the side's nonces are spent (``rest_fails_has_reason``).

Before any of these, **the freeze** (``_check_round``; ``run_step``'s ``MarketDeleveraging``):
in a market whose deleverage round is open (its ``adl_round`` lane not 0) a step that cannot
end its taker is refused, and one that may ends it there, nothing moved.

A taker with size left stays pending unless that step was its ``trading_slots``-th (the step
limit: the running taker counts its steps; at the limit it ends, its remainder cancelled). A
post-only taker (a modified order, handed over by its modify without a step) may only finish
(``post_only_only_rests``).
"""

from __future__ import annotations

from dataclasses import replace

from circuits.gadgets.book_tree import Liquidity, OrderVars, compute_liquidity
from circuits.gadgets.boolean import assert_boolean
from circuits.gadgets.compare import less_than, signed_less_than
from circuits.gadgets.conditional import select
from circuits.gadgets.equality import is_equal, is_zero
from circuits.gadgets.matching import TakerVars
from circuits.gadgets.risk import RiskWidths
from circuits.gadgets.rounding import ceil_div
from circuits.ops.book_unit import BOOK_ORDER_FIELDS, add_orders
from circuits.ops.common import (
    PARAM_IMF,
    Effect,
    SlotVars,
    StepVars,
    TakerOrderVars,
    assert_nonzero_if,
    is_deleveraging,
    pick,
)
from circuits.ops.fill_unit import define_fill
from circuits.r1cs import ZERO, Builder, LinearCombination, constant
from protocol.book import Order
from protocol.errors import InvalidTransaction
from protocol.ops import create_order
from protocol.state import State, Taker
from protocol.types import PPM

LC = LinearCombination
FRACTION_BITS = PPM.bit_length() + 1  # 1e6 + a band (at most 1e6) < 2^21
PRICE_FIELD_BITS = 8 * create_order.RECORD.offset("price")[1]  # a limit is below 2^this
# the prover's private bits of a step (``SlotWitness``), and their values without a step
STEP_CHOICES = ("cancels_maker", "maker_fails_risk", "ends_taker", "rest_fails")
NO_CHOICE = (0,) * len(STEP_CHOICES)
# what a pending taker keeps of the step's taker (its remaining size is the step's result)
KEPT_FIELDS = (
    "account",
    "market",
    "is_ask",
    "limit",
    "rests",
    "reduce_only",
    "expiry",
    "post_only",
    "zero_price",
)


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


def _compute_next_nonce(cs: Builder, slot: SlotVars, is_ask: LC) -> tuple[LC, LC]:
    """``OrderBook.get_next_nonce``: the side's counter, or its first nonce when it is empty
    (asks count up from 0, bids down from ``2^order_nonce_bits - 1``); and 1 when the side's
    nonces are spent (``OrderBookFull``: asks at ``2^order_nonce_bits``, bids at 0)."""
    book, bits = slot.get_book(), slot.preset.order_nonce_bits
    with cs.scope("next_nonce"):
        ask_live = 1 - is_zero(cs, book.old_root.ask)
        ask = cs.mul(ask_live, book.ask_nonce, "ask")
        bid_empty = is_zero(cs, book.old_root.bid)
        bid = book.bid_nonce + cs.mul(bid_empty, (1 << bits) - 1 - book.bid_nonce, "bid")
        nonce = bid + cs.mul(is_ask, ask - bid, "side")
    with cs.scope("nonces_spent"):
        asks_spent = cs.mul(ask_live, is_equal(cs, book.ask_nonce, constant(1 << bits)), "ask")
        bids_spent = cs.mul(1 - bid_empty, is_zero(cs, book.bid_nonce), "bid")
        spent = bids_spent + cs.mul(is_ask, asks_spent - bids_spent, "side")
    return nonce, spent


def _is_margin_short(
    cs: Builder, slot: SlotVars, selected: tuple[LC, ...], limit: LC, size: LC
) -> LC:
    """``require_order_margin`` fails: ``TAV - IMR < ceil(L * size * max(imf, position imf) /
    1e6)``."""
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
        return signed_less_than(cs, free, margin, max(widths.tav, widths.margin, bits) + 1)


def _define_rest(
    cs: Builder,
    slot: SlotVars,
    rests: tuple[LC, LC],
    taker: TakerOrderVars,
    selected: tuple[LC, ...],
) -> tuple[OrderVars, tuple[LC, LC]]:
    """``rest_order`` when ``rests[0]``: the order's leaf change and the side counters' change;
    when ``rests[1]`` instead, the rest fails (the taker ends): A has the maximum of open
    orders or, unless reduce-only, too little margin, or the side's nonces are spent
    (``rest_fails_has_reason``)."""
    book, preset, a = slot.get_book(), slot.preset, slot.a
    writes, fails = rests
    nonce = book.path.nonce
    expected, spent = _compute_next_nonce(cs, slot, taker.is_ask)
    cs.assert_mul(writes, nonce - expected, ZERO, "nonce_is_next")
    cs.assert_mul(writes, book.order.remaining, ZERO, "key_is_free")
    max_orders = preset.max_open_orders_per_account
    with cs.scope("open_orders"):
        below = less_than(cs, a.open_orders, constant(max_orders), max_orders.bit_length() + 1)
    cs.assert_mul(writes, 1 - below, ZERO, "open_orders_below_max")
    short = _is_margin_short(cs, slot, selected, taker.limit, taker.remaining)
    margin_short = cs.mul(1 - taker.reduce_only, short, "margin_short")
    cs.assert_mul(writes, margin_short, ZERO, "order_margin_covered")
    # a rest that fails has a reason: no margin (unless reduce-only), no nonce left on the
    # side, or no room for an order
    margin_and_nonce = cs.mul(1 - margin_short, 1 - spent, "margin_and_nonce")
    restable = cs.mul(below, margin_and_nonce, "restable")
    cs.assert_mul(fails, restable, ZERO, "rest_fails_has_reason")
    # the order rests in its owner's cancel epoch (live until its next cancel-all)
    target = (a.index, taker.remaining, taker.is_ask, taker.reduce_only, taker.expiry)
    was = book.order
    old = (was.account, was.remaining, was.is_ask, was.reduce_only, was.expiry, was.epoch)
    change = OrderVars(
        *(
            cs.mul(writes, new - before, f"write_{name}")
            for name, new, before in zip(
                BOOK_ORDER_FIELDS, (*target, a.cancel_epoch), old, strict=True
            )
        )
    )
    rests_ask = cs.mul(writes, taker.is_ask, "rests_ask")
    assert_nonzero_if(cs, writes - rests_ask, nonce, "bid_nonce_not_zero")  # OrderBookFull
    counters = (
        cs.mul(rests_ask, nonce + 1 - book.ask_nonce, "ask_counter"),
        cs.mul(writes - rests_ask, nonce - 1 - book.bid_nonce, "bid_counter"),
    )
    return change, counters


def _check_round(cs: Builder, slot: SlotVars, step: StepVars, ends: LC, rest_fails: LC) -> LC:
    """The freeze (``matching.run_step``: ``MarketDeleveraging`` while the taker's market has an
    open deleverage round): a step that cannot end its taker (a create order's, a
    liquidation's; a post-only order, rested without a step, apart) is refused there
    (``market_not_deleveraging``); one that may (a claim's, a fired trigger's, a forced
    order's) ends it there, on that failure alone: nothing moves, the remainder is cancelled
    (``frozen_ends_taker``). Returns 1 for such an end."""
    frozen = is_deleveraging(cs, slot.markets, step.selected, "round")
    refused = step.on - step.may_end - step.rests_at_once
    cs.assert_mul(refused, frozen, ZERO, "market_not_deleveraging")
    frozen_ends = cs.mul(step.may_end, frozen, "frozen_ends")
    cs.assert_mul(frozen_ends, 1 - ends + rest_fails, ZERO, "frozen_ends_taker")
    return frozen_ends


def define_step(
    cs: Builder, slot: SlotVars, step: StepVars, choice: tuple[int, ...] | None
) -> tuple[Effect, TakerOrderVars]:
    """The step's effect, and the taker it leaves pending (all 0 when it finishes).
    ``choice``: the prover's bits (``STEP_CHOICES``; None in setup mode), which the units hold
    to the rules' reasons: ``cancels_maker`` (the step cancels the maker it meets),
    ``maker_fails_risk`` (because the fill, tried, fails the maker's risk rule),
    ``ends_taker`` (a claim's taker ends on its own failure) and ``rest_fails`` (where its
    remainder cannot rest)."""
    book, taker = slot.get_book(), step.taker
    with cs.scope("step"):
        cs.assert_mul(step.on, book.market - taker.market, ZERO, "book_market_is_takers")
        liquidity = compute_liquidity(cs, book.path)
        fills = 1 - is_zero(cs, step.size)  # the size is 0 when no operation steps
        bits = {
            name: cs.private(name, None if choice is None else choice[i])
            for i, name in enumerate(STEP_CHOICES)
        }
        cancels, fails_risk = bits["cancels_maker"], bits["maker_fails_risk"]
        ends, rest_fails = bits["ends_taker"], bits["rest_fails"]
        for name, short in zip(
            STEP_CHOICES, ("cancels", "fails_risk", "ends", "rest_fails"), strict=True
        ):
            assert_boolean(cs, bits[name], f"{short}_boolean")
        cs.assert_mul(cancels, 1 - step.on + fills, ZERO, "cancels_without_fill")
        cs.assert_mul(fails_risk, 1 - cancels, ZERO, "fails_risk_cancels")
        cs.assert_mul(ends, 1 - step.may_end + fills + cancels, ZERO, "ends_alone")
        cs.assert_mul(rest_fails, 1 - ends, ZERO, "rest_fails_ends")
        frozen_ends = _check_round(cs, slot, step, ends, rest_fails)
        # a post-only taker (a modified order) only finishes: nothing crosses it, and it rests
        # (unless its market is deleveraging: then its claim ends it)
        cs.assert_mul(
            taker.post_only, fills + cancels + ends - frozen_ends, ZERO, "post_only_only_rests"
        )
        cs.assert_mul(step.on - fills, step.maker, ZERO, "no_maker_without_fill")
        ends_meeting = ends - rest_fails - frozen_ends  # the taker ends at the maker it meets
        finishes = step.on - fills - cancels - ends_meeting - frozen_ends
        _assert_no_crossing(cs, slot, finishes, liquidity, taker.is_ask, taker.limit)
        rests = cs.mul(finishes, taker.rests, "rests")
        cs.assert_mul(rest_fails, 1 - rests, ZERO, "rest_fails_rests")
        rest = (rests - rest_fails, rest_fails)
        change, counters = _define_rest(cs, slot, rest, taker, step.selected)
        filling = TakerVars(
            taker.is_ask,
            taker.limit,
            cs.mul(fills + fails_risk + ends_meeting, taker.remaining, "taker_size"),
            taker.reduce_only,
        )
        fill = define_fill(
            cs,
            slot,
            fills,
            (cancels, fails_risk, ends_meeting),
            step.selected,
            filling,
            liquidity,
            step.maker,
            step.size,
            taker.zero_price,
        )
        # what the taker has left: after its fill, or all of it after a cancelled maker
        remaining = fill.taker_remaining + cs.mul(cancels, taker.remaining, "kept")
        with cs.scope("pending"):
            # pending with size left, unless that was its last step (the step limit)
            steps = taker.steps + step.on
            last = is_equal(cs, steps, constant(slot.preset.trading_slots))
            pending = cs.mul(1 - is_zero(cs, remaining), 1 - last, "active")
            kept = {name: cs.mul(pending, getattr(taker, name), name) for name in KEPT_FIELDS}
            left = TakerOrderVars(
                pending,
                remaining=cs.mul(pending, remaining, "remaining"),
                steps=cs.mul(pending, steps, "steps"),
                **kept,
            )
    effect = replace(
        fill.effect,
        a_open_orders=fill.effect.a_open_orders + rest[0],
        uses_book=step.on,
        order=add_orders(change, fill.effect.order),
        book_nonces=counters,
    )
    return effect, left


def get_finish_key(state: State, market: int, is_ask: bool, limit: int, rests: bool) -> int:
    """The book key a step that finishes its taker reads: where the remainder rests (the side's
    next nonce at the limit), or any key at the limit for a remainder cancelled or that cannot
    rest (the side's nonces spent); 0 where the rules refuse the step (a limit out of range)."""
    preset = state.preset
    if not 0 < limit < 1 << preset.price_bits:
        return 0
    book = state.markets[market].book
    try:
        nonce = book.get_next_nonce(is_ask) if rests else 0
    except InvalidTransaction:
        nonce = 0
    return book.compute_key(limit, nonce)


def get_first_maker(state: State, taker: Taker | None) -> Order | None:
    """The order ``taker``'s step meets: the best of the other side within its limit (dead,
    expired or its own included: the step removes those), or None."""
    if taker is None:
        return None
    return state.markets[taker.market].book.best_within(not taker.is_ask, taker.limit_price)


def get_step_counterparty(state: State, taker: Taker | None) -> int | None:
    """B of ``taker``'s step: the account of the maker it meets, if any."""
    maker = get_first_maker(state, taker)
    return None if maker is None else maker.account


def get_step_key(state: State, taker: Taker | None) -> tuple[int, int]:
    """The book unit's ``(market, key)`` for ``taker``'s step: the maker it meets, else where it
    finishes (``get_finish_key``); ``(0, 0)`` for no taker (a refused operation reads no book)."""
    if taker is None:
        return 0, 0
    maker = get_first_maker(state, taker)
    if maker is not None:
        return taker.market, maker.key
    key = get_finish_key(state, taker.market, taker.is_ask, taker.limit_price, taker.rests)
    return taker.market, key
