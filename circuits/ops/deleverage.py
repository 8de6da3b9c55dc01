"""Deleverage (type 26, sequencer): the twin of ``protocol/ops/deleverage.py`` (docs/PROTOCOL.md
7.4, 8.26, docs/ADL.md), in a heavy slot whose A is the bankrupt account and B the insurance
fund (``fund_is_b``; B is A when A is the fund).

Record: account (1..6), market (7..8). Proven (each a refusal of the rules):

- A exists (``account_exists``) and is neither the fee account nor the funding pool
  (``not_excluded``; the fund itself may be deleveraged); the market is in the tree and exists
  (``select_market``);
- A is bankrupt, ``TAV < 0`` (``bankrupt``, A's risk unit), and, unless A is the fund, the fund
  cannot absorb it: the slot's ``fund_cannot_absorb`` on B's risk after the takeover would
  leave it (A's positions added to B's as trial positions, nothing written; the TAV the sum of
  both, as ``liquidation.compute_takeover_risk``);
- A holds ``s != 0`` lots in the market (``size_nonzero``), whose round lane is 0 (``no_round``:
  none open there), and A is in no other market's round (``in_no_round``: the block's running
  round accounts, opened once per block, none ``A + 1``).

Then A's orders are cancelled lazily, as a cancel all's (``epoch_not_spent``, ``zeroed``), and
the market's round is written (``write_round``): ``sponge([A + 1, s, S, price, 0, 0, 0],
DOMAIN_ADL_ROUND)`` into its lane, ``A + 1`` into its running round account. ``S`` is the
market's open interest; the price ``mark + e`` for a long and ``mark - e`` for a short, with one
signed floor division: the zero price's ``e = floor(-mark * mmf * TAV / (MMR * 1e6))``
(``risk.compute_zero_price``, rounded against A; a long's clamp at 0 never binds at ``TAV <
0``), or, when the market is A's last position (the other markets' magnitudes sum to 0:
``last``), the bankruptcy price's ``e = -floor(TAV / |s|)`` (``compute_bankruptcy_price``, not
clamped).
"""

from __future__ import annotations

from circuits.gadgets.commitment import compute_round_digest
from circuits.gadgets.compare import signed_less_than
from circuits.gadgets.division import floor_div
from circuits.gadgets.equality import is_equal, is_zero
from circuits.gadgets.positions import PositionLeafVars
from circuits.gadgets.risk import FRACTION_BITS, RiskWidths
from circuits.ops.cancel_all import is_epoch_spent
from circuits.ops.common import (
    DATA_MARK,
    DATA_OPEN_INTEREST,
    DATA_ROUND,
    PARAM_MMF,
    Effect,
    OpCircuit,
    SlotVars,
    assert_nonzero_if,
    pick,
    select_market,
    write_round,
)
from circuits.r1cs import ZERO, Builder, LinearCombination, constant, weighted_sum
from protocol.accounts import FEE_ACCOUNT, FUNDING_POOL, INSURANCE_FUND
from protocol.ops import deleverage
from protocol.ops.deleverage import Deleverage
from protocol.state import State
from protocol.types import PPM

LC = LinearCombination
MARKET = deleverage.RECORD.offset("market")


def _check_account(cs: Builder, slot: SlotVars, on: LC) -> LC:
    """A exists, is not the fee account or the funding pool, is bankrupt; B is the fund.
    Returns 1 when A is another account than the fund (whom the fund must not absorb)."""
    a, risk = slot.a, slot.a_risk
    cs.assert_mul(on, 1 - a.exists, ZERO, "account_exists")
    excluded = cs.mul(a.index - FEE_ACCOUNT, a.index - FUNDING_POOL, "excluded")
    assert_nonzero_if(cs, on, excluded, "not_excluded")
    cs.assert_mul(on, slot.b.index - INSURANCE_FUND, ZERO, "fund_is_b")
    widths = RiskWidths.of(slot.preset)
    with cs.scope("tav"):
        below = signed_less_than(cs, risk.tav, ZERO, widths.tav)
    cs.assert_mul(on, 1 - below, ZERO, "bankrupt")
    with cs.scope("is_fund"):
        is_fund = is_equal(cs, a.index, constant(INSURANCE_FUND))
    return cs.mul(on, 1 - is_fund, "not_fund")


def _check_rounds(cs: Builder, slot: SlotVars, on: LC, selected: list[LC]) -> None:
    """No round open in the market (its lane 0), and A in none (no running round account is
    ``A + 1``)."""
    lane = pick(cs, selected, [m.data[DATA_ROUND] for m in slot.markets], "lane")
    cs.assert_equal(lane, ZERO, "no_round")
    product: LC = constant(1)
    for m, account in enumerate(slot.round_accounts):
        product = cs.mul(product, account - slot.a.index - 1, f"apart{m}")
    assert_nonzero_if(cs, on, product, "in_no_round")


def _define_price(cs: Builder, slot: SlotVars, on: LC, selected: list[LC]) -> LC:
    """The round's price: the zero price, or the bankruptcy price for A's last position."""
    risk, preset, markets = slot.a_risk, slot.preset, slot.markets
    widths = RiskWidths.of(preset)
    magnitudes = [magnitude for _, magnitude in risk.signs]
    negative = pick(cs, selected, [n for n, _ in risk.signs], "negative")
    magnitude = pick(cs, selected, magnitudes, "magnitude")
    mark = pick(cs, selected, [m.data[DATA_MARK] for m in markets], "mark")
    mmf = pick(cs, selected, [m.params[PARAM_MMF] for m in markets], "mmf")
    with cs.scope("last"):
        others = weighted_sum([1] * len(magnitudes), magnitudes) - magnitude
        last = cs.mul(on, is_zero(cs, others), "last")
    zero_numerator = -cs.mul(cs.mul(mark, mmf, "mark_mmf"), risk.tav, "times_tav")
    numerator = zero_numerator + cs.mul(last, risk.tav - zero_numerator, "numerator")
    scale = risk.mmr * PPM
    divisor = scale + cs.mul(last, magnitude - scale, "divisor") + 1 - on
    with cs.scope("price"):
        q = floor_div(cs, numerator, divisor, widths.tav + 1, widths.margin + FRACTION_BITS)
    e = q - 2 * cs.mul(last, q, "bankrupt_q")
    return mark + e - 2 * cs.mul(negative, e, "short_e")


def define_deleverage(cs: Builder, slot: SlotVars, on: LC) -> Effect:
    assert slot.b_risk is not None  # a heavy slot's
    a = slot.a
    not_fund = _check_account(cs, slot, on)
    selected = select_market(cs, slot, on, slot.record.field(*MARKET))
    size = pick(cs, selected, [p.size for p in slot.a_positions], "size")
    assert_nonzero_if(cs, on, size, "size_nonzero")
    _check_rounds(cs, slot, on, selected)
    cs.assert_mul(on, is_epoch_spent(cs, slot), ZERO, "epoch_not_spent")
    price = _define_price(cs, slot, on, selected)
    total = pick(cs, selected, [m.data[DATA_OPEN_INTEREST] for m in slot.markets], "total")
    account = a.index + 1
    with cs.scope("round"):
        digest = compute_round_digest(cs, (account, size, total, price, ZERO, ZERO, ZERO))
    lanes, accounts = write_round(cs, selected, digest, account)
    # the fund's positions as a takeover would leave them, for its risk after only
    trial = tuple(
        PositionLeafVars(cs.mul(not_fund, p.size, f"trial{m}"), ZERO, ZERO, ZERO)
        for m, p in enumerate(slot.a_positions)
    )
    return Effect(
        a_open_orders=-cs.mul(on, a.open_orders, "zeroed"),
        a_cancel_epoch=on,
        b_trial_positions=trial,
        b_cannot_absorb_a=not_fund,
        round_lanes=lanes,
        round_accounts=accounts,
    )


def get_fund(state: State, op: Deleverage) -> int:
    """B: the insurance fund, whose risk after a takeover of A is checked."""
    return INSURANCE_FUND


CIRCUIT = OpCircuit(deleverage.DESCRIPTOR, define_deleverage, get_counterparty=get_fund)
