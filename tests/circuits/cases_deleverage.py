"""Cases of ``test_necessity`` for the deleverage round's operations (``circuits/ops/
deleverage_step.py``, ``deleverage_end.py``) and their shared units (``circuits/ops/
adl_round.py``: the round opened, ``round/*``; the lots moved, ``round_move/*``): for each of
their named constraints, a witness that it alone refuses.

Every case starts from the round of ``ROUND``, opened natively: account 3 long 5 BTC lots,
bankrupt (TAV -10,000 at the crashed mark of 6,000); the fund long 1 (its TAV negative too, so
no takeover is possible); 4 short 2 and 5 short 4 (``S = 6``). The step of 5 takes
``floor(5·4/6) = 3`` lots at the bankruptcy price of 8,000; ``SERVED`` has both shorts served
(``seen = S``, 1 lot left), for the end. A refusal of the rules is a state or a record the
rules refuse; a product is moved where its consumers stay satisfied, the record following the
slot's wires (``_follow``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

from circuits.gadgets.positions import POSITION_FIELDS
from circuits.r1cs import HintFn
from protocol.accounts import INSURANCE_FUND
from protocol.block import compute_record, process_operation
from protocol.commitment import compute_round_digest
from protocol.events import Deleveraged
from protocol.field import R, to_signed
from protocol.markets import ADL_FIELDS
from protocol.ops import deleverage_step
from protocol.ops.deleverage import Deleverage
from protocol.ops.deleverage_end import DeleverageEnd
from protocol.ops.deleverage_step import DeleverageStep
from protocol.ops.noop import Noop
from protocol.risk import compute_risk
from protocol.state import State
from sequencer.witness import capture_account, capture_positions
from tests.circuits.cases_takeover import give
from tests.circuits.forced import get_circuit
from tests.circuits.violations import (
    MARK,
    Read,
    Violation,
    account_inputs,
    add,
    shifted,
    started,
    to,
    violation,
    with_unused_byte,
)
from tests.protocol.helpers import BTC

STEP, END = "slot0/deleverage_step/", "slot0/deleverage_end/"
CRASH = 6_000


def opened(state: State) -> None:
    """``ROUND``: the round of 3 opened (the module docstring)."""
    for account, size in ((3, 5), (INSURANCE_FUND, 1), (4, -2), (5, -4)):
        give(state, account, BTC, size, MARK)
    state.set_market_data(state.markets[BTC], "mark_price", CRASH)
    holder = state.accounts[3]
    tav = compute_risk(holder, state.markets).tav
    state.set_collateral(holder, holder.collateral - 10_000 - tav)
    process_operation(state, Deleverage(3, BTC))


def served(state: State) -> None:
    """``SERVED``: both shorts served (``seen = S``)."""
    opened(state)
    for account in (4, 5):
        process_operation(state, DeleverageStep(BTC, account))


def step_record(account: int, size: int) -> bytes:
    event = Deleveraged(3, account, BTC, size, 0)
    return compute_record(DeleverageStep(BTC, account), (event,))


def end_record(size: int, bankrupt: int = 3) -> bytes:
    event = Deleveraged(bankrupt, INSURANCE_FUND, BTC, size, 0)
    return compute_record(DeleverageEnd(BTC), (event,))


def _follow_step(account: int) -> Callable[[Read], bytes]:
    """The step's record of the slot's wires: its size the share less the lot kept."""

    def record(read: Read) -> bytes:
        q = to_signed(read(f"{STEP}signed_lots") % R)  # s > 0: the lots are q
        return step_record(account, q)

    return record


def _step_wire(name: str, account: int = 5, follow: bool = True) -> Violation:
    """5's step with the wire ``name`` one more, the record following the slot."""
    return violation(
        DeleverageStep(BTC, account),
        prepare=opened,
        wires={STEP + name: add(1)},
        record_from=_follow_step(account) if follow else None,
    )


def _end_wire(name: str) -> Violation:
    return violation(DeleverageEnd(BTC), prepare=served, wires={END + name: add(1)})


def _move_wire(name: str) -> Violation:
    return violation(
        DeleverageStep(BTC, 5),
        prepare=opened,
        wires={"slot0/round_move/" + name: add(1)},
        record_from=_follow_step(5),
    )


def _family(name: str) -> str:
    """A case standing for the constraints alike but for their market's digits."""
    return re.sub(r"\d+", "#", name)


MARKET = deleverage_step.RECORD.offset("market")
STEP_WIRES = (
    *("exact", "held0", "fund_round/capped", "rounded_up"),
    *("keep/owed0", "keep/paid", "keep/whole_last", "keep/keeps", "share_lots", "signed_lots"),
    *("moves", "lots", "lots_magnitude", "sold", "step_lane", "step_lane0", "after_cursor/ahead"),
)
END_WIRES = (
    *("end_lane", "end_lane0", "end_account", "end_account0", "long_rest", "lots"),
    *("lots_magnitude", "moves/moves"),
    *("moves/some", "sold"),
)
MOVE_WIRES = (
    *("index0", "open_interest0", "quote"),
    *(
        f"{side}_move/{name}"
        for side in ("a", "b")
        for name in (
            *("entry_change0", "old_entry_quote0", "old_funding_index0", "old_size0", "owed0"),
            *("settled", "size_change0", "size_magnitude0", "size_negative0", "size_signed"),
            *("snapshot", "snapshot_change0"),
        )
    ),
)

DELEVERAGE_CASES: dict[str, Callable[[], Violation]] = {
    **{_family(f"deleverage_step/{n}"): partial(_step_wire, n) for n in STEP_WIRES},
    **{_family(f"deleverage_end/{n}"): partial(_end_wire, n) for n in END_WIRES},
    **{_family(f"round_move/{n}"): partial(_move_wire, n) for n in MOVE_WIRES},
}


def _state(prepare: Callable[[State], None]) -> State:
    state = started()
    prepare(state)
    return state


def _positions(side: str, state: State, index: int) -> dict[str, int]:
    """``side``'s position inputs as ``index``'s in ``state``."""
    inputs = {}
    for m, position in enumerate(capture_positions(state, index)):
        for name, v in zip(POSITION_FIELDS, position, strict=True):
            inputs[f"slot0/{side}_positions/market{m}/{name}"] = v % R
    return inputs


def _as_a(index: int, prepare: Callable[[State], None], siblings: bool = True) -> dict[str, int]:
    """A's inputs (leaf, positions, and its path unless not ``siblings``) as ``index``'s after
    ``prepare``."""
    state = _state(prepare)
    fields = account_inputs("a", capture_account(state, index))
    if not siblings:
        fields = {k: v for k, v in fields.items() if "/sibling" not in k}
    return fields | _positions("a", state, index)


def _set_round(name: str, value: int) -> Callable[[State], None]:
    def prepare(state: State) -> None:
        opened(state)
        state.set_market_data(state.markets[BTC], name, value)

    return prepare


def _flat_five(state: State) -> None:
    """5 flat: its short of 4 bought back (natively, open interest kept)."""
    opened(state)
    give(state, 5, BTC, 4, CRASH)


def _zero_size_negative() -> dict[str, HintFn]:
    """The risk unit's sign of A's zero size in BTC hinted negative (free at zero)."""
    name = "slot0/a_risk/risk/market0/magnitude/sign_and_magnitude"
    return shifted(name, lambda v: [1, v[1]])


def _remainder_plus_one() -> dict[str, HintFn]:
    return shifted(f"{STEP}div_rem/quotient_remainder", lambda v: [v[0], v[1] + 1])


# 3's step, as 5's but A account 9 (no leaf: its fields free) holding 5's short
_ABSENT = {"slot0/a/index": 9, "slot0/a/exists": 0}


DELEVERAGE_CASES |= {
    "deleverage_step/account_exists": lambda: violation(
        DeleverageStep(BTC, 9),
        step_record(9, 3),
        prepare=opened,
        inputs={**_as_a(5, opened, siblings=False), **_ABSENT},
    ),
    "deleverage_step/bankrupt_is_b": lambda: violation(
        DeleverageStep(BTC, 5), prepare=opened, counterparty=4, record_from=_follow_step(5)
    ),
    # the round of account 9 (no leaf)
    "deleverage_step/bankrupt_exists": lambda: violation(
        DeleverageStep(BTC, 5),
        step_record(5, 3),
        prepare=_set_round("adl_account", 10),
        record_from=_follow_step(5),
    ),
    # the round of 5 itself (its own short against its recorded long)
    "deleverage_step/not_bankrupt": lambda: violation(
        DeleverageStep(BTC, 5), prepare=_set_round("adl_account", 6), record_from=_follow_step(5)
    ),
    "deleverage_step/holds_position": lambda: violation(
        DeleverageStep(BTC, 5), step_record(5, 0), prepare=_flat_five, hints=_zero_size_negative()
    ),
    "deleverage_step/opposite_side": lambda: violation(
        DeleverageStep(BTC, INSURANCE_FUND), step_record(INSURANCE_FUND, 0), prepare=opened
    ),
    "deleverage_step/size_field": lambda: violation(
        DeleverageStep(BTC, 5), step_record(5, 4), prepare=opened
    ),
    "deleverage_step/signed_lots": lambda: _step_wire("signed_lots", follow=False),
    "deleverage_step/unused_bytes_zero": lambda: violation(
        DeleverageStep(BTC, 5),
        with_unused_byte(get_circuit(DeleverageStep(BTC, 5)), step_record(5, 3)),
        prepare=opened,
    ),
    "deleverage_step/div_rem/a_is_q_times_b_plus_rem": lambda: violation(
        DeleverageStep(BTC, 5), step_record(5, 3), prepare=opened, hints=_remainder_plus_one()
    ),
    "deleverage_end/bankrupt_is_a": lambda: violation(
        DeleverageEnd(BTC),
        end_record(1, bankrupt=4),
        prepare=served,
        inputs=_as_a(4, served),
    ),
    "deleverage_end/fund_is_b": lambda: violation(
        DeleverageEnd(BTC), end_record(1), prepare=served, counterparty=4
    ),
    "deleverage_end/all_served": lambda: violation(
        DeleverageEnd(BTC), end_record(2), prepare=_one_served
    ),
    "deleverage_end/size_field": lambda: violation(
        DeleverageEnd(BTC), end_record(2), prepare=served
    ),
    "deleverage_end/unused_bytes_zero": lambda: violation(
        DeleverageEnd(BTC),
        with_unused_byte(get_circuit(DeleverageEnd(BTC)), end_record(1)),
        prepare=served,
    ),
    "round/round_matches": lambda: violation(
        DeleverageStep(BTC, 5),
        prepare=opened,
        inputs={"slot0/round/adl_seen": 1},
        record_from=_follow_step(5),
    ),
}


def _one_served(state: State) -> None:
    """5 served only: ``seen`` 4 of 6, 2 lots left."""
    opened(state)
    process_operation(state, DeleverageStep(BTC, 5))


def _lane_moved() -> Violation:
    """BTC's lane one more in the market's fields, its pick kept at the round's digest."""
    lane = compute_round_digest(_state(opened).markets[BTC].data) + 1
    return violation(
        DeleverageStep(BTC, 5),
        prepare=opened,
        inputs={"markets/market0/adl_round": lane % R},
        wires={"slot0/round/lane0": add(-1)},
        record_from=_follow_step(5),
    )


DELEVERAGE_FAMILIES = {n for n in DELEVERAGE_CASES if "#" in n}


def _round_inputs() -> dict[str, int]:
    """The round's fields as ``ROUND`` has them (for a record naming another market)."""
    data = _state(opened).markets[BTC].data
    return {f"slot0/round/{n}": getattr(data, n) % R for n in ADL_FIELDS}


def _market(market: int) -> Violation:
    """5's step with the record's market ``market`` (out of the tree, or absent), the round's
    fields and B as BTC's round has them."""
    record = bytearray(step_record(5, 3))
    start, length = MARKET
    record[start : start + length] = market.to_bytes(length, "big")
    return violation(
        DeleverageStep(BTC, 5),
        bytes(record),
        prepare=opened,
        inputs=_round_inputs(),
        counterparty=3,
        record_from=_with_market(market),
    )


def _with_market(market: int) -> Callable[[Read], bytes]:
    def record(read: Read) -> bytes:
        out = bytearray(_follow_step(5)(read))
        start, length = MARKET
        out[start : start + length] = market.to_bytes(length, "big")
        return bytes(out)

    return record


# no market selected: the lane and A's position read 0 there
_NO_MARKET = {
    *("round/round_matches", "deleverage_step/holds_position", "deleverage_step/opposite_side"),
}

DELEVERAGE_GUARDED: dict[str, tuple[Callable[[], Violation], set[str]]] = {
    # a market's lane moved has no round behind it: the block header's opening of every lane
    # (``gadgets.commitment.open_round_account``) refuses it too
    "round/lane0": (_lane_moved, {"markets/market0/round/round_opens"}),
    # A's sign picked is the opposite of s's wherever A holds a position: another breaks the
    # side check
    "deleverage_step/held_negative0": (
        lambda: _step_wire("held_negative0"),
        {"deleverage_step/opposite_side"},
    ),
    "round/market/in_tree": (lambda: _market(7), _NO_MARKET),
    "round/market/exists1": (lambda: _market(1), _NO_MARKET),
    "round/market/selected0": (
        lambda: violation(
            DeleverageStep(BTC, 5),
            prepare=opened,
            wires={"slot0/round/market/selected0": to(0)},
            record_from=_follow_step(5),
        ),
        _NO_MARKET,
    ),
}


def _selectors(**values: int) -> dict[str, int]:
    return {f"slot0/type/is_{name}": v for name, v in values.items()}


# a noop (account 0, the fund) whose selectors sum to 1 through one round operation's -1 and
# the other's 1: the round's market none (their selectors' sum 0), each refuses the fund as its
# accounts and A's empty BTC position
_NEGATED = {
    *("deleverage_step/bankrupt_is_b", "deleverage_step/not_bankrupt"),
    *("deleverage_step/holds_position", "deleverage_step/opposite_side"),
    "deleverage_end/bankrupt_is_a",
}
DELEVERAGE_GUARDED |= {
    f"type/is_deleverage_{name}_boolean": (
        partial(
            violation, Noop(), inputs=_selectors(**{f"deleverage_{name}": -1, other: 1, "noop": 1})
        ),
        _NEGATED | more,
    )
    for name, other, more in (
        ("step", "deleverage_end", set()),
        # the step on: the round's S (0 here) its divisor
        ("end", "deleverage_step", {"deleverage_step/div_rem/remainder_lt_divisor/range/bits_sum"}),
    )
}
