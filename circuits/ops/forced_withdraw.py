"""Forced withdraw (type 5, L1): the twin of ``protocol/ops/forced_withdraw.py``.

Record: account (1..6), owner (7..26, the requester), requested (27..34) | withdrawn (35..42).
``withdrawn = min(requested, max(0, collateral))`` when A exists, the requester owns it and it is
neither the insurance fund nor the funding pool (then A must have no positions: without them
``TAV - IMR`` is the collateral); otherwise 0. Never refused: the slot only proves that the
record's ``withdrawn`` is that amount, and debits it.
"""

from __future__ import annotations

from circuits.gadgets.compare import less_than, signed_less_than
from circuits.gadgets.conditional import select
from circuits.ops.common import Effect, OpCircuit, SlotVars, empty_positions_root
from circuits.r1cs import ZERO, Builder, LinearCombination
from protocol.ops import forced_withdraw

REQUESTED = forced_withdraw.RECORD.offset("requested")
WITHDRAWN = forced_withdraw.RECORD.offset("withdrawn")


def _compute_withdrawable(
    cs: Builder, slot: SlotVars, requested: LinearCombination
) -> LinearCombination:
    """``min(requested, max(0, collateral))``; both are below ``2^collateral_bits``."""
    bits, collateral = slot.preset.collateral_bits, slot.a.collateral
    with cs.scope("withdrawable"):
        negative = signed_less_than(cs, collateral, ZERO, bits)
        available = cs.mul(1 - negative, collateral, "max_zero")
        below = less_than(cs, requested, available, bits)
        return select(cs, below, requested, available)


def define_forced_withdraw(cs: Builder, slot: SlotVars, on: LinearCombination) -> Effect:
    a = slot.a
    requested, withdrawn_field = slot.record.field(*REQUESTED), slot.record.field(*WITHDRAWN)
    owned = cs.mul(a.exists, slot.owner_matches, "owned")
    eligible = cs.mul(owned, 1 - slot.a_is_rule_only, "eligible")
    withdrawn = cs.mul(eligible, _compute_withdrawable(cs, slot, requested), "withdrawn")
    cs.assert_mul(on, withdrawn_field - withdrawn, ZERO, "withdrawn_field")
    valued = cs.mul(on, eligible, "valued")
    empty = empty_positions_root(slot.preset)
    cs.assert_mul(valued, a.positions_root - empty, ZERO, "no_positions")
    return Effect(a_collateral=-cs.mul(on, withdrawn, "debit"))


CIRCUIT = OpCircuit(forced_withdraw.DESCRIPTOR, define_forced_withdraw)
