"""Burn pool shares (type 28, L2 signed): the twin of ``protocol/ops/burn_shares.py``.

Record: account (1..6), shares (7..14) | paid (15..22). Signed by A over ``[chain_id, 28,
account, nonce, expiry, shares]``; A exists and is not the insurance fund or the funding pool;
``0 < shares`` (``shares_positive``) ``<= A's pool_shares`` (``shares_held``); B is the insurance
fund (``fund_is_b``). ``paid = floor(shares * max(0, value) / supply)`` with the pool's value
the fund's TAV at the block's marks (``gadgets.pool.compute_payout``; ``paid_field``), and the
fund keeps ``TAV - paid >= MMR`` (``fund_keeps_margin``). The fund pays ``paid`` to A, both
``pool_shares`` fall by ``shares``, A's nonce grows by one.
"""

from __future__ import annotations

from circuits.gadgets.compare import less_than
from circuits.gadgets.pool import RECORD_AMOUNT_BITS, compute_payout, is_margin_kept
from circuits.ops.common import (
    Effect,
    OpCircuit,
    SignedPayload,
    SlotVars,
    assert_nonzero_if,
    define_signer_checks,
)
from circuits.r1cs import ZERO, Builder, LinearCombination
from protocol.accounts import INSURANCE_FUND
from protocol.ops import burn_shares
from protocol.state import State

SHARES = burn_shares.RECORD.offset("shares")
PAID = burn_shares.RECORD.offset("paid")


def define_burn_shares(cs: Builder, slot: SlotVars, on: LinearCombination) -> Effect:
    assert slot.b_risk is not None  # a heavy slot's
    shares, paid_field = slot.record.field(*SHARES), slot.record.field(*PAID)
    define_signer_checks(cs, slot, on)
    assert_nonzero_if(cs, on, shares, "shares_positive")
    with cs.scope("over_held"):
        over_held = less_than(cs, slot.a.pool_shares, shares, RECORD_AMOUNT_BITS)
    cs.assert_mul(on, over_held, ZERO, "shares_held")
    cs.assert_mul(on, slot.b.index - INSURANCE_FUND, ZERO, "fund_is_b")
    payout = compute_payout(cs, slot.preset, shares, slot.b.pool_shares, slot.b_risk.tav)
    cs.assert_mul(on, paid_field - payout, ZERO, "paid_field")
    kept = is_margin_kept(cs, slot.preset, slot.b_risk, paid_field)
    cs.assert_mul(on, 1 - kept, ZERO, "fund_keeps_margin")
    paid, burned = cs.mul(on, paid_field, "paid"), cs.mul(on, shares, "burned")
    return Effect(
        a_collateral=paid,
        b_collateral=-paid,
        a_nonce=on,
        a_pool_shares=-burned,
        b_pool_shares=-burned,
        signed=SignedPayload(on, (burned,)),
    )


def get_fund(state: State, op: burn_shares.BurnShares) -> int:
    """B: the insurance fund, which pays."""
    return INSURANCE_FUND


CIRCUIT = OpCircuit(burn_shares.DESCRIPTOR, define_burn_shares, get_counterparty=get_fund)
