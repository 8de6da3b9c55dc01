"""Claim (type 17, sequencer): the twin of ``protocol/ops/claim.py``: the next matching step of
the taker a create order (or an earlier claim) left pending in the block's running values
(``BlockVars.taker``, PROTOCOL 8.C).

Record: account (1..6), market (7..8), maker (9..14) and filled (15..20). Unsigned. Proven:

- a taker is pending (``taker_pending``), A is its account (``a_is_taker``) and the record's
  market is its market (``market_is_takers``);
- the step, as the slot's step unit proves it (``circuits/ops/step_unit.py``): the pending
  taker against the record's maker and filled size, filling the best maker, cancelling it for
  one of the rules' reasons, or finishing the taker (its remainder rested or cancelled,
  nothing crossing it any more), or ending the taker on its own failure (a claim's step
  only: ``StepVars.may_end``).

Every other operation of a heavy slot, and a claim slot's noop, requires that no taker is
pending (``slot.py``, ``only_claims_while_pending``), and none is left after the heavy and
claim slots (``heavy_end/no_pending_taker``), as the rules do. A claim is proven in a heavy
slot or in a claim slot (``slot.CLAIM``: the same units, without the signature unit).
"""

from __future__ import annotations

from circuits.gadgets.equality import is_equal
from circuits.ops.common import Effect, OpCircuit, SlotVars, StepVars
from circuits.ops.step_unit import get_step_counterparty, get_step_key
from circuits.r1cs import ZERO, Builder, LinearCombination, constant
from protocol.ops import claim
from protocol.ops.claim import Claim
from protocol.state import State, Taker

LC = LinearCombination
FIELDS = {f.name: claim.RECORD.offset(f.name) for f in claim.RECORD.fields}


def define_claim(cs: Builder, slot: SlotVars, on: LC) -> Effect:
    # the pending taker's fields are all 0 unless a claim is on (``only_claims_while_pending``)
    taker, record = slot.taker, slot.record
    cs.assert_mul(on, 1 - taker.active, ZERO, "taker_pending")
    cs.assert_mul(on, slot.a.index - taker.account, ZERO, "a_is_taker")
    market = record.field(*FIELDS["market"])
    cs.assert_mul(on, market - taker.market, ZERO, "market_is_takers")
    with cs.scope("market"):
        selected = tuple(
            cs.mul(on, is_equal(cs, market, constant(m)), f"selected{m}")
            for m in range(len(slot.markets))
        )
    maker = cs.mul(on, record.field(*FIELDS["maker"]), "maker")
    filled = cs.mul(on, record.field(*FIELDS["filled"]), "filled")
    return Effect(step=StepVars(on, taker, selected, maker, filled, may_end=on))


def _get_taker(state: State, op: Claim) -> Taker | None:
    taker = state.pending
    return taker if taker is not None and taker.account == op.account else None


def get_book_key(state: State, op: Claim) -> tuple[int, int] | None:
    """The key of the maker the step fills, else the key the remainder rests at (or, cancelled,
    any key at the taker's limit)."""
    return get_step_key(state, _get_taker(state, op))


def get_counterparty(state: State, op: Claim) -> int | None:
    return get_step_counterparty(state, _get_taker(state, op))


CIRCUIT = OpCircuit(claim.DESCRIPTOR, define_claim, get_book_key, get_counterparty)
