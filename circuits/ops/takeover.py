"""Takeover (type 25, sequencer): the twin of ``protocol/ops/takeover.py`` (docs/PROTOCOL.md
7.4, 8.25), in a heavy slot whose A is the account and B the insurance fund (``fund_is_b``).

Record: account (1..6) | positions (7..8), quote (9..16, two's complement). A exists
(``account_exists``), is not a reserved account (``not_reserved``) and is below its close-out
margin, ``TAV < CMR`` (``below_cmr``: the CMR of the slot's risk unit of A, a heavy slot's). Its
orders are cancelled lazily as a cancel all's: its cancel epoch grows by one unless spent
(``epoch_not_spent``) and its open orders fall to 0 (``zeroed``).

Every position of A (per market ``m``, size ``s`` of A's risk unit, whose sign and magnitude it
read) moves to B at A's zero price (none of them deleveraging: ``market_not_deleveraging``, the
lane of its round 0) ``mark + d`` for a long and ``mark - d`` for a short, with
``d = floor(-mark * mmf * TAV / (MMR * 1e6))`` (``risk.compute_zero_price``: rounded against A;
a long's clamp at 0 never binds below CMR, where ``|d| <= mark``): the quote ``s * mark + |s| *
d``. Both positions' funding is settled (the risk units' unsettled funding), A's position ends
empty (its leverage kept), B's takes the lots and the quote (``gadgets.positions``'s
``apply_signed_fill``), and open interest changes by both sides' long growth. The record counts
the markets moved (``positions_field``) and their quotes' sum modulo ``2^64`` (``quote_field``).
A's collateral after, if negative, is paid by B (``absorb_deficit``): A ends at ``>= 0``. The
slot then checks the takeover condition on B after it (``slot.fund_absorbs``).
"""

from __future__ import annotations

from circuits.gadgets.bits import assert_signed_range
from circuits.gadgets.compare import signed_less_than
from circuits.gadgets.division import floor_div
from circuits.gadgets.equality import is_zero
from circuits.gadgets.positions import PositionLeafVars, SignVars, apply_signed_fill
from circuits.gadgets.risk import FRACTION_BITS, RiskWidths, compute_sign_magnitude
from circuits.ops.cancel_all import is_epoch_spent
from circuits.ops.common import (
    DATA_FUNDING_INDEX,
    DATA_MARK,
    DATA_ROUND,
    PARAM_MMF,
    Effect,
    OpCircuit,
    SlotVars,
    assert_nonzero_if,
)
from circuits.r1cs import ZERO, Builder, LinearCombination, weighted_sum
from protocol.accounts import FEE_ACCOUNT, FUNDING_POOL, INSURANCE_FUND
from protocol.field import to_signed
from protocol.ops import takeover
from protocol.params import RECORD_AMOUNT_BYTES, Preset
from protocol.state import State
from protocol.types import PPM

LC = LinearCombination
POSITIONS = takeover.RECORD.offset("positions")
QUOTE = takeover.RECORD.offset("quote")
QUOTE_BITS = 8 * RECORD_AMOUNT_BYTES


def _below_cmr(cs: Builder, slot: SlotVars, on: LC, widths: RiskWidths) -> None:
    """``TAV < CMR`` of A (the CMR of a heavy slot's risk unit of A)."""
    risk = slot.a_risk
    with cs.scope("cmr"):
        below = signed_less_than(cs, risk.tav, risk.cmr, max(widths.tav, widths.margin))
    cs.assert_mul(on, 1 - below, ZERO, "below_cmr")


def _not_reserved(cs: Builder, slot: SlotVars, on: LC) -> None:
    """A is none of the reserved accounts (the fund, the fee account, the funding pool)."""
    index = slot.a.index
    product = cs.mul(index - INSURANCE_FUND, index - FEE_ACCOUNT, "reserved_product")
    assert_nonzero_if(cs, on, cs.mul(product, index - FUNDING_POOL, "reserved"), "not_reserved")


class _Moved:
    """What moving one market's position adds up (each already times ``on``)."""

    def __init__(self) -> None:
        self.count: list[LC] = []
        self.quotes: list[LC] = []
        self.a_collateral: list[LC] = []
        self.b_collateral: list[LC] = []
        self.funding: list[LC] = []
        self.a_positions: list[PositionLeafVars] = []
        self.b_positions: list[PositionLeafVars] = []
        self.open_interest: list[LC] = []


def _move_market(
    cs: Builder, slot: SlotVars, on: LC, m: int, divisor: LC, widths: RiskWidths, out: _Moved
) -> None:
    """Market ``m``: A's position to B at A's zero price, funding settled on both sides."""
    preset, risk, b_risk = slot.preset, slot.a_risk, slot.b_risk
    assert b_risk is not None
    market = slot.markets[m]
    mark, index = market.data[DATA_MARK], market.data[DATA_FUNDING_INDEX]
    a_old, b_old = slot.a_positions[m], slot.b_positions[m]
    negative, magnitude = risk.signs[m]
    held = 1 - is_zero(cs, magnitude)
    moves = cs.mul(on, held, "moves")
    # ``require_no_round`` of each market A holds a position in
    cs.assert_mul(moves, market.data[DATA_ROUND], ZERO, "market_not_deleveraging")
    with cs.scope("zero_price"):  # d = floor(-mark * mmf * TAV / (MMR * 1e6)), 0 without size
        mark_mmf = cs.mul(mark, market.params[PARAM_MMF], "mark_mmf")
        numerator = cs.mul(cs.mul(mark_mmf, risk.tav, "times_tav"), held, "numerator")
        d = floor_div(cs, -numerator, divisor, widths.tav + 1, widths.margin + FRACTION_BITS)
    quote = cs.mul(a_old.size, mark, "value") + cs.mul(magnitude, d, "discount")
    # A's lots as B takes them (0 unless moved), their sign from A's risk unit
    lots = cs.mul(moves, a_old.size, "lots")
    delta = SignVars(
        lots, cs.mul(moves, magnitude, "lots_magnitude"), cs.mul(moves, negative, "sold"), 1 - moves
    )
    b_negative, b_magnitude = b_risk.signs[m]
    b_zero = is_zero(cs, b_magnitude)
    size = SignVars(b_old.size, b_magnitude, cs.mul(b_negative, 1 - b_zero, "b_short"), b_zero)
    paid = cs.mul(moves, quote, "paid")
    b_owed = cs.mul(moves, b_risk.owed[m], "b_owed")
    with cs.scope("fund"):
        b_side = apply_signed_fill(cs, preset, b_old, size, delta, index, b_owed, paid, ZERO)
    b_new = b_side.position
    out.count.append(moves)
    out.quotes.append(paid)
    out.a_collateral.append(paid - risk.owed[m])  # owed is 0 without a size
    out.b_collateral.append(b_side.collateral_change)
    out.funding.append(risk.owed[m] + b_owed)
    snapshot = cs.mul(moves, index - a_old.funding_index, "a_snapshot")
    out.a_positions.append(
        PositionLeafVars(-lots, -cs.mul(moves, a_old.entry_quote, "a_entry"), snapshot, ZERO)
    )
    out.b_positions.append(
        PositionLeafVars(
            lots,
            b_new.entry_quote - b_old.entry_quote,  # 0 when nothing moves
            cs.mul(moves, index - b_old.funding_index, "b_snapshot"),
            ZERO,
        )
    )
    a_long = cs.mul(delta.positive, lots, "a_long")
    out.open_interest.append(b_side.long_change - a_long)


def _total_bits(preset: Preset) -> int:
    """A width for the quotes' sum: each market's ``|s * mark| + |s| * |d|`` is below
    ``2^(value bits) + |TAV| + |s|`` (``|d| <= |TAV| / |s| + 1``, MMR being at least that
    market's share), so the sum is below ``2^(tav + depth + 1)``."""
    return RiskWidths.of(preset).tav + preset.market_tree_depth + 1


def _check_record(cs: Builder, slot: SlotVars, on: LC, moved: _Moved) -> None:
    """The record's count of positions moved, and their quotes' sum modulo ``2^64``: the sum
    minus the field is ``2^64`` times a small integer (a hint, range-checked)."""
    ones = [1] * len(moved.count)
    count, total = weighted_sum(ones, moved.count), weighted_sum(ones, moved.quotes)
    cs.assert_mul(on, slot.record.field(*POSITIONS) - count, ZERO, "positions_field")
    field = slot.record.field(*QUOTE)
    with cs.scope("quote"):
        wraps = cs.hint("wraps", lambda t, f: (to_signed(t) - f) >> QUOTE_BITS, total, field)
        assert_signed_range(cs, wraps, _total_bits(slot.preset) - QUOTE_BITS)
    cs.assert_mul(on, total - field - wraps * (1 << QUOTE_BITS), ZERO, "quote_field")


def define_takeover(cs: Builder, slot: SlotVars, on: LC) -> Effect:
    assert slot.b_risk is not None  # a heavy slot's
    a, preset = slot.a, slot.preset
    widths = RiskWidths.of(preset)
    cs.assert_mul(on, 1 - a.exists, ZERO, "account_exists")
    _not_reserved(cs, slot, on)
    cs.assert_mul(on, slot.b.index - INSURANCE_FUND, ZERO, "fund_is_b")
    _below_cmr(cs, slot, on, widths)
    cs.assert_mul(on, is_epoch_spent(cs, slot), ZERO, "epoch_not_spent")
    with cs.scope("no_margin"):  # MMR 0: no position, nothing divides (the divisor is then 1)
        no_margin = is_zero(cs, slot.a_risk.mmr)
    divisor = slot.a_risk.mmr * PPM + no_margin
    moved = _Moved()
    for m in range(preset.max_markets):
        with cs.scope(f"market{m}"):
            _move_market(cs, slot, on, m, divisor, widths, moved)
    _check_record(cs, slot, on, moved)
    ones = [1] * len(moved.count)
    with cs.scope("deficit"):  # absorb_deficit: A's collateral after, if negative, from B
        left = a.collateral + weighted_sum(ones, moved.a_collateral)
        negative, magnitude = compute_sign_magnitude(cs, left, _total_bits(preset) + 1)
        deficit = cs.mul(negative, magnitude, "deficit")
    a_change = cs.mul(on, weighted_sum(ones, moved.a_collateral) + deficit, "a_collateral")
    b_change = weighted_sum(ones, moved.b_collateral) - cs.mul(on, deficit, "paid")
    return Effect(
        a_collateral=a_change,
        b_collateral=b_change,
        a_positions=tuple(moved.a_positions),
        b_positions=tuple(moved.b_positions),
        a_open_orders=-cs.mul(on, a.open_orders, "zeroed"),
        a_cancel_epoch=on,
        funding=cs.mul(on, weighted_sum(ones, moved.funding), "funding"),
        open_interest=tuple(moved.open_interest),
        b_absorbs_a=on,
    )


def get_fund(state: State, op: takeover.Takeover) -> int:
    """B: the insurance fund, which takes the positions over."""
    return INSURANCE_FUND


CIRCUIT = OpCircuit(takeover.DESCRIPTOR, define_takeover, get_counterparty=get_fund)
