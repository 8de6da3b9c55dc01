"""One side of a fill applied to its position, in constraints: the twin of
``protocol.positions`` (``compute_entry_quote``, and ``apply_fill`` after ``settle_funding``).

``compute_entry_quote`` picks one of four outcomes by the signs of the size before, the traded
lots and the size after: increasing (``entry + quote``), closed (0), reducing (``entry`` scaled
by ``new / size``) or flipping (``quote`` scaled by ``new / delta``). The two scalings share
one division ``|value * new| // |den|`` with ``_scale_toward_zero``'s sign (rounded toward
zero); where nothing is scaled the divisor is replaced by 1, so the division always has a
witness. Signs come from ``compute_sign``: a hinted sign bit and magnitude (range-checked), and
``is_zero``, with zero pinned as not negative.

``apply_fill`` settles the funding first (``owed``: the risk unit's unsettled funding of that
market, what ``settle_funding`` charges), moves the lots and the paid quote plus the fee,
snapshots the market's funding index and returns the growth of the long side (the open
interest's change). The new size must stay below ``2^base_amount_bits`` in magnitude, as the
rules' ``AmountOutOfRange`` requires; the collateral's range is the account unit's.

Inputs are taken as range-checked where they were written: ``|size|, |lots| <
2^base_amount_bits``, ``|entry|, |quote| < 2^quote_amount_bits``.
"""

from __future__ import annotations

from dataclasses import dataclass

from circuits.gadgets.boolean import and_, not_, or_
from circuits.gadgets.conditional import select
from circuits.gadgets.division import div_rem
from circuits.gadgets.equality import is_zero
from circuits.gadgets.risk import compute_sign_magnitude
from circuits.r1cs import ZERO, Builder, LinearCombination
from protocol.params import Preset

LC = LinearCombination


@dataclass(frozen=True)
class SignVars:
    """A signed value, its magnitude and its sign (``negative``, ``zero``, ``positive``
    one-hot)."""

    value: LC
    magnitude: LC
    negative: LC
    zero: LC

    @property
    def positive(self) -> LC:
        return 1 - self.negative - self.zero


def compute_sign(cs: Builder, x: LC, bits: int, name: str) -> SignVars:
    """``|x| < 2^bits`` proven, and the sign of ``x``: ``bits + 7`` constraints."""
    with cs.scope(name):
        negative, magnitude = compute_sign_magnitude(cs, x, bits)
        zero = is_zero(cs, x)
        cs.assert_mul(negative, zero, ZERO, "zero_is_not_negative")
    return SignVars(x, magnitude, negative, zero)


def _same(cs: Builder, a: LC, b: LC, name: str) -> LC:
    """``a == b`` for booleans: one constraint."""
    return 1 - a - b + 2 * cs.mul(a, b, name)


def _entry_quote(
    cs: Builder,
    preset: Preset,
    size: SignVars,
    delta: SignVars,
    new: SignVars,
    entry: LC,
    quote: LC,
) -> LC:
    increasing = or_(cs, size.zero, _same(cs, size.positive, delta.positive, "same_direction"))
    reducing = _same(cs, new.positive, size.positive, "keeps_side")
    scales = and_(cs, not_(increasing), not_(new.zero))
    value = select(cs, reducing, entry, quote)
    den_negative = select(cs, reducing, size.negative, delta.negative)
    den_magnitude = select(cs, reducing, size.magnitude, delta.magnitude)
    divisor = 1 + cs.mul(scales, den_magnitude - 1, "divisor")
    bits = preset.quote_amount_bits + preset.base_amount_bits
    product_negative, product = compute_sign_magnitude(
        cs, cs.mul(value, new.value, "product"), bits
    )
    quotient, _ = div_rem(cs, product, divisor, bits, preset.base_amount_bits)
    opposite = product_negative + den_negative - 2 * cs.mul(product_negative, den_negative, "xor")
    scaled = quotient - 2 * cs.mul(opposite, quotient, "signed")
    increased = cs.mul(increasing, entry + quote, "increased")
    return increased + cs.mul(scales, scaled, "scaled")


def compute_entry_quote(
    cs: Builder, preset: Preset, size: LC, entry: LC, delta: LC, quote: LC
) -> LC:
    """``protocol.positions.compute_entry_quote`` (the size after must fit
    ``base_amount_bits``, as ``apply_fill`` requires)."""
    bits = preset.base_amount_bits
    with cs.scope("entry_quote"):
        signs = [compute_sign(cs, v, bits, n) for v, n in ((size, "size"), (delta, "delta"))]
        new = compute_sign(cs, size + delta, bits, "new")
        return _entry_quote(cs, preset, signs[0], signs[1], new, entry, quote)


@dataclass(frozen=True)
class PositionLeafVars:
    """The fields of a position leaf (``protocol.accounts.Position``); all zero when absent."""

    size: LC
    entry_quote: LC
    funding_index: LC
    imf: LC


POSITION_FIELDS = tuple(PositionLeafVars.__dataclass_fields__)  # in leaf order


@dataclass(frozen=True)
class AppliedFill:
    position: PositionLeafVars  # after the fill
    collateral_change: LC  # signed: - funding owed - quote paid - fee
    long_change: LC  # signed: max(new, 0) - max(size, 0), the open interest's change


def apply_fill(
    cs: Builder,
    preset: Preset,
    position: PositionLeafVars,
    market_funding_index: LC,
    owed: LC,
    lots: LC,
    paid: LC,
    fee: LC,
) -> AppliedFill:
    """``protocol.positions.apply_fill`` for one side: ``lots`` bought (negative: sold) for
    ``paid`` (negative: received) plus ``fee``, after settling ``owed``."""
    bits = preset.base_amount_bits
    with cs.scope("apply_fill"):
        size = compute_sign(cs, position.size, bits, "size")
        delta = compute_sign(cs, lots, bits, "delta")
        return apply_signed_fill(
            cs, preset, position, size, delta, market_funding_index, owed, paid, fee
        )


def apply_signed_fill(
    cs: Builder,
    preset: Preset,
    position: PositionLeafVars,
    size: SignVars,
    delta: SignVars,
    market_funding_index: LC,
    owed: LC,
    paid: LC,
    fee: LC,
) -> AppliedFill:
    """``apply_fill`` with the signs of the size and of the lots already known (a takeover
    reads them from the risk units): the size after, the cost basis, the snapshot and the
    long side's growth."""
    new = compute_sign(cs, position.size + delta.value, preset.base_amount_bits, "new")
    with cs.scope("entry_quote"):
        entry = _entry_quote(cs, preset, size, delta, new, position.entry_quote, paid)
    long_change = cs.mul(new.positive, new.value, "long_after") - cs.mul(
        size.positive, size.value, "long_before"
    )
    after = PositionLeafVars(new.value, entry, market_funding_index, position.imf)
    return AppliedFill(after, -owed - paid - fee, long_change)
