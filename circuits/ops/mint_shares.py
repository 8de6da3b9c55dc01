"""Mint pool shares (type 27, L2 signed): the twin of ``protocol/ops/mint_shares.py``.

Record: account (1..6), amount (7..14) | minted (15..22). Signed by A over ``[chain_id, 27,
account, nonce, expiry, amount]``; A exists and is not the insurance fund or the funding pool;
``0 < amount < 2^64``; B is the insurance fund (``fund_is_b``: the slot's B risk unit is the
pool's value, its TAV over its positions at the block's marks). ``minted = floor(amount *
supply / value)``, or ``amount`` when the supply is 0 (``gadgets.pool.compute_minted``); a pool
with a supply must be solvent, one without none in debt (``pool_solvent``), at least one share
is minted (``shares_positive``) and the supply stays below ``2^pool_share_bits``
(``supply_in_range``). A pays ``amount`` to the fund, A's ``pool_shares`` grow by ``minted``,
the supply by ``minted`` plus, at the first mint, the fund's value as unowned shares
(``reserved``), A's nonce by one, and A passes the valid-risk-change rule (the slot's risk unit,
its collateral fallen).
"""

from __future__ import annotations

from circuits.gadgets.bits import assert_range
from circuits.gadgets.pool import compute_minted
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
from protocol.ops import mint_shares
from protocol.state import State

AMOUNT = mint_shares.RECORD.offset("amount")
MINTED = mint_shares.RECORD.offset("minted")


def define_mint_shares(cs: Builder, slot: SlotVars, on: LinearCombination) -> Effect:
    assert slot.b_risk is not None  # a heavy slot's
    amount, minted = slot.record.field(*AMOUNT), slot.record.field(*MINTED)
    define_signer_checks(cs, slot, on)
    assert_nonzero_if(cs, on, amount, "amount_positive")
    cs.assert_mul(on, slot.b.index - INSURANCE_FUND, ZERO, "fund_is_b")
    supply = slot.b.pool_shares
    mint = compute_minted(cs, slot.preset, amount, supply, slot.b_risk.tav)
    cs.assert_mul(on, mint.insolvent, ZERO, "pool_solvent")
    assert_nonzero_if(cs, on, mint.shares, "shares_positive")
    cs.assert_mul(on, minted - mint.shares, ZERO, "minted_field")
    issued, paid = cs.mul(on, minted, "issued"), cs.mul(on, amount, "paid")
    reserved = cs.mul(on, mint.unowned, "reserved")
    with cs.scope("supply_in_range"):
        assert_range(cs, supply + reserved + issued, slot.preset.pool_share_bits)
    return Effect(
        a_collateral=-paid,
        b_collateral=paid,
        a_nonce=on,
        a_risk_checked=on,
        a_pool_shares=issued,
        b_pool_shares=reserved + issued,
        signed=SignedPayload(on, (paid,)),
    )


def get_fund(state: State, op: mint_shares.MintShares) -> int:
    """B: the insurance fund, whose value and supply price the shares."""
    return INSURANCE_FUND


CIRCUIT = OpCircuit(mint_shares.DESCRIPTOR, define_mint_shares, get_counterparty=get_fund)
