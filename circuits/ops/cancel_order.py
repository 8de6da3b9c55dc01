"""Cancel order (type 18, L2 signed): the twin of ``protocol/ops/cancel_order.py`` for a
resting order (a trigger order's cancel is not proven yet: ``is_trigger = 0``,
``not_trigger``).

Record: account (1..6), market (7..8), key (9..16), is_trigger (17). Signed by A over
``[chain_id, 18, account, nonce, expiry, market, key, is_trigger]``. The slot's book unit
opens the order at ``key`` in ``market``'s book (``market_is_record``, ``key_is_record``); it
exists (``order_exists``: a leaf with lots), is A's (``order_is_signers``) and live
(``order_is_live``: of A's cancel epoch; a dead one was cancelled by a cancel-all); it leaves
the book (its lots go to 0, so its leaf becomes 0 and its lanes leave every sum on the path), A's
open-order count falls by one and its nonce grows by one. A exists; unlike a money-path
transfer it may be the insurance fund (a takeover leaves it orders to cancel), as the rules
allow (``get_signer`` only).
"""

from __future__ import annotations

from circuits.gadgets.book_tree import OrderVars
from circuits.ops.common import Effect, OpCircuit, SignedPayload, SlotVars, assert_nonzero_if
from circuits.r1cs import ZERO, Builder, LinearCombination
from protocol.ops import cancel_order

MARKET = cancel_order.RECORD.offset("market")
KEY = cancel_order.RECORD.offset("key")
IS_TRIGGER = cancel_order.RECORD.offset("is_trigger")


def define_cancel_order(cs: Builder, slot: SlotVars, on: LinearCombination) -> Effect:
    record, book = slot.record, slot.get_book()
    market, key = record.field(*MARKET), record.field(*KEY)
    cs.assert_mul(on, 1 - slot.a.exists, ZERO, "account_exists")
    trigger = cs.mul(on, record.field(*IS_TRIGGER), "signed_is_trigger")
    cs.assert_equal(trigger, ZERO, "not_trigger")
    cs.assert_mul(on, market - book.market, ZERO, "market_is_record")
    cs.assert_mul(on, key - book.key, ZERO, "key_is_record")
    order = book.order
    assert_nonzero_if(cs, on, order.remaining, "order_exists")
    cs.assert_mul(on, order.account - slot.a.index, ZERO, "order_is_signers")
    # live: rested in A's cancel epoch (a dead one was cancelled by A's cancel-all: UnknownOrder)
    cs.assert_mul(on, order.epoch - slot.a.cancel_epoch, ZERO, "order_is_live")
    removed = cs.mul(on, order.remaining, "removed")
    signed = (cs.mul(on, market, "signed_market"), cs.mul(on, key, "signed_key"))
    return Effect(
        a_nonce=on,
        a_open_orders=-on,
        uses_book=on,
        order=OrderVars(ZERO, -removed, ZERO, ZERO, ZERO),
        signed=SignedPayload(on, (*signed, trigger)),
    )


def get_book_key(state: object, op: cancel_order.CancelOrder) -> tuple[int, int] | None:
    return None if op.is_trigger else (op.market, op.key)


CIRCUIT = OpCircuit(cancel_order.DESCRIPTOR, define_cancel_order, get_book_key)
