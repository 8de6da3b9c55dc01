"""Deleverage end (type 30, sequencer): the twin of ``protocol/ops/deleverage_end.py``
(docs/PROTOCOL.md 7.4, 8.30), in a heavy slot whose A is the round's bankrupt account
(``bankrupt_is_a``) and B the insurance fund (``fund_is_b``).

Record: account (1..6, a result: the bankrupt account), market (7..8) | size (9..14). The slot
opens the market's round (``circuits/ops/adl_round.py``: ``round_matches``;
open, since its account is A's index plus 1).
Every holder was served: ``seen = S`` (``all_served``). The remainder ``|s| - moved`` is the
record's size (``size_field``) and moves from A to B at the round's price (``apply_round_move``,
A giving: B takes them), nothing where it is 0 or A is the fund itself; the lane becomes 0.
"""

from __future__ import annotations

from circuits.gadgets.equality import is_equal, is_zero
from circuits.ops.adl_round import get_round_account, rewrite_lane
from circuits.ops.common import Effect, OpCircuit, RoundMove, SlotVars
from circuits.r1cs import ZERO, Builder, LinearCombination, constant
from protocol.accounts import INSURANCE_FUND
from protocol.ops import deleverage_end
from protocol.ops.deleverage_end import DeleverageEnd
from protocol.state import State

LC = LinearCombination
FIELDS = {f.name: deleverage_end.RECORD.offset(f.name) for f in deleverage_end.RECORD.fields}


def define_deleverage_end(cs: Builder, slot: SlotVars, on: LC) -> Effect:
    a, b, r = slot.a, slot.b, slot.get_round()
    cs.assert_mul(on, a.index + 1 - r.account, ZERO, "bankrupt_is_a")
    cs.assert_mul(on, b.index - INSURANCE_FUND, ZERO, "fund_is_b")
    cs.assert_mul(on, r.seen - r.total, ZERO, "all_served")
    rest = r.size_sign.magnitude - r.moved
    cs.assert_mul(on, slot.record.field(*FIELDS["size"]) - rest, ZERO, "size_field")
    with cs.scope("moves"):
        is_fund = is_equal(cs, a.index, constant(INSURANCE_FUND))
        moves = cs.mul(cs.mul(on, 1 - is_zero(cs, rest), "some"), 1 - is_fund, "moves")
    # A gives its lots: the opposite of s's sign
    lots = cs.mul(moves, rest - 2 * cs.mul(1 - r.size_sign.negative, rest, "long_rest"), "lots")
    move = RoundMove(
        lots,
        cs.mul(moves, rest, "lots_magnitude"),
        cs.mul(moves, 1 - r.size_sign.negative, "sold"),
        moves,
    )
    # the round closes: its lane becomes 0 and the block's running round account of the market
    # forgets A (``deleverage``'s ``in_no_round`` reads it)
    forgotten = cs.mul(on, r.account, "end_account")
    accounts = tuple(-cs.mul(s, forgotten, f"end_account{m}") for m, s in enumerate(r.selected))
    return Effect(
        round_lanes=rewrite_lane(cs, r, on, ZERO, "end"), round_accounts=accounts, round_move=move
    )


def get_bankrupt(state: State, op: DeleverageEnd) -> int | None:
    """A: the bankrupt account of the market's open round (None without one)."""
    return get_round_account(state, op.market)


def get_fund(state: State, op: DeleverageEnd) -> int:
    """B: the insurance fund, which takes the remainder."""
    return INSURANCE_FUND


CIRCUIT = OpCircuit(
    deleverage_end.DESCRIPTOR,
    define_deleverage_end,
    get_counterparty=get_fund,
    get_account=get_bankrupt,
)
