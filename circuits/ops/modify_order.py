"""Modify order (type 20, L2 signed): the twin of ``protocol/ops/modify_order.py``.

Record: account (1..6), market (7..8), key (9..16), price (17..20), size (21..26). Signed by A
over ``[chain_id, 20, account, nonce, expiry, market, key, price, size]``. A exists (as for a
cancel, it may be the insurance fund); the slot's book unit opens the order at ``key`` in the
record's market (``market_is_record``, ``key_is_record``, the market in the tree and existing),
which exists (``order_exists``), is A's (``order_is_signers``) and live (``order_is_live``:
of A's cancel epoch); ``0 < size < 2^base_amount_bits``, ``size >= min_base_amount`` and
``0 < price < 2^price_bits``. A's nonce grows by one. Then either:

- **in place** (``in_place``: the price is the key's and the size at most the order's
  remaining): the order's remaining becomes ``size``; it keeps its key, so its priority;
- or **re-rested**: the price is inside the band (``price_in_band``); the order leaves the book
  (its leaf 0, A's open orders down by one) and the slot hands over a pending taker (no step of
  its own: ``Effect.pending``) of A's new order: its side, reduce-only flag and GTT expiry, the
  record's price as its limit and size, resting, **post-only**. The claim that must follow
  takes its one step in the slot's step unit, which lets a post-only taker only finish
  (``post_only_only_rests``): nothing crosses the price, and the order rests at the side's next
  nonce with its margin covered unless reduce-only. What the rules check before the order
  leaves (no crossing, margin, a nonce left) is so proven one slot later, on the same book.
"""

from __future__ import annotations

from circuits.gadgets.bits import assert_range
from circuits.gadgets.book_tree import OrderVars
from circuits.gadgets.compare import less_or_equal
from circuits.gadgets.equality import is_equal
from circuits.ops.common import (
    Effect,
    OpCircuit,
    SignedPayload,
    SlotVars,
    TakerOrderVars,
    assert_nonzero_if,
    pick,
    select_market,
)
from circuits.ops.create_order import (
    DATA_INDEX,
    PARAM_BAND,
    PARAM_MIN_SIZE,
    assert_price_in_band,
    compute_price_band,
)
from circuits.r1cs import ZERO, Builder, LinearCombination
from protocol.ops import modify_order

LC = LinearCombination
FIELDS = {f.name: modify_order.RECORD.offset(f.name) for f in modify_order.RECORD.fields}


def _check_fields(cs: Builder, slot: SlotVars, on: LC, selected: list[LC]) -> LC:
    """The size's and the price's ranges and the market's minimum size; returns the size when
    ``on`` (0 otherwise: in range either way)."""
    preset, record = slot.preset, slot.record
    size, price = record.field(*FIELDS["size"]), record.field(*FIELDS["price"])
    size_on = cs.mul(on, size, "size")
    with cs.scope("size_in_range"):
        assert_range(cs, size_on, preset.base_amount_bits)
    minimum = pick(cs, selected, [m.params[PARAM_MIN_SIZE] for m in slot.markets], "min_size")
    with cs.scope("size_at_least_min"):  # the minimum is positive, so the size is too
        assert_range(cs, cs.mul(on, size - minimum, "excess"), preset.base_amount_bits)
    assert_nonzero_if(cs, on, price, "price_positive")
    with cs.scope("price_in_range"):
        assert_range(cs, cs.mul(on, price, "price"), preset.price_bits)
    return size_on


def _check_band(cs: Builder, slot: SlotVars, on: LC, selected: list[LC], price: LC) -> None:
    """``compute_band``: the new price inside the band when the order is re-rested."""
    index = pick(cs, selected, [m.data[DATA_INDEX] for m in slot.markets], "index")
    band = pick(cs, selected, [m.params[PARAM_BAND] for m in slot.markets], "band")
    assert_price_in_band(cs, slot, on, price, compute_price_band(cs, slot, index, band))


def define_modify_order(cs: Builder, slot: SlotVars, on: LC) -> Effect:
    record, book, a = slot.record, slot.get_book(), slot.a
    market, key = record.field(*FIELDS["market"]), record.field(*FIELDS["key"])
    price, size = record.field(*FIELDS["price"]), record.field(*FIELDS["size"])
    cs.assert_mul(on, 1 - a.exists, ZERO, "account_exists")
    selected = select_market(cs, slot, on, market)
    cs.assert_mul(on, market - book.market, ZERO, "market_is_record")
    cs.assert_mul(on, key - book.key, ZERO, "key_is_record")
    order = book.order
    assert_nonzero_if(cs, on, order.remaining, "order_exists")
    cs.assert_mul(on, order.account - a.index, ZERO, "order_is_signers")
    # live: rested in A's cancel epoch (a dead one was cancelled by A's cancel-all: UnknownOrder)
    cs.assert_mul(on, order.epoch - slot.a.cancel_epoch, ZERO, "order_is_live")
    size_on = _check_fields(cs, slot, on, selected)
    with cs.scope("in_place"):
        same_price = is_equal(cs, price, book.path.price)
        smaller = less_or_equal(cs, size_on, order.remaining, slot.preset.base_amount_bits)
        in_place = cs.mul(cs.mul(on, same_price, "same_price"), smaller, "on")
    moves = on - in_place  # the order leaves the book, and rests again in the claim
    _check_band(cs, slot, moves, selected, price)
    cut = cs.mul(in_place, size - order.remaining, "cut")
    removed = cs.mul(moves, order.remaining, "removed")
    kept = {
        name: cs.mul(moves, v, f"taker_{name}")
        for name, v in (
            ("account", a.index),
            ("market", market),
            ("is_ask", order.is_ask),
            ("limit", price),
            ("remaining", size),
            ("reduce_only", order.reduce_only),
            ("expiry", order.expiry),
        )
    }
    taker = TakerOrderVars(moves, rests=moves, post_only=moves, **kept)
    # ``ModifyOrder.payload``
    signed = tuple(
        cs.mul(on, record.field(*FIELDS[n]), f"signed_{n}")
        for n in ("market", "key", "price", "size")
    )
    return Effect(
        a_nonce=on,
        a_open_orders=-moves,
        uses_book=on,
        order=OrderVars(ZERO, cut - removed, ZERO, ZERO, ZERO),
        signed=SignedPayload(on, signed),
        pending=taker,
    )


def get_book_key(state: object, op: modify_order.ModifyOrder) -> tuple[int, int]:
    return op.market, op.key


CIRCUIT = OpCircuit(modify_order.DESCRIPTOR, define_modify_order, get_book_key)
