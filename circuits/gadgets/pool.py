"""Pool shares in constraints: the twin of ``protocol/pool.py`` (docs/PROTOCOL.md 7.7).

The pool's value is the insurance fund's TAV (the slot's B risk unit, ``|value| < 2^tav``:
``RiskWidths``); the supply is the fund's ``pool_shares``, a holder's its own. Both share
counts are range-checked here (``pool_share_bits``) before they are compared or divided, and
the amounts come from record fields (``RECORD_AMOUNT_BYTES``, so below ``2^64``).

- ``compute_minted``: ``floor(amount * supply / value)``, or ``amount`` when the supply is 0,
  and then the fund's value as shares issued to nobody (``unowned``: what the fund held before
  its first mint stays the pool's); ``insolvent`` is 1 when the rules refuse the mint: the
  supply is not 0 and the value is not positive, or it is 0 and the value is negative. The
  divisor is the value when positive, else 1, so the division has a witness whatever the slot
  holds.
- ``compute_payout``: ``floor(shares * max(0, value) / supply)`` (the divisor 1 when the supply
  is 0, where nothing is held).
- ``is_margin_kept``: 1 when the fund's ``TAV - payout >= MMR`` (its positions do not change, so
  its MMR is the one before).

The quotients are range-checked as wide as their numerators allow (``div_rem``), so a slot of
any other type, whose record bytes are anything, still has a witness.
"""

from __future__ import annotations

from dataclasses import dataclass

from circuits.gadgets.bits import assert_range
from circuits.gadgets.boolean import not_
from circuits.gadgets.compare import signed_less_than
from circuits.gadgets.division import div_rem
from circuits.gadgets.equality import is_zero
from circuits.gadgets.risk import RiskVars, RiskWidths, compute_sign_magnitude
from circuits.r1cs import ZERO, Builder, LinearCombination
from protocol.params import RECORD_AMOUNT_BYTES, Preset

LC = LinearCombination
RECORD_AMOUNT_BITS = 8 * RECORD_AMOUNT_BYTES  # a record's amount or share count


def check_share_count(cs: Builder, preset: Preset, shares: LC, name: str) -> None:
    """``0 <= shares < 2^pool_share_bits`` (a leaf's ``pool_shares``)."""
    with cs.scope(name):
        assert_range(cs, shares, preset.pool_share_bits)


@dataclass(frozen=True)
class Minted:
    """What a mint of ``amount`` gives (``compute_minted``)."""

    shares: LC  # the minter's
    unowned: LC  # issued to nobody: the value before the first mint (0 after it)
    insolvent: LC  # 1 when the rules refuse the mint for the pool's value


def compute_minted(cs: Builder, preset: Preset, amount: LC, supply: LC, value: LC) -> Minted:
    """``compute_shares_for`` and ``compute_unowned_shares`` (see the module)."""
    tav_bits = RiskWidths.of(preset).tav
    with cs.scope("first_mint"):
        first = is_zero(cs, supply)
    with cs.scope("solvent"):
        solvent = signed_less_than(cs, ZERO, value, tav_bits)
    with cs.scope("in_debt"):
        in_debt = signed_less_than(cs, value, ZERO, tav_bits)
    # not first: 1 - solvent; first: in_debt
    insolvent = 1 - solvent + cs.mul(first, in_debt - (1 - solvent), "priced_insolvent")
    divisor = 1 + cs.mul(solvent, value - 1, "divisor")
    numerator = cs.mul(amount, supply, "amount_times_supply")
    quotient_bits = RECORD_AMOUNT_BITS + preset.pool_share_bits
    priced, _ = div_rem(cs, numerator, divisor, quotient_bits, tav_bits)
    shares = priced + cs.mul(first, amount, "first_shares")
    return Minted(shares, cs.mul(first, value, "unowned"), insolvent)


def compute_payout(cs: Builder, preset: Preset, shares: LC, supply: LC, value: LC) -> LC:
    """``compute_payout_for``: ``floor(shares * max(0, value) / supply)``, below
    ``2^(64 + tav)``."""
    tav_bits = RiskWidths.of(preset).tav
    with cs.scope("value"):
        negative, _ = compute_sign_magnitude(cs, value, tav_bits)
        positive = cs.mul(1 - negative, value, "positive_part")
    with cs.scope("no_supply"):
        no_supply = is_zero(cs, supply)
    numerator = cs.mul(shares, positive, "shares_times_value")
    quotient_bits = RECORD_AMOUNT_BITS + tav_bits
    payout, _ = div_rem(cs, numerator, supply + no_supply, quotient_bits, preset.pool_share_bits)
    return payout


def is_margin_kept(cs: Builder, preset: Preset, fund: RiskVars, payout: LC) -> LC:
    """1 when the fund keeps ``TAV - payout >= MMR`` (``payout < 2^(64 + tav)``)."""
    widths = RiskWidths.of(preset)
    bits = max(RECORD_AMOUNT_BITS + widths.tav + 1, widths.margin)
    with cs.scope("keeps_margin"):
        return not_(signed_less_than(cs, fund.tav - payout, fund.mmr, bits))
