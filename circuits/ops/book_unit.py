"""A slot's order-book unit (docs/PROTOCOL.md 8.C): one order leaf of one market's book,
read and rewritten through one path, and the market's book leaf above it.

Before the operations run, the unit opens what the slot's order-book operation reads: the
market ``m`` and key ``k`` (bound to the record by the operation under its selector), the
order leaf at ``k`` before the slot (its fields, zero ``remaining`` for no order), the path's
sibling nodes with their lanes (``gadgets.book_tree``), and market ``m``'s book leaf fields
``(order_root, trigger_root, ask_nonce, bid_nonce)`` with their Merkle siblings in the book
tree. The operations report what they change as amounts added to the order's fields and to the
side counters (``Effect.order`` and ``Effect.book_nonces``); ``Effect.uses_book`` is 1 when the
slot's operation is one of them. The unit also carries one trigger leaf of the market's
trigger tree (its fields ``TRIGGER_FIELDS`` and its path's siblings, 6.5), which one path
serves for every operation on trigger orders: placing one writes it (a create order of a
trigger kind: ``circuits/ops/create_order.py``), and cancelling (``cancel_order.py``) or
firing one (``trigger_order.py``) removes it. Such an operation reports, as
``Effect.trigger`` (a :class:`TriggerChange`), the leaf's id, that it opens the leaf (``on``:
the tree's root through the path, with the leaf there before, must be the market's trigger
root, ``trigger_root_matches``) and whether it writes it (``writes``: the leaf before is
empty, after it is the hash of the fields) or removes it (the leaf before is the hash of the
fields, so the trigger order exists, after it is empty); the other operations leave that root
as it is (one sponge and one two-root path for all three). Then the unit hashes the new
order leaf, both roots of the order tree through the same path, the book leaf before and
after, and the book root before and after; when the book is used, the roots before must be
the market's order root (``order_root_matches``) and the block's running book root
(``book_root_matches``), and the running book root becomes the new one. An unused unit leaves
the running root as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from circuits.gadgets.bits import assert_range
from circuits.gadgets.book_tree import (
    SIBLING_ROLES,
    BookNodeVars,
    BookPathVars,
    OrderVars,
    alloc_path,
    alloc_siblings,
    compute_book_root,
    compute_order_node,
)
from circuits.gadgets.poseidon import hash4, sponge
from circuits.gadgets.smt import update_leaf
from circuits.r1cs import ZERO, Builder, LinearCombination
from protocol.book import Order
from protocol.commitment import DOMAIN_TRIGGER, compute_quote_shift
from protocol.markets import TriggerOrder
from protocol.params import Preset

LC = LinearCombination
ORDER_FIELDS = ("account", "remaining", "is_ask", "reduce_only", "expiry")
# what the book unit reads of an order: its leaf's fields with the epoch (6.5); a read-only
# path (the market slot's) reads ``ORDER_FIELDS`` of epoch-0 orders
BOOK_ORDER_FIELDS = (*ORDER_FIELDS, "epoch")
BOOK_FIELDS = ("order_root", "trigger_root", "ask_nonce", "bid_nonce")
# a trigger leaf's fields, in the order its sponge takes them (6.5)
TRIGGER_FIELDS = (
    *("account", "is_ask", "is_stop_loss", "size"),
    *("trigger_price", "worst_price", "epoch"),
)


@dataclass(frozen=True)
class BookWitness:
    """What a slot's book unit reads before the slot (``sequencer.witness.capture_book``)."""

    market: int
    key: int
    order: tuple[int, ...]  # BOOK_ORDER_FIELDS; all 0 where no order rests
    # (hash, ask lane, bid lane), 3 a level (partner, o0, o1: protocol.book_tree), leaf first
    order_siblings: tuple[tuple[int, int, int], ...]
    book_leaf: tuple[int, int, int, int]  # BOOK_FIELDS of the market's book leaf
    book_siblings: tuple[int, ...]  # the book leaf's Merkle siblings in the book tree
    # the trigger leaf an operation on a trigger order opens (TRIGGER_FIELDS: the order's, the
    # one it writes when it places one) and its siblings in the market's trigger tree, leaf
    # level first; () for zeros (an operation that opens none)
    trigger: tuple[int, ...] = ()
    trigger_siblings: tuple[int, ...] = ()

    @classmethod
    def unused(cls, preset: Preset) -> BookWitness:
        """Zeros: the unit of a slot whose operation does not touch a book."""
        siblings = ((0, 0, 0),) * (len(SIBLING_ROLES) * preset.order_tree_levels)
        return cls(
            0, 0, (0,) * len(BOOK_ORDER_FIELDS), siblings, (0,) * 4, (0,) * preset.market_tree_depth
        )


@dataclass(frozen=True)
class BookUnitVars:
    """The unit as the operations read it."""

    market: LC
    key: LC
    path: BookPathVars
    order: OrderVars  # the order at ``key`` before the slot
    old_leaf: BookNodeVars
    old_root: BookNodeVars  # the order tree's root node through the path, with its lanes
    ask_nonce: LC
    bid_nonce: LC
    book_leaf: tuple[LC, ...]
    book_siblings: list[LC]
    trigger: tuple[LC, ...] = ()  # TRIGGER_FIELDS of the trigger leaf the unit carries
    trigger_siblings: tuple[LC, ...] = ()  # its siblings in the market's trigger tree


def alloc_book_unit(
    cs: Builder, preset: Preset, w: BookWitness | None, with_trigger: bool
) -> BookUnitVars:
    """The unit's wires; the trigger leaf's only ``with_trigger`` (a slot kind that fires
    trigger orders: a claim slot has no use for them)."""
    with cs.scope("book"):
        market = cs.private("market", None if w is None else w.market)
        key = cs.private("key", None if w is None else w.key)
        order = OrderVars(
            *(
                cs.private(f"order_{name}", None if w is None else w.order[i])
                for i, name in enumerate(BOOK_ORDER_FIELDS)
            )
        )
        with cs.scope("order_epoch"):  # the flags split one way: the epoch below 2^nonce bits
            assert_range(cs, order.epoch, preset.account_nonce_bits)
        siblings = alloc_siblings(
            cs, preset.order_tree_levels, None if w is None else w.order_siblings
        )
        book_leaf = tuple(
            cs.private(name, None if w is None else w.book_leaf[i])
            for i, name in enumerate(BOOK_FIELDS)
        )
        book_siblings = [
            cs.private(f"book_sibling{i}", None if w is None else w.book_siblings[i])
            for i in range(preset.market_tree_depth)
        ]
        trigger_values = trigger_sibling_values = None
        trigger_count = len(TRIGGER_FIELDS) if with_trigger else 0
        sibling_count = preset.order_nonce_bits if with_trigger else 0
        if w is not None:
            trigger_values = w.trigger or (0,) * len(TRIGGER_FIELDS)
            trigger_sibling_values = w.trigger_siblings or (0,) * preset.order_nonce_bits
        trigger = tuple(
            cs.private(f"trigger_{name}", None if trigger_values is None else trigger_values[i])
            for i, name in enumerate(TRIGGER_FIELDS[:trigger_count])
        )
        trigger_siblings = tuple(
            cs.private(
                f"trigger_sibling{i}",
                None if trigger_sibling_values is None else trigger_sibling_values[i],
            )
            for i in range(sibling_count)
        )
        path = alloc_path(cs, key, siblings, preset.order_nonce_bits)
        old_leaf = compute_order_node(cs, order, path.price, compute_quote_shift(preset))
        with cs.scope("old"):
            old_root = compute_book_root(cs, old_leaf, path)
    return BookUnitVars(
        *(market, key, path, order, old_leaf, old_root),
        *(book_leaf[2], book_leaf[3], book_leaf, book_siblings),
        trigger,
        trigger_siblings,
    )


def get_order_fields(order: Order | None) -> tuple[int, ...]:
    """``BOOK_ORDER_FIELDS`` of a resting order (all 0 for none)."""
    if order is None:
        return (0,) * len(BOOK_ORDER_FIELDS)
    flags = (int(order.is_ask), int(order.reduce_only))
    return (order.account, order.remaining, *flags, order.expiry, order.epoch)


def get_trigger_fields(trigger: TriggerOrder | None) -> tuple[int, ...]:
    """``TRIGGER_FIELDS`` of a trigger order (all 0 for none)."""
    if trigger is None:
        return (0,) * len(TRIGGER_FIELDS)
    flags = (int(trigger.is_ask), int(trigger.is_stop_loss))
    prices = (trigger.trigger_price, trigger.worst_price)
    return (trigger.account, *flags, trigger.size, *prices, trigger.epoch)


def add_orders(x: OrderVars | None, y: OrderVars | None) -> OrderVars | None:
    if x is None or y is None:
        return x or y
    return OrderVars(
        x.account + y.account,
        x.remaining + y.remaining,
        x.is_ask + y.is_ask,
        x.reduce_only + y.reduce_only,
        x.expiry + y.expiry,
        x.epoch + y.epoch,
    )


@dataclass(frozen=True)
class TriggerChange:
    """What the slot's operation does to the unit's trigger leaf (all 0 for nothing): opens
    it (``on``), at ``trigger_id``, and writes it (``writes``; else removes it)."""

    on: LC = ZERO
    writes: LC = ZERO
    trigger_id: LC = ZERO

    def plus(self, other: TriggerChange) -> TriggerChange:
        return TriggerChange(
            self.on + other.on, self.writes + other.writes, self.trigger_id + other.trigger_id
        )


NO_TRIGGER = TriggerChange()


def _update_trigger_root(
    cs: Builder, unit: BookUnitVars, trigger_root: LC, change: TriggerChange
) -> LC:
    """The change of the market's trigger root: the leaf of the unit's fields written where
    it was empty, or removed (see the module docstring)."""
    if not unit.trigger:  # a slot kind without trigger orders (the claim slot)
        return ZERO
    with cs.scope("trigger_leaf"):
        leaf = sponge(cs, list(unit.trigger), DOMAIN_TRIGGER)
        written = cs.mul(change.writes, leaf, "written")
        old_root, new_root = update_leaf(
            cs, change.trigger_id, unit.trigger_siblings, leaf - written, written
        )
    cs.assert_mul(change.on, old_root - trigger_root, ZERO, "trigger_root_matches")
    return cs.mul(change.on, new_root - old_root, "trigger_change")


def finish_book_unit(
    cs: Builder,
    preset: Preset,
    unit: BookUnitVars,
    uses_book: LC,
    change: OrderVars | None,
    nonce_changes: tuple[LC, LC],
    book_root: LC,
    trigger: TriggerChange = NO_TRIGGER,
) -> LC:
    """The running book root after the slot (see the module docstring)."""
    with cs.scope("book"):
        new = add_orders(unit.order, change) or unit.order
        with cs.scope("new"):
            new_leaf = compute_order_node(cs, new, unit.path.price, compute_quote_shift(preset))
            new_root = compute_book_root(cs, new_leaf, unit.path)
        order_root, trigger_root, ask_nonce, bid_nonce = unit.book_leaf
        cs.assert_mul(uses_book, unit.old_root.hash - order_root, ZERO, "order_root_matches")
        trigger_change = _update_trigger_root(cs, unit, trigger_root, trigger)
        with cs.scope("leaf_old"):
            old_book_leaf = hash4(cs, order_root, trigger_root, ask_nonce, bid_nonce)
        with cs.scope("leaf_new"):
            new_book_leaf = hash4(
                cs,
                new_root.hash,
                trigger_root + trigger_change,
                ask_nonce + nonce_changes[0],
                bid_nonce + nonce_changes[1],
            )
        old_book_root, new_book_root = update_leaf(
            cs, unit.market, unit.book_siblings, old_book_leaf, new_book_leaf
        )
        cs.assert_mul(uses_book, old_book_root - book_root, ZERO, "book_root_matches")
        return book_root + cs.mul(uses_book, new_book_root - book_root, "running_root")
