"""Deleverage step (type 29, sequencer): the twin of ``protocol/ops/deleverage_step.py``
(docs/PROTOCOL.md 7.4, 8.29), in a heavy slot whose A is the counterparty (the record's
account) and B the round's bankrupt account (``bankrupt_is_b``).

Record: account (1..6), market (7..8) | size (9..14). The slot opens the market's round
(``circuits/ops/adl_round.py``: ``round_matches``;
open, since its account is B's index plus 1). Proven, each a refusal of
the rules:

- A exists (``account_exists``) and is not the bankrupt account (``not_bankrupt``), B exists
  (``bankrupt_exists``);
- A is served in index order, once: ``index >= cursor`` (``after_cursor``, in
  ``account_tree_depth + 1`` bits);
- A holds ``z`` lots (``holds_position``, A's risk unit's magnitude in the market) opposite to
  ``s`` (``opposite_side``);
- the share: ``f = floor(|s|·|z| / S)`` with its remainder (``gadgets.division``'s ``div_rem``:
  ``f·S <= |s|·|z| < (f+1)·S``); in the fund's round (B the insurance fund) ``ceil`` instead,
  capped by the lots left ``|s| - moved``; one lot fewer (``keep``) where that share is A's
  whole position, its last (no position in another market) and A's collateral after it
  (``collateral - owed - lots·price``) would be negative (``liquidation.compute_round_share``);
  the record's size is the result ``q`` (``size_field``). ``q`` may be 0.

Then the round's lots move (``apply_round_move``: ``q`` lots from B to A at the round's price,
both positions' funding settled, nothing where ``q`` is 0) and the lane is rewritten with
``cursor = A + 1``, ``seen += |z|``, ``moved += q``.
"""

from __future__ import annotations

from circuits.gadgets.bits import assert_range
from circuits.gadgets.compare import less_than
from circuits.gadgets.division import div_rem
from circuits.gadgets.equality import is_equal, is_zero
from circuits.gadgets.positions import compute_sign
from circuits.gadgets.risk import RiskWidths
from circuits.ops.adl_round import compute_round_lane, get_round_account, rewrite_lane
from circuits.ops.common import (
    Effect,
    OpCircuit,
    RoundMove,
    SlotVars,
    assert_nonzero_if,
    pick,
)
from circuits.r1cs import ZERO, Builder, LinearCombination, constant, weighted_sum
from protocol.accounts import INSURANCE_FUND
from protocol.ops import deleverage_step
from protocol.ops.deleverage_step import DeleverageStep
from protocol.state import State

LC = LinearCombination
FIELDS = {f.name: deleverage_step.RECORD.offset(f.name) for f in deleverage_step.RECORD.fields}


def _compute_share(cs: Builder, slot: SlotVars, on: LC, held: LC) -> LC:
    """``floor(|s|·|z| / S)``, or in the fund's round its ceiling capped by the lots left."""
    r, bits = slot.get_round(), slot.preset.base_amount_bits
    exact = cs.mul(r.size_sign.magnitude, held, "exact")
    divisor = r.total + 1 - on  # S when on (a round's S is at least |z| > 0); 1 or more off
    floor, rem = div_rem(cs, exact, divisor, bits, bits)
    with cs.scope("fund_round"):
        is_fund = is_equal(cs, r.account, constant(INSURANCE_FUND + 1))
        ceiling = floor + 1 - is_zero(cs, rem)
        left = r.size_sign.magnitude - r.moved
        capped = cs.mul(less_than(cs, left, ceiling, bits + 1), left - ceiling, "capped")
    return floor + cs.mul(is_fund, ceiling + capped - floor, "rounded_up")


def _keeps_a_lot(cs: Builder, slot: SlotVars, share: LC, held: LC, lots: LC) -> LC:
    """1 where ``share`` closes A's last position with a debt (``compute_round_share``)."""
    r, a = slot.get_round(), slot.a_risk
    with cs.scope("keep"):
        whole = is_equal(cs, share, held)
        count = weighted_sum(
            [1] * len(a.signs), [1 - is_zero(cs, magnitude) for _, magnitude in a.signs]
        )
        last = is_equal(cs, count, constant(1))  # A holds one here (``holds_position``)
        owed = pick(cs, r.selected, a.owed, "owed")
        after = slot.a.collateral - owed - cs.mul(lots, r.price, "paid")
        debt = compute_sign(cs, after, RiskWidths.of(slot.preset).tav + 1, "after").negative
        return cs.mul(cs.mul(whole, last, "whole_last"), debt, "keeps")


def define_deleverage_step(cs: Builder, slot: SlotVars, on: LC) -> Effect:
    a, b, r, preset = slot.a, slot.b, slot.get_round(), slot.preset
    cs.assert_mul(on, 1 - a.exists, ZERO, "account_exists")
    cs.assert_mul(on, b.index + 1 - r.account, ZERO, "bankrupt_is_b")
    cs.assert_mul(on, 1 - b.exists, ZERO, "bankrupt_exists")
    assert_nonzero_if(cs, on, a.index - b.index, "not_bankrupt")
    with cs.scope("after_cursor"):
        assert_range(cs, cs.mul(on, a.index - r.cursor, "ahead"), preset.account_tree_depth + 1)
    negative = pick(cs, r.selected, [s[0] for s in slot.a_risk.signs], "held_negative")
    held = pick(cs, r.selected, [s[1] for s in slot.a_risk.signs], "held")
    assert_nonzero_if(cs, on, held, "holds_position")
    # A's side is the one s is not: a short (negative) against a long s, a long against a short
    cs.assert_mul(on, negative + r.size_sign.negative - 1, ZERO, "opposite_side")
    share = _compute_share(cs, slot, on, held)
    # the lots A takes on: s's sign (A closes its opposite position)
    sign = 1 - 2 * r.size_sign.negative
    keep = _keeps_a_lot(cs, slot, share, held, cs.mul(sign, share, "share_lots"))
    q = share - keep
    cs.assert_mul(on, slot.record.field(*FIELDS["size"]) - q, ZERO, "size_field")
    moves = cs.mul(on, 1 - is_zero(cs, q), "moves")
    lots = cs.mul(moves, cs.mul(sign, q, "signed_lots"), "lots")
    move = RoundMove(
        lots, cs.mul(moves, q, "lots_magnitude"), cs.mul(moves, r.size_sign.negative, "sold"), moves
    )
    fields = (r.account, r.size, r.total, r.price, a.index + 1, r.seen + held, r.moved + q)
    lane = compute_round_lane(cs, fields)
    return Effect(round_lanes=rewrite_lane(cs, r, on, lane, "step"), round_move=move)


def get_bankrupt(state: State, op: DeleverageStep) -> int | None:
    """B: the bankrupt account of the market's open round (None without one: B is A)."""
    return get_round_account(state, op.market)


CIRCUIT = OpCircuit(
    deleverage_step.DESCRIPTOR, define_deleverage_step, get_counterparty=get_bankrupt
)
