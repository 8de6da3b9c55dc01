"""Cancel all (type 19, L2 signed): the twin of ``protocol/ops/cancel_all.py``, lazily
(docs/PROTOCOL.md 7.1, 8.19): it touches A's leaf only, so it fits a light slot as well as a
heavy one.

Record: account (1..6) | cancelled (7..8). Signed by A over ``[chain_id, 19, account, nonce,
expiry]`` (no payload). A exists (``account_exists``; the insurance fund may, as for cancel
order); the record's count is A's open orders (``cancelled_is_open_orders``), which fall to 0
(``zeroed``); A's cancel epoch grows by one, which kills every order that recorded the old one
(the fill unit's ``maker_live``, cancel and modify's ``order_is_live``), unless it would leave
its range (``epoch_not_spent``: the rules refuse it); A's nonce grows by one.
"""

from __future__ import annotations

from circuits.gadgets.equality import is_equal
from circuits.ops.common import Effect, OpCircuit, SignedPayload, SlotVars
from circuits.r1cs import ZERO, Builder, LinearCombination, constant
from protocol.ops import cancel_all

CANCELLED = cancel_all.RECORD.offset("cancelled")


def is_epoch_spent(cs: Builder, slot: SlotVars) -> LinearCombination:
    """``protocol.orders.is_cancel_epoch_spent``: A's epoch is at its last value."""
    with cs.scope("epoch_spent"):
        last = (1 << slot.preset.account_nonce_bits) - 1
        return is_equal(cs, slot.a.cancel_epoch, constant(last))


def define_cancel_all(cs: Builder, slot: SlotVars, on: LinearCombination) -> Effect:
    a = slot.a
    cs.assert_mul(on, 1 - a.exists, ZERO, "account_exists")
    cancelled = slot.record.field(*CANCELLED)
    cs.assert_mul(on, cancelled - a.open_orders, ZERO, "cancelled_is_open_orders")
    cs.assert_mul(on, is_epoch_spent(cs, slot), ZERO, "epoch_not_spent")
    return Effect(
        a_nonce=on,
        a_open_orders=-cs.mul(on, cancelled, "zeroed"),
        a_cancel_epoch=on,
        signed=SignedPayload(on, ()),
    )


CIRCUIT = OpCircuit(cancel_all.DESCRIPTOR, define_cancel_all)
