"""Forced order (type 7, L1): the twin of ``protocol/ops/forced_order.py``.

Record: account (1..6), owner (7..26, the requester), market (27..28), flags (29: bit 0 sell,
bit 1 market), price (30..33), size (34..39) | status (40), maker (41..46), filled (47..52).
Unsigned: no L2 key, no nonce (A's is unchanged). A priority request must always be
consumable, so the slot proves either status, and every refusal is a boolean computed here,
never asserted (``get_refusal``'s checks, decided before matching):

- ``owned``: A exists and the record's owner is A's; ``not_reserved``: A is neither the
  insurance fund, the funding pool nor the fee account;
- ``known_flags``: flag bits 2..7 are 0;
- ``listed``: the market is in the tree and exists (one-hot ``listed{m}``, all 0 otherwise);
- ``deleveraging``: the market has no open deleverage round (its ``adl_round`` lane is 0:
  ``MarketDeleveraging``, so that the L1 queue never stalls on a frozen market);
- ``size_ok``: ``min_base_amount <= size < 2^base_amount_bits``;
- ``price_ok``: ``0 < price < 2^price_bits``; ``band_ok``: a market order, or a limit price
  inside the band ``[max(1, ceil(index (1 - band))), floor(index (1 + band))]``.

``valid`` is their product; the record's status is ``valid`` (``status_is_valid``). A refused
order fills nothing (``refused_fills_nothing``: maker and filled are 0) and hands no step, so
the slot changes nothing. A placed one hands the slot's step unit the taker ``(A, market, side,
L, size, rests unless market, not reduce-only, no expiry)``, L the price or a market order's
worst price clamped into the band, against the record's maker and filled, with ``may_end``: as
in a claim, the step may end the taker on its own failure (its risk rule or open interest after
the fill tried, a remainder without room, margin or a nonce), so nothing the first step finds
can refuse the request. The market's parameters are taken within their widths, as create
order's circuit takes them (``min_base_amount < 2^64``, ``price_band <= 10^6``).
"""

from __future__ import annotations

from circuits.gadgets.compare import less_than
from circuits.gadgets.equality import is_equal, is_zero
from circuits.ops.common import (
    Effect,
    OpCircuit,
    SlotVars,
    StepVars,
    TakerOrderVars,
    is_deleveraging,
    pick,
)
from circuits.ops.create_order import (
    DATA_INDEX,
    PARAM_BAND,
    PARAM_MIN_SIZE,
    compute_limit,
    compute_price_band,
)
from circuits.ops.step_unit import PRICE_FIELD_BITS, get_step_counterparty, get_step_key
from circuits.r1cs import ZERO, Builder, LinearCombination, constant, weighted_sum
from protocol.accounts import FEE_ACCOUNT
from protocol.ops import forced_order
from protocol.ops.forced_order import ForcedOrder, compute_taker, get_refusal
from protocol.state import State, Taker

LC = LinearCombination
FIELDS = {f.name: forced_order.RECORD.offset(f.name) for f in forced_order.RECORD.fields}
MIN_SIZE_BITS = 64  # min_base_amount is compared in this many bits


def _all_zero(cs: Builder, bits: list[LC], name: str) -> LC:
    """1 when every one of ``bits`` (boolean) is 0; the constant 1 for none."""
    if not bits:
        return constant(1)
    with cs.scope(name):
        return is_zero(cs, weighted_sum([1] * len(bits), bits))


def _is_owned(cs: Builder, slot: SlotVars) -> LC:
    """A exists, the requester owns it, and it may trade (not reserved)."""
    owned = cs.mul(slot.a.exists, slot.owner_matches, "owned")
    with cs.scope("fee_account"):
        fee = is_equal(cs, slot.a.index, constant(FEE_ACCOUNT))
    not_reserved = cs.mul(1 - slot.a_is_rule_only, 1 - fee, "not_reserved")
    return cs.mul(owned, not_reserved, "owned_unreserved")


def _list_market(cs: Builder, slot: SlotVars, on: LC, market: LC) -> list[LC]:
    """``listed{m}``: 1 for the record's market when the forced order is on and the market is
    in the tree and exists; all 0 otherwise (so a slot that holds another operation reads no
    market's band or minimum, whatever its record's bytes)."""
    listed = []
    for m, market_vars in enumerate(slot.markets):
        with cs.scope(f"is_market{m}"):
            is_m = is_equal(cs, market, constant(m))
        on_m = cs.mul(on, is_m, f"on_market{m}")
        listed.append(cs.mul(on_m, market_vars.exists, f"listed{m}"))
    return listed


def _is_size_ok(cs: Builder, slot: SlotVars, size: LC, min_size: LC) -> LC:
    """``min_base_amount <= size < 2^base_amount_bits``."""
    size_bits = slot.record.field_bits(*FIELDS["size"])
    fits = _all_zero(cs, size_bits[slot.preset.base_amount_bits :], "size_fits")
    with cs.scope("below_min"):
        below = less_than(cs, size, min_size, MIN_SIZE_BITS)
    return cs.mul(fits, 1 - below, "size_ok")


def _is_price_ok(cs: Builder, slot: SlotVars, price: LC, price_bits: list[LC]) -> LC:
    """``0 < price < 2^price_bits``."""
    fits = _all_zero(cs, price_bits[slot.preset.price_bits :], "price_fits")
    with cs.scope("price_zero"):
        zero = is_zero(cs, price)
    return cs.mul(fits, 1 - zero, "price_ok")


def _is_in_band(cs: Builder, price: LC, low: LC, high: LC) -> LC:
    """``low <= price <= high`` (each below ``2^(PRICE_FIELD_BITS + 1)``)."""
    n = PRICE_FIELD_BITS + 1
    with cs.scope("below_band"):
        below = less_than(cs, price, low, n)
    with cs.scope("above_band"):
        above = less_than(cs, high, price, n)
    return cs.mul(1 - below, 1 - above, "in_band")


def define_forced_order(cs: Builder, slot: SlotVars, on: LC) -> Effect:
    record = slot.record
    market, price = record.field(*FIELDS["market"]), record.field(*FIELDS["price"])
    size = record.field(*FIELDS["size"])
    flags = record.field_bits(*FIELDS["flags"])
    is_ask, is_market = flags[0], flags[1]
    with cs.scope("valid"):
        owned = _is_owned(cs, slot)
        known_flags = _all_zero(cs, flags[2:], "known_flags")
        listed = _list_market(cs, slot, on, market)
        params = [m.params for m in slot.markets]
        min_size = pick(cs, listed, [p[PARAM_MIN_SIZE] for p in params], "min_size")
        band = pick(cs, listed, [p[PARAM_BAND] for p in params], "band")
        index = pick(cs, listed, [m.data[DATA_INDEX] for m in slot.markets], "index")
        size_ok = _is_size_ok(cs, slot, size, min_size)
        price_ok = _is_price_ok(cs, slot, price, record.field_bits(*FIELDS["price"]))
        low, high = compute_price_band(cs, slot, index, band)
        in_band = _is_in_band(cs, price, low, high)
        band_ok = is_market + cs.mul(1 - is_market, in_band, "band_ok")
        frozen = is_deleveraging(cs, slot.markets, listed, "deleveraging")
        checks = [known_flags, weighted_sum([1] * len(listed), listed), 1 - frozen]
        checks += [size_ok, price_ok, band_ok]
        valid = owned
        for i, check in enumerate(checks):
            valid = cs.mul(valid, check, f"and{i}")
    status = record.field(*FIELDS["status"])
    cs.assert_mul(on, status - valid, ZERO, "status_is_valid")
    placed = cs.mul(on, valid, "placed")
    maker, filled = record.field(*FIELDS["maker"]), record.field(*FIELDS["filled"])
    cs.assert_mul(on - placed, maker + filled, ZERO, "refused_fills_nothing")
    limit = compute_limit(cs, price, is_ask, is_market, low, high)
    taken = {
        name: cs.mul(placed, v, f"taker_{name}")
        for name, v in (
            ("account", slot.a.index),
            ("market", market),
            ("is_ask", is_ask),
            ("limit", limit),
            ("remaining", size),
            ("rests", 1 - is_market),
        )
    }
    taker = TakerOrderVars(placed, reduce_only=ZERO, expiry=ZERO, **taken)
    selected = tuple(cs.mul(placed, s, f"selected{m}") for m, s in enumerate(listed))
    maker_on, filled_on = cs.mul(placed, maker, "maker"), cs.mul(placed, filled, "filled")
    return Effect(step=StepVars(placed, taker, selected, maker_on, filled_on, may_end=placed))


def _get_taker(state: State, op: ForcedOrder) -> Taker | None:
    """The taker the order starts, or None when the rules refuse it (status 0)."""
    if get_refusal(state, op) is not None:
        return None
    return compute_taker(state.markets[op.market], op)


def get_book_key(state: State, op: ForcedOrder) -> tuple[int, int]:
    """The key of the maker the first step meets, else the key the order rests at (or,
    cancelled, any key at its limit); (0, 0) for a refused order, which reads no book."""
    return get_step_key(state, _get_taker(state, op))


def get_counterparty(state: State, op: ForcedOrder) -> int | None:
    return get_step_counterparty(state, _get_taker(state, op))


CIRCUIT = OpCircuit(forced_order.DESCRIPTOR, define_forced_order, get_book_key, get_counterparty)
