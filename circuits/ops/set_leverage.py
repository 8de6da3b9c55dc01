"""Set leverage (type 21, L2 signed): the twin of ``protocol/ops/set_leverage.py``.

Record: account (1..6), market (7..8), imf (9..11). Signed by A over ``[chain_id, 21, account,
nonce, expiry, market, imf]``; A exists and is not the insurance fund or the funding pool (it
may hold positions); the market is in the tree (``in_tree``) and exists (``exists{m}``);
``imf = 0`` or ``market imf <= imf <= 1e6`` (``imf_allowed``). The position's imf becomes
``imf`` (a position this creates takes the market's funding index as its snapshot; one left
empty is the leaf 0), A's nonce grows by one, and A passes the valid-risk-change rule: the
slot's risk unit, over all of A's positions at the block's marks, before against after.
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.gadgets.compare import less_than
from circuits.gadgets.equality import is_zero
from circuits.gadgets.positions import PositionLeafVars
from circuits.ops.common import (
    DATA_FUNDING_INDEX,
    PARAM_IMF,
    Effect,
    OpCircuit,
    SignedPayload,
    SlotVars,
    define_signer_checks,
    pick,
    select_market,
)
from circuits.r1cs import ZERO, Builder, LinearCombination, constant
from protocol.ops import set_leverage
from protocol.types import PPM

LC = LinearCombination
MARKET = set_leverage.RECORD.offset("market")
IMF = set_leverage.RECORD.offset("imf")
IMF_BITS = 8 * IMF[1]


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


def _compute_changes(
    cs: Builder, slot: SlotVars, selected: Sequence[LC], imf: LC
) -> tuple[PositionLeafVars, ...]:
    """What the selected position gains: its imf set, and its snapshot the market's funding
    index when it was empty (``ensure_position``)."""
    changes = []
    for m, (p, leaf, market) in enumerate(
        zip(slot.a_positions, slot.a_position_leaves, slot.markets, strict=True)
    ):
        with cs.scope(f"market{m}"):
            created = cs.mul(selected[m], is_zero(cs, leaf), "created")
            funding = cs.mul(created, market.data[DATA_FUNDING_INDEX] - p.funding_index, "snapshot")
            changes.append(
                PositionLeafVars(ZERO, ZERO, funding, cs.mul(selected[m], imf - p.imf, "imf"))
            )
    return tuple(changes)


def define_set_leverage(cs: Builder, slot: SlotVars, on: LC) -> Effect:
    record = slot.record
    market, imf = record.field(*MARKET), record.field(*IMF)
    define_signer_checks(cs, slot, on)
    selected = select_market(cs, slot, on, market)
    with cs.scope("market"):
        market_imf = pick(cs, selected, [m.params[PARAM_IMF] for m in slot.markets], "imf")
    _check_imf(cs, on, imf, market_imf)
    changes = _compute_changes(cs, slot, selected, imf)
    signed = (cs.mul(on, market, "signed_market"), cs.mul(on, imf, "signed_imf"))
    return Effect(
        a_nonce=on, a_risk_checked=on, a_positions=changes, signed=SignedPayload(on, signed)
    )


CIRCUIT = OpCircuit(set_leverage.DESCRIPTOR, define_set_leverage)
