"""Trigger order (type 22, sequencer): the twin of ``protocol/ops/trigger_order.py``: a
stop-loss or take-profit order fires when the mark has reached its trigger price, or, dead, is
removed.

Record: account (1..6, the trigger order's owner: A), market (7..8), trigger id (9..12) |
maker (13..18), filled (19..24). Unsigned. Proven:

- the trigger leaf ``sponge([account, is_ask, is_stop_loss, size, trigger_price, worst_price,
  epoch], "zkp.trig")`` (6.5) at the record's trigger id (``trigger_id``), its fields carried
  by the slot's book unit with its path in the market's trigger tree, is under the market's
  trigger root, the book unit's (the unit's ``trigger_root_matches``; its market is the
  record's: ``book_is_record_market``, and in the tree and existing); so the trigger exists,
  and the id is below ``2^order_nonce_bits``;
- its owner is A (``a_is_owner``); it is **live** when its epoch is A's cancel epoch;
- live, the block's mark of the market has reached the trigger price (``mark_reached``): sell
  stop-loss and buy take-profit ``mark <= trigger_price``, buy stop-loss and sell take-profit
  ``mark >= trigger_price``;
- the leaf becomes 0 either way (the book unit's trigger path, the one that placing and
  cancelling a trigger order use too, changes the trigger root);
- live, A's open-order count falls by one, and the slot's step unit runs the first step of the
  taker ``(A, market, side, L, size, IOC, reduce-only, no expiry)``, ``L`` the worst price
  clamped into the band (``compute_market_limit``), against the record's maker and filled, with
  ``may_end``: the rules' ``run_step_or_end`` ends the taker on its own failure (nothing left to
  reduce, its risk rule, open interest) and the trigger is consumed anyway. Claims continue it;
- dead, nothing else moves: no step, the count unchanged (its owner's cancel-all dropped it), and
  the record fills nothing (``dead_fills_nothing``).
"""

from __future__ import annotations

from circuits.gadgets.bits import assert_range
from circuits.gadgets.equality import is_equal
from circuits.ops.book_unit import TriggerChange
from circuits.ops.common import (
    DATA_MARK,
    Effect,
    OpCircuit,
    SlotVars,
    StepVars,
    TakerOrderVars,
    pick,
    select_market,
)
from circuits.ops.create_order import (
    DATA_INDEX,
    PARAM_BAND,
    compute_limit,
    compute_price_band,
)
from circuits.ops.step_unit import get_step_counterparty, get_step_key
from circuits.r1cs import ONE, ZERO, Builder, LinearCombination
from protocol.markets import TriggerOrder
from protocol.ops import trigger_order
from protocol.ops.create_order import compute_market_limit
from protocol.ops.trigger_order import FireTrigger
from protocol.orders import is_live
from protocol.state import State, Taker

LC = LinearCombination
FIELDS = {f.name: trigger_order.RECORD.offset(f.name) for f in trigger_order.RECORD.fields}


def _assert_mark_reached(
    cs: Builder, slot: SlotVars, fired: LC, mark: LC, fields: tuple[LC, ...]
) -> None:
    """``TriggerOrder.is_triggered`` when ``fired``: the trigger and the mark (each below
    ``2^price_bits``) compared in ``price_bits + 1`` bits."""
    _, is_ask, is_stop_loss, _, trigger_price, _, _ = fields
    with cs.scope("mark_reached"):
        # sell stop-loss, buy take-profit: is_ask == is_stop_loss
        both = cs.mul(is_ask, is_stop_loss, "both")
        fires_below = 1 - is_ask - is_stop_loss + 2 * both
        rise = mark - trigger_price  # >= 0 when it fires above
        gap = rise + cs.mul(fires_below, -2 * rise, "gap")  # >= 0 when it fires
        assert_range(cs, cs.mul(fired, gap, "reached"), slot.preset.price_bits + 1)


def _read_market(cs: Builder, slot: SlotVars, selected: list[LC]) -> tuple[LC, LC, LC]:
    """The selected market's mark, index price and band."""
    markets = slot.markets
    with cs.scope("market"):
        mark = pick(cs, selected, [m.data[DATA_MARK] for m in markets], "mark")
        index = pick(cs, selected, [m.data[DATA_INDEX] for m in markets], "index")
        band = pick(cs, selected, [m.params[PARAM_BAND] for m in markets], "band")
    return mark, index, band


def _fired_step(
    cs: Builder, slot: SlotVars, fired: LC, market: LC, limit: LC, selected: list[LC]
) -> StepVars:
    """The fired order's first step: the reduce-only IOC taker ``(A, market, side, limit,
    size)`` against the record's maker and filled, which may end it (all 0 unless fired)."""
    _, is_ask, _, size, _, _, _ = slot.get_book().trigger
    record = slot.record
    taken = {
        name: cs.mul(fired, v, f"taker_{name}")
        for name, v in (
            ("account", slot.a.index),
            ("market", market),
            ("is_ask", is_ask),
            ("limit", limit),
            ("remaining", size),
        )
    }
    taker = TakerOrderVars(fired, rests=ZERO, reduce_only=fired, expiry=ZERO, **taken)
    step_markets = tuple(cs.mul(fired, s, f"step_market{m}") for m, s in enumerate(selected))
    maker = cs.mul(fired, record.field(*FIELDS["maker"]), "maker")
    filled = cs.mul(fired, record.field(*FIELDS["filled"]), "filled")
    return StepVars(fired, taker, step_markets, maker, filled, may_end=fired)


def define_trigger_order(cs: Builder, slot: SlotVars, on: LC) -> Effect:
    book, record, a = slot.get_book(), slot.record, slot.a
    market = record.field(*FIELDS["market"])
    trigger_id = cs.mul(on, record.field(*FIELDS["trigger_id"]), "trigger_id")
    account, is_ask, _, _, _, worst_price, epoch = book.trigger
    selected = select_market(cs, slot, on, market)
    cs.assert_mul(on, book.market - market, ZERO, "book_is_record_market")
    cs.assert_mul(on, a.index - account, ZERO, "a_is_owner")
    with cs.scope("live"):
        live = is_equal(cs, epoch, a.cancel_epoch)
    fired = cs.mul(on, live, "fired")
    mark, index, band = _read_market(cs, slot, selected)
    _assert_mark_reached(cs, slot, fired, mark, book.trigger)
    low, high = compute_price_band(cs, slot, index, band)
    limit = compute_limit(cs, worst_price, is_ask, ONE, low, high)
    maker, filled = record.field(*FIELDS["maker"]), record.field(*FIELDS["filled"])
    cs.assert_mul(on - fired, maker + filled, ZERO, "dead_fills_nothing")
    # a dead trigger's slot uses the book unit for the trigger root only; a fired one's step
    # uses it (``uses_book``: the step's ``on``)
    return Effect(
        a_open_orders=-fired,
        uses_book=on - fired,
        step=_fired_step(cs, slot, fired, market, limit, selected),
        trigger=TriggerChange(on, ZERO, trigger_id),
    )


def get_trigger(state: State, op: FireTrigger) -> TriggerOrder | None:
    """The trigger order ``op`` fires or removes (None where the rules refuse it: no market,
    no trigger order at the id)."""
    if not 0 <= op.market < len(state.markets):
        return None
    return state.markets[op.market].triggers.get(op.trigger_id)


def _get_taker(state: State, op: FireTrigger) -> Taker | None:
    """The taker a live trigger order whose condition holds becomes (None otherwise)."""
    trigger = get_trigger(state, op)
    if trigger is None or not is_live(state, trigger):
        return None
    market = state.markets[op.market]
    if not trigger.is_triggered(market.data.mark_price):
        return None
    limit = compute_market_limit(market, trigger.is_ask, trigger.worst_price)
    return Taker(trigger.account, op.market, trigger.is_ask, trigger.size, limit, False, True, 0)


def get_opened(state: State, op: FireTrigger) -> tuple[int, TriggerOrder | None] | None:
    """The trigger leaf the book unit opens: the record's id, and the order there."""
    if not 0 <= op.market < len(state.markets):
        return None
    return op.trigger_id, get_trigger(state, op)


def get_book_key(state: State, op: FireTrigger) -> tuple[int, int]:
    """The key of the maker the first step meets, else the key the taker finishes at; any key
    of the market (0) for a dead trigger order, whose slot reads the book leaf only."""
    taker = _get_taker(state, op)
    if taker is None:
        return op.market, 0
    return get_step_key(state, taker)


def get_counterparty(state: State, op: FireTrigger) -> int | None:
    return get_step_counterparty(state, _get_taker(state, op))


def get_account(state: State, op: FireTrigger) -> int | None:
    trigger = get_trigger(state, op)
    return None if trigger is None else trigger.account


CIRCUIT = OpCircuit(
    trigger_order.DESCRIPTOR,
    define_trigger_order,
    get_book_key,
    get_counterparty,
    get_account,
    get_opened,
)
