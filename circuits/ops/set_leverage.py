"""Set leverage (type 21, L2 signed): the twin of ``protocol/ops/set_leverage.py``.

Record: account (1..6), market (7..8), imf (9..11). Signed by A over ``[chain_id, 21, account,
nonce, expiry, market, imf]``; A exists and is not the insurance fund or the funding pool (it
may hold positions); the market is in the tree (``in_tree``) and exists (``exists{m}``);
``imf = 0`` or ``market imf <= imf <= 1e6`` (``imf_allowed``). The
position's imf becomes ``imf`` (a position this creates takes the market's funding index as
its snapshot; one left empty is the leaf 0, ``drop_empty_position``), A's positions root is
recomputed from every position leaf, A's nonce grows by one, and the valid-risk-change rule
holds over all of A's positions at the block's marks (``circuits/gadgets/risk.py``), before
against after.

The market is picked one-hot from the block's running market fields (``is_market{m}``), and
A's position fields are the slot's positions unit (opened against A's positions root).
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.gadgets.commitment import MarketVars, compute_position_leaf, compute_positions_root
from circuits.gadgets.compare import less_than
from circuits.gadgets.equality import is_equal, is_zero
from circuits.gadgets.positions import PositionLeafVars
from circuits.gadgets.risk import (
    MarketRiskVars,
    PositionVars,
    RiskVars,
    compute_risk,
    is_valid_risk_change,
)
from circuits.ops.common import Effect, OpCircuit, SignedPayload, SlotVars, define_signer_checks
from circuits.r1cs import ZERO, Builder, LinearCombination, constant, weighted_sum
from protocol.ops import set_leverage
from protocol.params import Preset
from protocol.types import PPM

LC = LinearCombination
MARKET = set_leverage.RECORD.offset("market")
IMF = set_leverage.RECORD.offset("imf")
IMF_BITS = 8 * IMF[1]
# Field positions in MarketParams / MarketData (6.4): the market's fractions, mark and index.
PARAM_IMF, PARAM_MMF = 1, 2
DATA_MARK, DATA_FUNDING_INDEX = 1, 2


def get_market_risk(market: MarketVars) -> MarketRiskVars:
    """What the risk unit reads of a market (its mark and funding index, imf and mmf)."""
    return MarketRiskVars(
        market.data[DATA_MARK],
        market.data[DATA_FUNDING_INDEX],
        market.params[PARAM_IMF],
        market.params[PARAM_MMF],
    )


def compute_account_risk(
    cs: Builder,
    preset: Preset,
    collateral: LC,
    positions: Sequence[PositionLeafVars],
    markets: Sequence[MarketVars],
) -> RiskVars:
    """TAV, IMR and MMR of an account's positions at the block's marks."""
    risk_positions = [PositionVars(p.size, p.funding_index, p.imf) for p in positions]
    return compute_risk(
        cs, preset, collateral, risk_positions, [get_market_risk(m) for m in markets]
    )


def _pick(cs: Builder, selectors: Sequence[LC], values: Sequence[LC], name: str) -> LC:
    """``Σ selector_m · value_m`` (one constraint per market)."""
    picked = [
        cs.mul(s, v, f"{name}{m}") for m, (s, v) in enumerate(zip(selectors, values, strict=True))
    ]
    return weighted_sum([1] * len(picked), picked)


def _check_imf(cs: Builder, on: LC, imf: LC, market_imf: LC) -> None:
    """``imf == 0 or market_imf <= imf <= PPM`` (``MalformedTransaction`` otherwise)."""
    with cs.scope("imf"):
        is_default = is_zero(cs, imf)
        with cs.scope("below_market"):
            below = less_than(cs, imf, market_imf, IMF_BITS)
        with cs.scope("above_ppm"):
            above = less_than(cs, constant(PPM), imf, IMF_BITS)
        outside = cs.mul(1 - is_default, below + above, "outside")
    cs.assert_mul(on, outside, ZERO, "imf_allowed")


def _new_positions(
    cs: Builder, slot: SlotVars, selected: Sequence[LC], imf: LC
) -> list[PositionLeafVars]:
    """The positions after: the selected market's imf set, its snapshot the market's funding
    index when the position was empty (``ensure_position``)."""
    new = []
    for m, (p, leaf, market) in enumerate(
        zip(slot.a_positions, slot.a_position_leaves, slot.markets, strict=True)
    ):
        with cs.scope(f"market{m}"):
            was_empty = is_zero(cs, leaf)
            created = cs.mul(selected[m], was_empty, "created")
            funding = p.funding_index + cs.mul(
                created, market.data[DATA_FUNDING_INDEX] - p.funding_index, "snapshot"
            )
            new_imf = p.imf + cs.mul(selected[m], imf - p.imf, "imf")
        new.append(PositionLeafVars(p.size, p.entry_quote, funding, new_imf))
    return new


def define_set_leverage(cs: Builder, slot: SlotVars, on: LC) -> Effect:
    record = slot.record
    market, imf = record.field(*MARKET), record.field(*IMF)
    define_signer_checks(cs, slot, on, may_hold_positions=True)
    with cs.scope("market"):
        is_market = [is_equal(cs, market, constant(m)) for m in range(len(slot.markets))]
        cs.assert_mul(on, 1 - weighted_sum([1] * len(is_market), is_market), ZERO, "in_tree")
        selected = [cs.mul(on, s, f"selected{m}") for m, s in enumerate(is_market)]
        for m, (s, market_vars) in enumerate(zip(selected, slot.markets, strict=True)):
            cs.assert_mul(s, 1 - market_vars.exists, ZERO, f"exists{m}")
        market_imf = _pick(cs, is_market, [m.params[PARAM_IMF] for m in slot.markets], "imf")
    _check_imf(cs, on, imf, market_imf)
    positions = _new_positions(cs, slot, selected, imf)
    with cs.scope("new_positions"):
        leaves = []
        for m, p in enumerate(positions):
            with cs.scope(f"market{m}"):
                leaves.append(compute_position_leaf(cs, p))
        root = compute_positions_root(cs, leaves)
    preset = slot.preset
    with cs.scope("risk_before"):
        before = compute_account_risk(cs, preset, slot.a.collateral, slot.a_positions, slot.markets)
    with cs.scope("risk_after"):
        after = compute_account_risk(cs, preset, slot.a.collateral, positions, slot.markets)
    valid = is_valid_risk_change(cs, preset, before, after)
    cs.assert_mul(on, 1 - valid, ZERO, "valid_risk_change")
    change = cs.mul(on, root - slot.a.positions_root, "positions_root_change")
    signed = (cs.mul(on, market, "signed_market"), cs.mul(on, imf, "signed_imf"))
    return Effect(a_nonce=on, a_positions_root=change, signed=SignedPayload(on, signed))


CIRCUIT = OpCircuit(set_leverage.DESCRIPTOR, define_set_leverage, reads_positions=True)
