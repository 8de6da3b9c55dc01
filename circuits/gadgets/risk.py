"""The risk unit in constraints: the twin of ``protocol.risk`` (``compute_risk``'s TAV, IMR and
MMR over all of an account's positions at the block's mark prices, unsettled funding included,
and ``is_valid_risk_change``).

Per market ``m`` of the preset (``2^market_tree_depth`` of them; an absent position is all
zeros and adds nothing, as the native loop skips it):

    tav += s * P - ceil(s * (F - f) / FUNDING_INDEX_SCALE)
    imr += ceil(|s| * P * max(imf, chosen imf) / PPM),   mmr += ceil(|s| * P * mmf / PPM)

``|s|`` comes from a hinted sign bit and magnitude (``s = |s| - 2 * neg * |s|``, ``|s| <
2^base_amount_bits``: the size's range check too), the ceilings from ``gadgets.rounding``, the
larger fraction from one comparison. CMR (``cmr += ceil(|s| * P * cmf / PPM)``, liquidation's)
only where asked (``with_cmr``: A's risk in a heavy slot, which proves liquidations): one more
ceiling per market.

Inputs are taken as range-checked where they were written (leaf fields by the circuit that
wrote them, mark prices and funding indices once per block where they enter): ``0 < P <
2^price_bits``, ``|F|, |f| < 2^funding_index_bits``, fractions below ``2^FRACTION_BITS``,
``|collateral| < 2^collateral_bits``. ``RiskWidths`` derives every width from the preset.

The valid-risk-change rule (``is_valid_risk_change``) as one boolean:

    healthy_after or (not healthy_before and not mmr_grew
                      and (tav_not_lower if before.mmr == 0 else ratio_not_lower))

with ``ratio_not_lower = after.tav * before.mmr >= before.tav * after.mmr`` (cross-multiplied,
exact: both products stay far below ``r``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from circuits.gadgets.bits import assert_range
from circuits.gadgets.boolean import and_, assert_boolean, not_, or_
from circuits.gadgets.compare import less_than, signed_less_than
from circuits.gadgets.conditional import select
from circuits.gadgets.equality import is_zero
from circuits.gadgets.rounding import ceil_div
from circuits.r1cs import ONE, ZERO, Builder, LinearCombination, weighted_sum
from protocol.field import to_signed
from protocol.params import Preset
from protocol.types import FUNDING_INDEX_SCALE, PPM

LC = LinearCombination
FRACTION_BITS = PPM.bit_length()  # margin fractions and fee rates are at most 1e6 < 2^20


@dataclass(frozen=True)
class RiskWidths:
    """The widths the risk unit's ranges and comparisons use, from the preset's."""

    size: int  # |s| < 2^size
    funding_owed: int  # |s * (F - f)| < 2^funding_owed
    notional_fraction: int  # |s| * P * fraction < 2^notional_fraction
    tav: int  # |TAV| < 2^tav
    margin: int  # 0 <= IMR, MMR < 2^margin

    @classmethod
    def of(cls, preset: Preset) -> RiskWidths:
        size, markets = preset.base_amount_bits, preset.max_markets
        funding_owed = size + preset.funding_index_bits + 1  # F - f takes one bit more
        notional_fraction = size + preset.price_bits + FRACTION_BITS
        owed_bound = (1 << funding_owed) // FUNDING_INDEX_SCALE + 1
        value_bound = 1 << (size + preset.price_bits)
        tav_bound = (1 << preset.collateral_bits) + markets * (value_bound + owed_bound)
        margin_bound = markets * ((1 << notional_fraction) // PPM + 1)
        return cls(
            size, funding_owed, notional_fraction, tav_bound.bit_length(), margin_bound.bit_length()
        )


@dataclass(frozen=True)
class PositionVars:
    """The fields of a position leaf the risk reads (``protocol.accounts.Position``)."""

    size: LC  # signed lots, as v mod r
    funding_index: LC  # signed snapshot
    imf: LC  # chosen initial margin fraction, ppm (0: the market's)


@dataclass(frozen=True)
class MarketRiskVars:
    """What the risk reads of one market: the block's mark and index, and two parameters."""

    mark_price: LC
    funding_index: LC  # the cumulative index F (signed)
    imf: LC
    mmf: LC
    cmf: LC = ZERO  # read only for CMR (``compute_risk(..., with_cmr=True)``)


@dataclass(frozen=True)
class RiskVars:
    """``protocol.risk.Risk``; CMR only where computed."""

    tav: LC  # signed
    imr: LC
    mmr: LC
    # per market index, the position's unsettled funding (what ``settle_funding`` charges);
    # () where not computed
    owed: tuple[LC, ...] = ()
    # per market index, the size's sign bit and magnitude (``compute_sign_magnitude``: the sign
    # of a zero size is free) and the notional ``|s| * P``, which a takeover reuses; ()
    # where not computed
    signs: tuple[tuple[LC, LC], ...] = ()
    notionals: tuple[LC, ...] = ()
    cmr: LC = ZERO  # 0 unless computed (``with_cmr``)
    # per market index, its share (``compute_position_risk``: TAV part, IMR, MMR, CMR), which a
    # risk after one market's change replaces (``replace_share``); () where not computed
    shares: tuple[RiskVars, ...] = ()


def _sign_and_magnitude(v: int) -> list[int]:
    s = to_signed(v)
    return [int(s < 0), abs(s)]


def compute_sign_magnitude(cs: Builder, x: LC, bits: int) -> tuple[LC, LC]:
    """``(negative, |x|)`` for a signed ``x``, proving ``|x| < 2^bits``: ``bits + 4``
    constraints. ``negative`` is 1 for ``x < 0`` and 0 for ``x > 0``; at ``x = 0`` either
    satisfies ``x = |x| - 2 * negative * |x|``, so a caller that needs the sign of zero pins it
    (``positions.compute_sign``)."""
    with cs.scope("magnitude"):
        negative, magnitude = cs.hints("sign_and_magnitude", 2, _sign_and_magnitude, x)
        assert_boolean(cs, negative, "sign_boolean")
        cs.assert_equal(magnitude - 2 * cs.mul(negative, magnitude, "negated"), x, "is_size")
        assert_range(cs, magnitude, bits)
    return negative, magnitude


def compute_magnitude(cs: Builder, size: LC, bits: int) -> LC:
    """``|size|`` for a signed ``size``, proving ``|size| < 2^bits``."""
    return compute_sign_magnitude(cs, size, bits)[1]


def compute_unsettled_funding(
    cs: Builder, widths: RiskWidths, position: PositionVars, market: MarketRiskVars
) -> LC:
    """``protocol.risk.compute_unsettled_funding``: ``ceil(s * (F - f) / 1e6)``."""
    owed = cs.mul(position.size, market.funding_index - position.funding_index, "size_times_delta")
    return ceil_div(cs, owed, FUNDING_INDEX_SCALE, widths.funding_owed, True, "unsettled_funding")


def compute_position_risk(
    cs: Builder,
    widths: RiskWidths,
    position: PositionVars,
    market: MarketRiskVars,
    with_cmr: bool = False,
) -> RiskVars:
    """One market's share of ``compute_risk`` (CMR with ``with_cmr``)."""
    negative, magnitude = compute_sign_magnitude(cs, position.size, widths.size)
    value = cs.mul(position.size, market.mark_price, "value")
    owed = compute_unsettled_funding(cs, widths, position, market)
    notional = cs.mul(magnitude, market.mark_price, "notional")
    with cs.scope("imf"):
        chosen_below = less_than(cs, position.imf, market.imf, FRACTION_BITS)
        imf = select(cs, chosen_below, market.imf, position.imf)
    bits = widths.notional_fraction
    imr = ceil_div(cs, cs.mul(notional, imf, "notional_imf"), PPM, bits, False, "imr")
    mmr = ceil_div(cs, cs.mul(notional, market.mmf, "notional_mmf"), PPM, bits, False, "mmr")
    cmr = ZERO
    if with_cmr:
        cmr = ceil_div(cs, cs.mul(notional, market.cmf, "notional_cmf"), PPM, bits, False, "cmr")
    return RiskVars(value - owed, imr, mmr, (owed,), ((negative, magnitude),), (notional,), cmr)


def compute_risk(
    cs: Builder,
    preset: Preset,
    collateral: LC,
    positions: Sequence[PositionVars],
    markets: Sequence[MarketRiskVars],
    with_cmr: bool = False,
) -> RiskVars:
    """``protocol.risk.compute_risk`` (TAV, IMR, MMR, and CMR ``with_cmr``) over one position
    per market."""
    if len(positions) != preset.max_markets or len(markets) != preset.max_markets:
        raise ValueError(f"the risk unit reads all {preset.max_markets} markets")
    widths = RiskWidths.of(preset)
    shares = []
    with cs.scope("risk"):
        for m, (position, market) in enumerate(zip(positions, markets, strict=True)):
            with cs.scope(f"market{m}"):
                shares.append(compute_position_risk(cs, widths, position, market, with_cmr))
    ones = [1] * len(shares)
    return RiskVars(
        collateral + weighted_sum(ones, [s.tav for s in shares]),
        weighted_sum(ones, [s.imr for s in shares]),
        weighted_sum(ones, [s.mmr for s in shares]),
        tuple(s.owed[0] for s in shares),
        tuple(s.signs[0] for s in shares),
        tuple(s.notionals[0] for s in shares),
        weighted_sum(ones, [s.cmr for s in shares]) if with_cmr else ZERO,
        tuple(shares),
    )


def replace_share(
    before: RiskVars, collateral_change: LC, old: RiskVars, new: RiskVars
) -> RiskVars:
    """TAV, IMR and MMR after one market's share goes from ``old`` to ``new`` and the
    collateral moves by ``collateral_change``: ``compute_risk`` sums the markets' shares,
    each rounded on its own, so this is exactly the sum over the positions after (CMR is
    not carried)."""
    return RiskVars(
        before.tav + collateral_change - old.tav + new.tav,
        before.imr - old.imr + new.imr,
        before.mmr - old.mmr + new.mmr,
    )


def is_healthy(cs: Builder, widths: RiskWidths, risk: RiskVars) -> LC:
    """``TAV >= IMR`` (``Health.HEALTHY``)."""
    bits = max(widths.tav, widths.margin)
    return not_(signed_less_than(cs, risk.tav, risk.imr, bits))


def is_valid_risk_change(cs: Builder, preset: Preset, before: RiskVars, after: RiskVars) -> LC:
    """``protocol.risk.is_valid_risk_change`` as a boolean wire."""
    widths = RiskWidths.of(preset)
    bits = max(widths.tav, widths.margin)
    with cs.scope("risk_change"):
        with cs.scope("healthy_after"):
            healthy_after = is_healthy(cs, widths, after)
        with cs.scope("healthy_before"):
            healthy_before = is_healthy(cs, widths, before)
        with cs.scope("mmr_grew"):
            mmr_grew = less_than(cs, before.mmr, after.mmr, widths.margin)
        with cs.scope("no_margin_before"):
            no_margin = is_zero(cs, before.mmr)
        with cs.scope("tav_not_lower"):
            tav_not_lower = not_(signed_less_than(cs, after.tav, before.tav, bits))
        with cs.scope("ratio_not_lower"):
            kept = cs.mul(after.tav, before.mmr, "after_tav_times_before_mmr")
            needed = cs.mul(before.tav, after.mmr, "before_tav_times_after_mmr")
            ratio_not_lower = not_(signed_less_than(cs, kept, needed, widths.tav + widths.margin))
        improves = select(cs, no_margin, tav_not_lower, ratio_not_lower)
        may_change = and_(cs, not_(healthy_before), not_(mmr_grew))
        return or_(cs, healthy_after, and_(cs, may_change, improves))


def assert_valid_risk_change(
    cs: Builder, preset: Preset, before: RiskVars, after: RiskVars
) -> None:
    """The rule as a constraint: ``valid_risk_change``."""
    valid = is_valid_risk_change(cs, preset, before, after)
    cs.assert_equal(valid, ONE, "valid_risk_change")
