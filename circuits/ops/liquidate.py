"""Liquidate (type 24, sequencer): the twin of ``protocol/ops/liquidate.py`` (docs/PROTOCOL.md
7.4, 8.24), in a heavy slot: a taker's first step, as a create order's or a forced order's.

Record: account (1..6), market (7..8), size (9..14) | maker (15..20), filled (21..26).
Unsigned (the sequencer's). Proven, before the step (each a refusal of the rules):

- A exists (``account_exists``) and is not reserved (``not_reserved``: neither the insurance
  fund, the funding pool nor the fee account); the market is in the tree and exists
  (``select_market``'s ``in_tree``, ``exists{m}``);
- A is in **partial liquidation**, from the slot's risk unit (A's risk before the slot, at the
  block's marks, CMR included in a heavy slot): ``TAV < MMR`` (``below_maintenance``: a healthy
  account or one in pre-liquidation is refused) and ``TAV >= CMR`` (``not_below_close_out``);
- ``0 < size <= |position|`` in the market (``size_positive``, ``size_within_position``: the
  difference in ``base_amount_bits``);
- the **zero price** ``Z`` of ``risk.compute_zero_price``, a private value held by
  cross-multiplication, no division: with ``S = MMR * 1e6``, ``P`` the mark, ``f`` the mmf and
  ``sign`` +1 for a long (it sells) and -1 for a short,
  ``rem = sign * (P - Z) * S - P * f * TAV``, and ``0 <= rem`` (``zero_price/not_in_favour``:
  a long's ``Z`` is not above ``floor(P (S - f TAV) / S)``, a short's not below
  ``ceil(P (S + f TAV) / S)``) and ``rem < S`` (``zero_price/within_a_tick``: nor one tick
  or more against it), each a range check of ``margin + 20`` bits; ``0 < Z < 2^price_bits``
  (``zero_price_positive``, ``zero_price/in_range``), as the rules require.

Then A's orders are cancelled lazily, as a cancel all does it: its open orders fall to 0
(``zeroed``) and its cancel epoch grows by one, unless it would leave its range
(``epoch_not_spent``); its nonce is unchanged. And the slot's step unit runs the taker
``(A, market, sells a long, limit Z, size, IOC, reduce-only, no expiry, zero price Z)`` against
the record's maker and filled: its fills charge A the zero price, with no taker fee and no risk
rule, and the spread accrues for the insurance fund (``fill_unit``); A's own orders, dead now,
are removed when met. Its claims continue it as any taker's (the running taker keeps ``Z``).
Never ``may_end``: nothing the rules check of a liquidation taker can fail it.
"""

from __future__ import annotations

from circuits.gadgets.bits import assert_range
from circuits.gadgets.compare import signed_less_than
from circuits.gadgets.equality import is_equal
from circuits.gadgets.positions import compute_sign
from circuits.gadgets.risk import FRACTION_BITS, RiskWidths
from circuits.ops.cancel_all import is_epoch_spent
from circuits.ops.common import (
    DATA_MARK,
    PARAM_MMF,
    Effect,
    OpCircuit,
    SlotVars,
    StepVars,
    TakerOrderVars,
    assert_nonzero_if,
    pick,
    select_market,
)
from circuits.ops.step_unit import get_step_counterparty, get_step_key
from circuits.r1cs import ZERO, Builder, LinearCombination, constant
from protocol.accounts import FEE_ACCOUNT
from protocol.errors import InvalidTransaction
from protocol.field import to_signed
from protocol.ops import liquidate
from protocol.ops.liquidate import Liquidate, compute_taker
from protocol.state import State, Taker
from protocol.types import PPM

LC = LinearCombination
FIELDS = {f.name: liquidate.RECORD.offset(f.name) for f in liquidate.RECORD.fields}


def _zero_price_hint(on: int, is_long: int, mark: int, mmf: int, tav: int, mmr: int) -> int:
    """``risk.compute_zero_price`` of the wires' values (0 when off or without margin)."""
    tav, scale = to_signed(tav), mmr * PPM
    if not on or scale <= 0:
        return 0
    if is_long:
        return max(0, mark * (scale - mmf * tav) // scale)
    return -(-mark * (scale + mmf * tav) // scale)


def _define_zero_price(cs: Builder, slot: SlotVars, on: LC, is_long: LC, mark: LC, mmf: LC) -> LC:
    """The zero price, held to the rules' rounding (the module docstring)."""
    risk, preset = slot.a_risk, slot.preset
    with cs.scope("zero_price"):
        zero = cs.hint("zero", _zero_price_hint, on, is_long, mark, mmf, risk.tav, risk.mmr)
        gap = cs.mul(mark - zero, risk.mmr, "gap_times_mmr")  # (P - Z) * MMR
        signed_gap = 2 * cs.mul(is_long, gap, "long_gap") - gap
        charge = cs.mul(mark, cs.mul(mmf, risk.tav, "mmf_times_tav"), "mark_mmf_tav")
        rem = cs.mul(on, PPM * signed_gap - charge, "remainder")
        bits = RiskWidths.of(preset).margin + FRACTION_BITS
        with cs.scope("not_in_favour"):
            assert_range(cs, rem, bits)
        with cs.scope("within_a_tick"):
            assert_range(cs, cs.mul(on, PPM * risk.mmr - 1, "scale_less_one") - rem, bits)
        with cs.scope("in_range"):
            assert_range(cs, cs.mul(on, zero, "on_zero"), preset.price_bits)
    assert_nonzero_if(cs, on, zero, "zero_price_positive")
    return zero


def _check_health(cs: Builder, slot: SlotVars, on: LC) -> None:
    """``Health.PARTIAL_LIQUIDATION``: ``CMR <= TAV < MMR``."""
    risk, widths = slot.a_risk, RiskWidths.of(slot.preset)
    bits = max(widths.tav, widths.margin)
    with cs.scope("below_mmr"):
        below_mmr = signed_less_than(cs, risk.tav, risk.mmr, bits)
    with cs.scope("below_cmr"):
        below_cmr = signed_less_than(cs, risk.tav, risk.cmr, bits)
    cs.assert_mul(on, 1 - below_mmr, ZERO, "below_maintenance")
    cs.assert_mul(on, below_cmr, ZERO, "not_below_close_out")


def define_liquidate(cs: Builder, slot: SlotVars, on: LC) -> Effect:
    a, record, preset = slot.a, slot.record, slot.preset
    cs.assert_mul(on, 1 - a.exists, ZERO, "account_exists")
    with cs.scope("fee_account"):
        fee = is_equal(cs, a.index, constant(FEE_ACCOUNT))
    cs.assert_mul(on, slot.a_is_rule_only + fee, ZERO, "not_reserved")
    selected = tuple(select_market(cs, slot, on, record.field(*FIELDS["market"])))
    _check_health(cs, slot, on)
    size = record.field(*FIELDS["size"])
    position = pick(cs, selected, [p.size for p in slot.a_positions], "position")
    sign = compute_sign(cs, position, preset.base_amount_bits, "position_sign")
    is_long = sign.positive  # a long sells, a short buys back
    assert_nonzero_if(cs, on, size, "size_positive")
    with cs.scope("size_within_position"):
        assert_range(cs, cs.mul(on, sign.magnitude - size, "room"), preset.base_amount_bits)
    mark = pick(cs, selected, [m.data[DATA_MARK] for m in slot.markets], "mark")
    mmf = pick(cs, selected, [m.params[PARAM_MMF] for m in slot.markets], "mmf")
    zero = _define_zero_price(cs, slot, on, is_long, mark, mmf)
    cs.assert_mul(on, is_epoch_spent(cs, slot), ZERO, "epoch_not_spent")
    taken = {
        name: cs.mul(on, v, f"taker_{name}")
        for name, v in (
            ("account", a.index),
            ("market", record.field(*FIELDS["market"])),
            ("is_ask", is_long),
            ("limit", zero),
            ("remaining", size),
        )
    }
    taker = TakerOrderVars(
        on, rests=ZERO, reduce_only=on, expiry=ZERO, zero_price=taken["limit"], **taken
    )
    maker = cs.mul(on, record.field(*FIELDS["maker"]), "maker")
    filled = cs.mul(on, record.field(*FIELDS["filled"]), "filled")
    return Effect(
        a_open_orders=-cs.mul(on, a.open_orders, "zeroed"),
        a_cancel_epoch=on,
        step=StepVars(on, taker, selected, maker, filled),
    )


def _get_taker(state: State, op: Liquidate) -> Taker | None:
    """The liquidation's taker, or None where the rules refuse it."""
    try:
        return compute_taker(state, op)
    except InvalidTransaction:
        return None


def get_book_key(state: State, op: Liquidate) -> tuple[int, int]:
    """The key of the maker the first step meets (A's own orders included: dead once the
    liquidation cancels them, the step removes them), else any key at the zero price (the
    remainder is cancelled); (0, 0) for a refused liquidation."""
    return get_step_key(state, _get_taker(state, op))


def get_counterparty(state: State, op: Liquidate) -> int | None:
    return get_step_counterparty(state, _get_taker(state, op))


CIRCUIT = OpCircuit(liquidate.DESCRIPTOR, define_liquidate, get_book_key, get_counterparty)
