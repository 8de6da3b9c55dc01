"""Cases of ``test_necessity`` for the deleverage start (``circuits/ops/deleverage.py``, and the
slot's ``fund_cannot_absorb``) and for the freeze of a deleverage round (PROTOCOL 7.4, 8.26: no
operation moves a position in a market whose round is open), checked by the step unit
(``step_unit._check_round``), the takeover (per market moved) and the forced order's refusals.

Each starts from a round opened natively in market 0 before the block (``frozen``: its
``adl_*`` fields set, so its ``adl_round`` lane is the round's digest), as the deleverage
(type 26) leaves it. A step that cannot end its taker (a create order's) is refused there; one
that may (a fired trigger's) ends its taker there, nothing moved.

A start's cases start from ``cases_takeover.crash(8_900, 0)``: account 3 long ``LOTS`` BTC (its
only position) at 8,900, bankrupt, and an empty fund that cannot absorb it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from circuits.gadgets.positions import POSITION_FIELDS
from protocol.accounts import FEE_ACCOUNT
from protocol.ops import deleverage
from protocol.ops.deleverage import Deleverage
from protocol.ops.noop import Noop
from protocol.ops.takeover import Takeover
from protocol.state import State
from sequencer.witness import capture_account
from tests.circuits.cases_claim import second_market
from tests.circuits.cases_takeover import LAST_EPOCH, crash, give
from tests.circuits.cases_takeover import _record as takeover_record
from tests.circuits.cases_trigger import WORST, at_limit, fire, place
from tests.circuits.cases_trigger import record as fired_record
from tests.circuits.forced import compute_positions_root, get_circuit
from tests.circuits.violations import (
    MARK,
    PRESET,
    Violation,
    account_inputs,
    add,
    edit,
    order,
    prepare_all,
    resting,
    shifted,
    started,
    to,
    violation,
    with_unused_byte,
)

ROUND = {"account": 5 + 1, "size": -7, "total": 30, "price": 9_000, "cursor": 0}


def frozen(market: int = 0) -> Callable[[State], None]:
    """A deleverage round of account 5's short of 7 lots opened in ``market`` (set
    natively)."""

    def prepare(state: State) -> None:
        for name, value in ROUND.items():
            state.set_market_data(state.markets[market], f"adl_{name}", value)

    return prepare


def trade() -> Violation:
    """Account 3's resting bid in the frozen market: the rules refuse it (MarketDeleveraging),
    the record the one it would have without the round."""
    return violation(order(), prepare=frozen())


def fired(ends: int = 1, **kw: Any) -> Violation:
    """Account 3's stop-loss fired in the frozen market: the rules end its taker there (the
    step's ``ends_taker``, as the witness builder sets it), nothing moved."""
    inputs = {"slot0/step/ends_taker": ends}
    return violation(
        fire(), fired_record(), prepare=prepare_all(place(), frozen()), inputs=inputs, **kw
    )


def frozen_takeover() -> Violation:
    """Account 3 below its CMR, its BTC (market 0) long in a frozen market, taken over."""
    prepare = prepare_all(crash(), frozen())
    return violation(Takeover(3), takeover_record(crash()), prepare=prepare)


def _fired_as_finished() -> Violation:
    """The frozen trigger's step read as a plain finish (its IOC remainder cancelled, as the
    end leaves it): no end, the round's end not counted."""
    return fired(0, wires={"slot0/step/frozen_ends": to(0)}, book=at_limit(WORST))


FREEZE_CASES: dict[str, Callable[[], Violation]] = {
    "step/market_not_deleveraging": trade,
    "step/round/lane#": lambda: violation(
        order(), prepare=frozen(), wires={"slot0/step/round/lane0": to(0)}
    ),
    "step/frozen_ends": _fired_as_finished,
    "takeover/market#/market_not_deleveraging": frozen_takeover,
}

FREEZE_FAMILIES = {n for n in FREEZE_CASES if "#" in n}

# (witness, the other constraints that refuse it): a frozen step not ended leaves its end at
# the maker at -1 (``ends - rest_fails - frozen_ends``), so the fill unit's maker checks, asked
# of a maker where the book has none, refuse it too
FREEZE_GUARDED: dict[str, tuple[Callable[[], Violation], set[str]]] = {
    "step/frozen_ends_taker": (
        lambda: fired(0),
        {f"step/fill_step/{n}" for n in ("maker_exists", "maker_is_b", "not_self_trade")},
    ),
}


D = "slot0/deleverage/"
START = Deleverage(3, 0)
BANKRUPT = crash(8_900, 0)


def record(op: Deleverage = START) -> bytes:
    return deleverage.RECORD.encode((op.account, op.market))


def start(op: Deleverage = START, **kw: object) -> Violation:
    """``op`` (by default 3's start in BTC) after ``prepare`` (by default the crash)."""
    prepare = kw.pop("prepare", BANKRUPT)
    posted = kw.pop("record", None) or record(op)
    return violation(op, posted, prepare=prepare, **kw)  # type: ignore[arg-type]


def _wire(name: str) -> Violation:
    return start(wires={D + name: add(1)})


def _round_of_3_in_market_1(state: State) -> None:
    """3's round open in market 1 (added), before the block."""
    second_market(state)
    for name, value in {"account": 4, "size": 5, "total": 5, "price": 1_000}.items():
        state.set_market_data(state.markets[1], f"adl_{name}", value)


def _phantom() -> Violation:
    """Account 9 (no leaf, its fields free) with a debt and 10 lots of BTC, forged: its
    position's input and the positions root of it."""
    root = compute_positions_root(PRESET, ((10, 10 * MARK, 0, 0), (0, 0, 0, 0)))
    inputs = {f"slot0/a_positions/market0/{POSITION_FIELDS[0]}": 10}
    inputs[f"slot0/a_positions/market0/{POSITION_FIELDS[1]}"] = 10 * MARK
    return start(
        Deleverage(9, 0), edit_a=edit(collateral=-100_000, positions_root=root), inputs=inputs
    )


def _fee_account_bankrupt(state: State) -> None:
    BANKRUPT(state)
    give(state, FEE_ACCOUNT, 0, 10, MARK)
    state.set_collateral(state.accounts[FEE_ACCOUNT], -200_000)


def _b_is_9() -> dict[str, int]:
    """B an empty leaf (account 9) instead of the fund."""
    state = started()
    BANKRUPT(state)
    return account_inputs("b", capture_account(state, 9))


def _quotient_remainder() -> Violation:
    return start(hints=shifted(D + "price/div_rem/quotient_remainder", lambda v: [v[0], v[1] + 1]))


START_CASES: dict[str, Callable[[], Violation]] = {
    "fund_cannot_absorb": lambda: start(prepare=crash(8_900)),  # the fund holds 10^7
    "deleverage/account_exists": _phantom,
    "deleverage/bankrupt": lambda: start(prepare=crash(9_200, 0)),  # TAV 200,000
    "deleverage/not_excluded": lambda: start(
        Deleverage(FEE_ACCOUNT, 0), prepare=_fee_account_bankrupt
    ),
    "deleverage/fund_is_b": lambda: start(inputs=_b_is_9()),
    "deleverage/size_nonzero": lambda: start(
        Deleverage(3, 1), prepare=prepare_all(second_market, BANKRUPT)
    ),
    "deleverage/no_round": lambda: start(prepare=prepare_all(BANKRUPT, frozen())),
    "deleverage/in_no_round": lambda: start(prepare=prepare_all(BANKRUPT, _round_of_3_in_market_1)),
    "deleverage/lane#": lambda: start(
        prepare=prepare_all(BANKRUPT, frozen()), wires={D + "lane0": to(0)}
    ),
    "deleverage/epoch_not_spent": lambda: start(edit_a=edit(cancel_epoch=LAST_EPOCH)),
    "deleverage/zeroed": lambda: start(
        prepare=prepare_all(resting(), BANKRUPT), wires={D + "zeroed": to(0)}
    ),
    "deleverage/unused_bytes_zero": lambda: start(
        record=with_unused_byte(get_circuit(START), record())
    ),
    "deleverage/price/div_rem/a_is_q_times_b_plus_rem": _quotient_remainder,
    # the last position's round read as another's: the zero price's division instead
    "deleverage/last/last": lambda: start(wires={D + "last/last": to(0)}),
    **{
        f"deleverage/{name}": partial(_wire, name.replace("#", "1" if "apart" in name else "0"))
        for name in (
            *("excluded", "not_fund", "bankrupt_q", "divisor", "numerator", "mark_mmf"),
            *("times_tav", "short_e", "apart#", "magnitude#", "mark#", "mmf#"),
            *("negative#", "size#", "total#", "trial#", "round_account#", "round_lane#"),
            *("market/selected#",),
        )
    },
}

START_FAMILIES = {n for n in START_CASES if "#" in n}


def _noop_negated() -> Violation:
    """A noop (the fund) with the deleverage's selector -1 and a deposit's and a takeover's 1
    (types -26 + 1 + 25 = 0: the record still a noop's)."""
    selectors = {"deleverage": -1, "deposit": 1, "takeover": 1, "noop": 0}
    return violation(Noop(), inputs={f"slot0/type/is_{n}": v for n, v in selectors.items()})


# (witness, the other constraints that refuse it): a market out of the tree or absent reads
# A's size there as 0; a negated selector negates the start's refusals (the fund is no
# bankrupt account with a position), and the two others' refuse the fund too
START_GUARDED: dict[str, tuple[Callable[[], Violation], set[str]]] = {
    "deleverage/market/in_tree": (lambda: start(Deleverage(3, 3)), {"deleverage/size_nonzero"}),
    "deleverage/market/exists1": (lambda: start(Deleverage(3, 1)), {"deleverage/size_nonzero"}),
    "type/is_deleverage_boolean": (
        _noop_negated,
        {
            *("deleverage/bankrupt", "deleverage/in_no_round", "deleverage/not_excluded"),
            *("deleverage/size_nonzero", "deposit/amount_positive", "takeover/below_cmr"),
            "takeover/not_reserved",
        },
    ),
}
