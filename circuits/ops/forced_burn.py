"""Forced pool-share burn (type 8, L1): the twin of ``protocol/ops/forced_burn.py``.

Record: account (1..6), owner (7..26, the requester), shares (27..34) | collateral_out (35..42),
status (43). Never refused: the slot proves either outcome. Every reason the rules have to
reject the request is a boolean, and ``status`` is 1 exactly when none holds
(``status_field``): A exists and the requester owns it (``owned``), A is neither the insurance
fund nor the funding pool (``eligible``), ``0 < shares <= A's pool_shares`` (``has_shares``),
and the fund keeps ``TAV - payout >= MMR`` (``gadgets.pool.is_margin_kept``), where ``payout =
floor(shares * max(0, value) / supply)`` as for a burn. B is the insurance fund
(``fund_is_b``) whatever the outcome. ``collateral_out = status * payout``
(``collateral_out_field``); when applied the fund pays it to A and both ``pool_shares`` fall
by ``shares``; when not, nothing changes.
"""

from __future__ import annotations

from circuits.gadgets.compare import less_than
from circuits.gadgets.equality import is_zero
from circuits.gadgets.pool import RECORD_AMOUNT_BITS, compute_payout, is_margin_kept
from circuits.ops.common import Effect, OpCircuit, SlotVars
from circuits.r1cs import ZERO, Builder, LinearCombination
from protocol.accounts import INSURANCE_FUND
from protocol.ops import forced_burn
from protocol.state import State

SHARES = forced_burn.RECORD.offset("shares")
OUT = forced_burn.RECORD.offset("collateral_out")
STATUS = forced_burn.RECORD.offset("status")


def _has_shares(cs: Builder, slot: SlotVars, shares: LinearCombination) -> LinearCombination:
    """``0 < shares <= A's pool_shares``."""
    with cs.scope("no_shares"):
        none = is_zero(cs, shares)
    with cs.scope("over_held"):
        over_held = less_than(cs, slot.a.pool_shares, shares, RECORD_AMOUNT_BITS)
    return cs.mul(1 - none, 1 - over_held, "has_shares")


def define_forced_burn(cs: Builder, slot: SlotVars, on: LinearCombination) -> Effect:
    assert slot.b_risk is not None  # a heavy slot's
    a, record = slot.a, slot.record
    shares = record.field(*SHARES)
    cs.assert_mul(on, slot.b.index - INSURANCE_FUND, ZERO, "fund_is_b")
    owned = cs.mul(a.exists, slot.owner_matches, "owned")
    eligible = cs.mul(owned, 1 - slot.a_is_rule_only, "eligible")
    payout = compute_payout(cs, slot.preset, shares, slot.b.pool_shares, slot.b_risk.tav)
    kept = is_margin_kept(cs, slot.preset, slot.b_risk, payout)
    burnable = cs.mul(_has_shares(cs, slot, shares), kept, "burnable")
    status = cs.mul(eligible, burnable, "status")
    cs.assert_mul(on, record.field(*STATUS) - status, ZERO, "status_field")
    out = cs.mul(status, payout, "out")
    cs.assert_mul(on, record.field(*OUT) - out, ZERO, "collateral_out_field")
    applied = cs.mul(on, status, "applied")
    paid, burned = cs.mul(on, out, "paid"), cs.mul(applied, shares, "burned")
    return Effect(
        a_collateral=paid, b_collateral=-paid, a_pool_shares=-burned, b_pool_shares=-burned
    )


def get_fund(state: State, op: forced_burn.ForcedBurn) -> int:
    """B: the insurance fund, which pays (or would have paid: B is the fund either way)."""
    return INSURANCE_FUND


CIRCUIT = OpCircuit(forced_burn.DESCRIPTOR, define_forced_burn, get_counterparty=get_fund)
