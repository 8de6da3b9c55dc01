"""Forced cancel-all (type 6, L1): the twin of ``protocol/ops/forced_cancel_all.py``
(docs/PROTOCOL.md 8.6). A light-slot operation, as cancel all.

Record: account (1..6), owner (7..26, the requester) | status (27). Applied exactly when A
exists, the requester owns it and its cancel epoch is not at its last value (``applies``): the
record's status is that bit (``status_field``), and then A's open orders fall to 0
(``zeroed``) and its cancel epoch grows by one (``applied``), as a cancel all's, with no nonce.
Otherwise nothing changes. Never refused: a request the rules refuse is consumed with
status 0.
"""

from __future__ import annotations

from circuits.ops.cancel_all import is_epoch_spent
from circuits.ops.common import Effect, OpCircuit, SlotVars
from circuits.r1cs import ZERO, Builder, LinearCombination
from protocol.ops import forced_cancel_all

STATUS = forced_cancel_all.RECORD.offset("status")


def define_forced_cancel_all(cs: Builder, slot: SlotVars, on: LinearCombination) -> Effect:
    a = slot.a
    owned = cs.mul(a.exists, slot.owner_matches, "owned")
    applies = cs.mul(owned, 1 - is_epoch_spent(cs, slot), "applies")
    cs.assert_mul(on, slot.record.field(*STATUS) - applies, ZERO, "status_field")
    applied = cs.mul(on, applies, "applied")
    return Effect(a_open_orders=-cs.mul(applied, a.open_orders, "zeroed"), a_cancel_epoch=applied)


CIRCUIT = OpCircuit(forced_cancel_all.DESCRIPTOR, define_forced_cancel_all)
