"""Forced withdraw (type 5, L1): the twin of ``protocol/ops/forced_withdraw.py``.

Record: account (1..6), owner (7..26, the requester), requested (27..34) | withdrawn (35..42).
``withdrawn = min(requested, max(0, TAV - IMR))`` (``compute_max_withdrawable``, from the slot's
risk unit: A's positions at the block's marks) when A exists, the requester owns it and it is
neither the insurance fund nor the funding pool; otherwise 0. Never refused: the slot only proves
that the record's ``withdrawn`` is that amount, and debits it.
"""

from __future__ import annotations

from circuits.gadgets.compare import less_than, signed_less_than
from circuits.gadgets.conditional import select
from circuits.gadgets.risk import RiskWidths
from circuits.ops.common import Effect, OpCircuit, SlotVars
from circuits.r1cs import ZERO, Builder, LinearCombination
from protocol.ops import forced_withdraw

REQUESTED = forced_withdraw.RECORD.offset("requested")
WITHDRAWN = forced_withdraw.RECORD.offset("withdrawn")


def _compute_withdrawable(
    cs: Builder, slot: SlotVars, requested: LinearCombination
) -> LinearCombination:
    """``min(requested, max(0, TAV - IMR))``; ``requested < 2^amount_bits``."""
    widths = RiskWidths.of(slot.preset)
    bits = max(widths.tav, widths.margin) + 1
    free = slot.a_risk.tav - slot.a_risk.imr
    with cs.scope("withdrawable"):
        negative = signed_less_than(cs, free, ZERO, bits)
        available = cs.mul(1 - negative, free, "max_zero")
        below = less_than(cs, requested, available, bits)
        return select(cs, below, requested, available)


def define_forced_withdraw(cs: Builder, slot: SlotVars, on: LinearCombination) -> Effect:
    a = slot.a
    requested, withdrawn_field = slot.record.field(*REQUESTED), slot.record.field(*WITHDRAWN)
    owned = cs.mul(a.exists, slot.owner_matches, "owned")
    eligible = cs.mul(owned, 1 - slot.a_is_rule_only, "eligible")
    withdrawn = cs.mul(eligible, _compute_withdrawable(cs, slot, requested), "withdrawn")
    cs.assert_mul(on, withdrawn_field - withdrawn, ZERO, "withdrawn_field")
    return Effect(a_collateral=-cs.mul(on, withdrawn, "debit"))


CIRCUIT = OpCircuit(forced_withdraw.DESCRIPTOR, define_forced_withdraw)
