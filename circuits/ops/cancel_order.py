"""Cancel order (type 18, L2 signed): the twin of ``protocol/ops/cancel_order.py``: one resting
order, or (``is_trigger``) one trigger order, of the signer's leaves its book or trigger tree.

Record: account (1..6), market (7..8), key (9..16), is_trigger (17: 0 or 1,
``is_trigger_is_bit``). Signed by A over ``[chain_id, 18, account, nonce, expiry, market, key,
is_trigger]``. The slot's book unit opens the order at ``key`` in ``market``'s book
(``market_is_record``, ``key_is_record``; for a trigger order's cancel that order leaf is read
only, and is none). A resting order exists (``order_exists``: a leaf with lots), is A's
(``order_is_signers``) and live (``order_is_live``: of A's cancel epoch; a dead one was
cancelled by a cancel-all: ``UnknownOrder``); it leaves the book (its lots go to 0, so its leaf
becomes 0 and its lanes leave every sum on the path). A trigger order: the book unit's trigger
leaf at id ``key`` (``trigger_id``) is under the market's trigger root (the unit's
``trigger_root_matches``, with the leaf's hash: so it exists), is A's (``trigger_is_signers``)
and live (``trigger_is_live``: as the rules, a dead one is ``UnknownOrder``), and becomes 0.
Either way A's open-order count falls by one and its nonce grows by one. A exists; unlike a
money-path transfer it may be the insurance fund (a takeover leaves it orders to cancel), as the
rules allow (``get_signer`` only).
"""

from __future__ import annotations

from circuits.gadgets.book_tree import OrderVars
from circuits.ops.book_unit import TriggerChange
from circuits.ops.common import Effect, OpCircuit, SignedPayload, SlotVars, assert_nonzero_if
from circuits.r1cs import ZERO, Builder, LinearCombination, weighted_sum
from protocol.markets import TriggerOrder
from protocol.ops import cancel_order
from protocol.state import State

MARKET = cancel_order.RECORD.offset("market")
KEY = cancel_order.RECORD.offset("key")
IS_TRIGGER = cancel_order.RECORD.offset("is_trigger")


def define_cancel_order(cs: Builder, slot: SlotVars, on: LinearCombination) -> Effect:
    record, book, a = slot.record, slot.get_book(), slot.a
    market, key = record.field(*MARKET), record.field(*KEY)
    cs.assert_mul(on, 1 - a.exists, ZERO, "account_exists")
    bits = record.field_bits(*IS_TRIGGER)
    cs.assert_mul(on, weighted_sum([1] * 7, bits[1:]), ZERO, "is_trigger_is_bit")
    trigger_on = cs.mul(on, bits[0], "trigger_on")
    order_on = on - trigger_on
    cs.assert_mul(on, market - book.market, ZERO, "market_is_record")
    cs.assert_mul(on, key - book.key, ZERO, "key_is_record")
    order = book.order
    assert_nonzero_if(cs, order_on, order.remaining, "order_exists")
    cs.assert_mul(order_on, order.account - a.index, ZERO, "order_is_signers")
    # live: rested in A's cancel epoch (a dead one was cancelled by A's cancel-all: UnknownOrder)
    cs.assert_mul(order_on, order.epoch - a.cancel_epoch, ZERO, "order_is_live")
    removed = cs.mul(order_on, order.remaining, "removed")
    account, *_, epoch = book.trigger
    cs.assert_mul(trigger_on, account - a.index, ZERO, "trigger_is_signers")
    cs.assert_mul(trigger_on, epoch - a.cancel_epoch, ZERO, "trigger_is_live")
    trigger_id = cs.mul(trigger_on, key, "trigger_id")
    signed = (
        cs.mul(on, market, "signed_market"),
        cs.mul(on, key, "signed_key"),
        cs.mul(on, record.field(*IS_TRIGGER), "signed_is_trigger"),
    )
    return Effect(
        a_nonce=on,
        a_open_orders=-on,
        uses_book=on,
        order=OrderVars(ZERO, -removed, ZERO, ZERO, ZERO),
        signed=SignedPayload(on, signed),
        trigger=TriggerChange(trigger_on, ZERO, trigger_id),
    )


def get_book_key(state: State, op: cancel_order.CancelOrder) -> tuple[int, int]:
    """The order's key; a trigger order's id (the book unit reads the order leaf there)."""
    return op.market, op.key


def get_trigger(
    state: State, op: cancel_order.CancelOrder
) -> tuple[int, TriggerOrder | None] | None:
    """A trigger order's id (the record's key) and the order there, if any."""
    if not op.is_trigger or not 0 <= op.market < len(state.markets):
        return None
    return op.key, state.markets[op.market].triggers.get(op.key)


CIRCUIT = OpCircuit(
    cancel_order.DESCRIPTOR, define_cancel_order, get_book_key, get_trigger=get_trigger
)
