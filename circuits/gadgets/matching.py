"""The arithmetic of one fill in constraints: the twin of ``protocol.matching`` 's ``fill`` and
``move_fill`` for a taker against one maker (not a liquidation: no zero price), with the
book's, the positions' and the risk unit's parts left to ``gadgets.book_tree``,
``gadgets.positions`` and ``gadgets.risk``.

Given the taker (side, limit, remaining), the maker (side, price = its key's price, remaining)
and the fill the prover claims (price and size, e.g. a trade record's fields):

- ``maker_opposite``: the maker is on the other side;
- ``at_makers_price``: the fill's price is the maker's;
- ``within_limit``: it does not pass the taker's limit (a bid taker pays at most its limit, an
  ask taker receives at least its): ``(1 - 2 * taker_is_ask) * (limit - price)`` fits
  ``price_bits``, i.e. is not negative;
- ``size_is_min`` and ``size_positive``: ``size = min(taker remaining, maker remaining) > 0``,
  capped by a reduce-only side's reducible lots (``compute_reducible``; a reduce-only side with
  nothing to reduce is another step's outcome: the taker ends, the maker is cancelled);
- ``quote = price * size`` (below ``2^(price_bits + base_amount_bits) <= 2^quote_amount_bits``);
  fees ``ceil(quote * rate / 1e6)`` of each side's rate; the taker's signed lots and paid
  quote ``+size, +quote`` for a bid and their negations for an ask; the maker's the opposite.

Every input is taken as range-checked where it was written: remaining sizes below
``2^base_amount_bits``, prices below ``2^price_bits``, fee rates below ``2^fee_rate_bits``.
"""

from __future__ import annotations

from dataclasses import dataclass

from circuits.gadgets.bits import assert_range
from circuits.gadgets.compare import less_than
from circuits.gadgets.conditional import select
from circuits.gadgets.positions import SignVars
from circuits.gadgets.rounding import ceil_div
from circuits.r1cs import ONE, ZERO, Builder, LinearCombination
from protocol.field import inv
from protocol.params import Preset
from protocol.types import PPM

LC = LinearCombination


@dataclass(frozen=True)
class TakerVars:
    is_ask: LC  # boolean
    limit_price: LC  # for a market order its worst price
    remaining: LC
    reduce_only: LC = ZERO  # boolean
    reducible: LC = ZERO  # compute_reducible of its account (read when reduce_only)


@dataclass(frozen=True)
class MakerVars:
    is_ask: LC  # boolean, from its order leaf
    price: LC  # its key's price
    remaining: LC
    reduce_only: LC = ZERO  # boolean, from its order leaf
    reducible: LC = ZERO


def compute_reducible(cs: Builder, position: SignVars, is_ask: LC) -> LC:
    """``protocol.matching.compute_reducible``: a sell may reduce a long, a buy a short (two
    constraints; ``position`` is the account's size in the market, with its sign)."""
    with cs.scope("reducible"):
        opposite = position.negative + cs.mul(is_ask, position.positive - position.negative, "side")
        return cs.mul(opposite, position.magnitude, "lots")


def _smaller(cs: Builder, a: LC, b: LC, bits: int, name: str) -> LC:
    with cs.scope(name):
        return select(cs, less_than(cs, a, b, bits), a, b)


@dataclass(frozen=True)
class FillVars:
    """One fill's amounts; signed values are carried as ``v mod r``."""

    size: LC
    quote: LC  # price * size
    taker_fee: LC
    maker_fee: LC
    taker_lots: LC  # signed: + when the taker buys
    taker_paid: LC  # signed quote the taker pays (negative: receives)
    taker_remaining: LC  # after the fill
    maker_remaining: LC

    @property
    def maker_lots(self) -> LC:
        return -self.taker_lots

    @property
    def maker_paid(self) -> LC:
        return -self.taker_paid

    @property
    def taker_collateral_change(self) -> LC:
        return -self.taker_paid - self.taker_fee

    @property
    def maker_collateral_change(self) -> LC:
        return -self.maker_paid - self.maker_fee


def _check_fill(
    cs: Builder,
    preset: Preset,
    taker: TakerVars,
    maker: MakerVars,
    price: LC | None,
    size: LC,
    on: LC,
    meets: LC,
    trial: LC,
) -> LC:
    """The checks; returns the fill's size (``size``, or the one computed for a trial)."""
    cs.assert_mul(meets, maker.is_ask + taker.is_ask - 1, ZERO, "maker_opposite")
    if price is not None:
        cs.assert_mul(on, price - maker.price, ZERO, "at_makers_price")
    room = taker.limit_price - maker.price
    with cs.scope("within_limit"):
        ask_room = cs.mul(taker.is_ask, room, "ask_room")
        assert_range(cs, cs.mul(meets, room - 2 * ask_room, "checked"), preset.price_bits)
    bits = preset.base_amount_bits
    smallest = _smaller(cs, taker.remaining, maker.remaining, bits, "size")
    # a reduce-only side caps the size at what it can reduce (the remaining otherwise)
    for side, vars_ in (("taker", taker), ("maker", maker)):
        cap = select(cs, vars_.reduce_only, vars_.reducible, vars_.remaining)
        smallest = _smaller(cs, smallest, cap, bits, f"{side}_reduce_only_cap")
    if trial is not ZERO:
        size = size + cs.mul(trial, smallest, "trial_size")
    cs.assert_mul(on, size - smallest, ZERO, "size_is_min")
    size_inverse = cs.hint("size_inverse", lambda s: inv(s) if s else 0, size)
    cs.assert_mul(size, size_inverse, on, "size_positive")
    return size


def compute_fill(
    cs: Builder,
    preset: Preset,
    taker: TakerVars,
    maker: MakerVars,
    fee_rates: tuple[LC, LC],
    price: LC | None,
    size: LC,
    on: LC = ONE,
    meets: LC | None = None,
    trial: LC = ZERO,
) -> FillVars:
    """Checks the claimed fill (``price``, ``size``) when ``on`` and returns its amounts;
    ``fee_rates`` are the market's (taker, maker) rates in ppm. ``price`` None: the fill is at
    the maker's price by construction (no claim to check). Off, the claim is free and only the
    amounts are computed: a caller that turns the fill off passes ``size`` 0. ``meets`` (``on``
    by default; 1 whenever ``on`` is) checks only that the maker is opposite and within the
    taker's limit: a step that cancels the maker it meets instead of filling it. ``trial`` (a
    boolean that implies ``on``, with ``size`` 0): the fill is of the size the rules would
    take, ``min`` of the remainders and the caps, computed here: a fill tried, not made."""
    with cs.scope("fill"):
        checked = on if meets is None else meets
        size = _check_fill(cs, preset, taker, maker, price, size, on, checked, trial)
        quote = cs.mul(maker.price, size, "quote")
        bits = preset.price_bits + preset.base_amount_bits + preset.fee_rate_bits
        taker_rate, maker_rate = fee_rates
        taker_fee = ceil_div(
            cs, cs.mul(quote, taker_rate, "quote_taker_rate"), PPM, bits, False, "taker_fee"
        )
        maker_fee = ceil_div(
            cs, cs.mul(quote, maker_rate, "quote_maker_rate"), PPM, bits, False, "maker_fee"
        )
        taker_lots = size - 2 * cs.mul(taker.is_ask, size, "ask_lots")
        taker_paid = quote - 2 * cs.mul(taker.is_ask, quote, "ask_quote")
    return FillVars(
        size,
        quote,
        taker_fee,
        maker_fee,
        taker_lots,
        taker_paid,
        taker.remaining - size,
        maker.remaining - size,
    )
