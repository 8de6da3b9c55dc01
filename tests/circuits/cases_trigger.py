"""Cases of ``test_necessity`` for the trigger order (``circuits/ops/trigger_order.py``).

Every case starts from account 3's trigger order 0 in market 0, placed directly into the state:
by default a sell stop-loss of 100 lots at the mark (so it fires) whose worst price is 100 under
it; the book is empty, so its step finishes the IOC taker, cancelled. A dead one (its epoch not
its owner's) is removed without a step. The prover moves one wire (or input), and the rest of
the witness follows, so only the constraint that defines it breaks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from circuits.ops.book_unit import BookWitness
from protocol.markets import TriggerOrder
from protocol.ops import trigger_order
from protocol.ops.noop import Noop
from protocol.ops.trigger_order import FireTrigger
from protocol.orders import add_trigger
from protocol.state import State
from sequencer.witness import capture_account, capture_book
from tests.circuits.cases_claim import _a, _record
from tests.circuits.forced import forced_witness, get_circuit
from tests.circuits.violations import (
    ASK_PRICE,
    FILL_LOTS,
    MARK,
    PRESET,
    TwoSlots,
    Violation,
    add,
    flip,
    prepare_all,
    resting,
    short,
    started,
    to,
    two_asks,
    two_slots,
    violation,
    with_unused_byte,
)

ON = "slot0/trigger_order/"
HIGH, LOW = MARK * 6 // 5, MARK * 4 // 5  # the band's edges (20 %)
WORST = MARK - 100  # the default sell's worst price, inside the band: its limit
TOP = 2**16 - 1  # a buy's worst price above the band (its limit HIGH)


def place(
    account: int = 3,
    is_ask: bool = True,
    is_stop_loss: bool = True,
    trigger: int = MARK,
    worst: int = WORST,
    size: int = 100,
    dead: bool = False,
) -> Callable[[State], None]:
    """``account``'s trigger order in market 0 (the next id), written into the state directly;
    ``dead``: of an epoch that is not its owner's."""

    def prepare(state: State) -> None:
        market, holder = state.markets[0], state.get_account(account)
        epoch = holder.cancel_epoch + int(dead)
        order = TriggerOrder(
            0, market.data.trigger_nonce, account, is_ask, size, trigger, worst, is_stop_loss, epoch
        )
        add_trigger(state, market, holder, order, [])

    return prepare


def fire(trigger_id: int = 0) -> FireTrigger:
    return FireTrigger(0, trigger_id)


def record(owner: int = 3, trigger_id: int = 0, maker: int = 0, filled: int = 0) -> bytes:
    return trigger_order.RECORD.encode((owner, 0, trigger_id, maker, filled))


def at_limit(limit: int, trigger_id: int = 0) -> Callable[[State], BookWitness]:
    """The book unit at ``limit ‖ 0`` in market 0 (where an IOC taker of that limit finishes),
    with trigger ``trigger_id``'s leaf."""
    return lambda state: capture_book(state, 0, limit << PRESET.order_nonce_bits, trigger_id)


def case(
    wires: dict[str, Callable[[int], int]] | None = None,
    prepare: Callable[[State], None] | None = None,
    op: FireTrigger | None = None,
    **kw: Any,
) -> Violation:
    return violation(op or fire(), prepare=prepare or place(), wires=wires or {}, **kw)


def _early(wire: str, change: Callable[[int], int]) -> Violation:
    """The default sell stop-loss with its trigger price 10 under the mark (not reached): fired
    all the same, ``wire`` moved so that ``mark_reached`` holds."""
    return case(
        {ON + wire: change}, place(trigger=MARK - 10), record=record(), book=at_limit(WORST)
    )


def _limit_moved(wire: str, change: Callable[[int], int], is_ask: bool, edge: int) -> Violation:
    """A trigger order whose worst price is past the band (its limit the band's ``edge``),
    the limit moved one tick by ``wire``: the step at the moved limit."""
    worst = 1 if is_ask else TOP
    stop = place(is_ask=is_ask, worst=worst, is_stop_loss=is_ask)  # fires at the mark
    return case({ON + wire: change}, stop, book=at_limit(edge + (1 if is_ask else -1)))


def _other_owner() -> Violation:
    """Account 4 fires account 3's trigger order (4 has one of its own, id 1, to count down)."""
    scratch = started()
    prepare_all(place(), place(account=4))(scratch)
    a = capture_account(scratch, 4)
    witness = forced_witness(scratch, fire(), record(owner=4), a)
    return Violation(scratch, witness)


def _other_id() -> Violation:
    """The record names trigger 1; the leaf and path opened are trigger 0's (alike)."""
    return case(
        {ON + "trigger_id": to(0)},
        prepare_all(place(), place()),
        fire(1),
        book=at_limit(WORST, trigger_id=0),
    )


def _taker_account() -> TwoSlots:
    """3's buy stop-loss of 150 takes account 4's first ask of 100 in its step; the taker
    moved to account 5, whose claim takes 50 of the second."""
    buy = place(account=3, is_ask=False, trigger=MARK, worst=ASK_PRICE, size=150)
    return two_slots(
        fire(),  # type: ignore[arg-type]
        prepare_all(two_asks, short(3, 200), short(5, 100), buy),
        0,
        {ON + "taker_account": to(5)},
        lambda s: _a(s, 5) | _record(5, 0, 4, 50),
        claimer=3,
    )


def _filling(maker: int, filled: int, wires: dict[str, Callable[[int], int]]) -> Violation:
    """3's buy stop-loss of ``FILL_LOTS`` at worst ``ASK_PRICE`` (3 short 100) taking account
    ``maker``'s ask, its record naming account 4 and ``filled``."""
    buy = place(is_ask=False, worst=ASK_PRICE, size=FILL_LOTS)
    return case(
        wires,
        prepare_all(short(3, 100), resting(account=maker, price=ASK_PRICE), buy),
        record=record(maker=4, filled=filled),
    )


TRIGGER_CASES: dict[str, Callable[[], Violation | TwoSlots]] = {
    # another trigger's leaf opened for the record's id
    "trigger_order/trigger_id": _other_id,
    # the leaf opened is not the tree's (its size moved): the book unit's trigger path
    "book/trigger_root_matches": lambda: case(inputs={"slot0/book/trigger_size": 99}),
    "trigger_order/a_is_owner": _other_owner,
    # a live trigger removed as dead (no step, its count kept), or a dead one filling
    "trigger_order/fired": lambda: case({ON + "fired": to(0)}),
    "trigger_order/dead_fills_nothing": lambda: case(
        prepare=place(dead=True), record=record(maker=4, filled=10)
    ),
    # the trigger root kept: the leaf stays in the tree
    "book/trigger_change": lambda: case({"slot0/book/trigger_change": to(0)}),
    # a firing before the mark reaches the trigger price, each step of the comparison moved
    "trigger_order/mark_reached/both": lambda: _early("mark_reached/both", to(0)),
    "trigger_order/mark_reached/gap": lambda: _early("mark_reached/gap", to(0)),
    "trigger_order/mark_reached/reached": lambda: _early("mark_reached/reached", to(0)),
    "trigger_order/market/mark#": lambda: _early("market/mark0", to(MARK - 10)),
    # the limit moved past the clamp, or the band it is clamped into
    "trigger_order/limit/select": lambda: _limit_moved("limit/select", add(-1), False, HIGH),
    "trigger_order/limit/above_high/select": lambda: _limit_moved(
        "limit/above_high/select", add(-1), False, HIGH
    ),
    "trigger_order/limit/below_low/select": lambda: _limit_moved(
        "limit/below_low/select", add(1), True, LOW
    ),
    "trigger_order/band/high_notional": lambda: _limit_moved(
        "band/high_notional", add(-1), False, HIGH
    ),
    "trigger_order/band/low_notional": lambda: _limit_moved("band/low_notional", add(1), True, LOW),
    "trigger_order/market/band#": lambda: _limit_moved("market/band0", add(-1), False, HIGH),
    "trigger_order/market/index#": lambda: _limit_moved("market/index0", add(1), True, LOW),
    # the step handed no market; the trigger order's market read as none
    "trigger_order/step_market#": lambda: case({ON + "step_market0": to(0)}),
    "trigger_order/market/selected#": lambda: case({ON + "market/selected0": to(0)}),
    # the taker at another limit, size or side (cancelled all the same)
    "trigger_order/taker_limit": lambda: case(
        {ON + "taker_limit": add(1)}, book=at_limit(WORST + 1)
    ),
    "trigger_order/taker_remaining": lambda: case({ON + "taker_remaining": add(1)}),
    "trigger_order/taker_is_ask": lambda: case({ON + "taker_is_ask": flip}),
    "trigger_order/taker_account": _taker_account,
    # the step told of another maker, or another size, than the record names
    "trigger_order/maker": lambda: _filling(5, FILL_LOTS, {ON + "maker": to(5)}),
    "trigger_order/filled": lambda: _filling(4, 30, {ON + "filled": to(FILL_LOTS)}),
    "trigger_order/unused_bytes_zero": lambda: case(
        record=with_unused_byte(get_circuit(fire()), record())
    ),
}


def _dead_elsewhere(market: int) -> Violation:
    """Account 3's dead trigger order of market 0 removed under a record naming ``market``."""
    scratch = started()
    place(dead=True)(scratch)
    rec = trigger_order.RECORD.encode((3, market, 0, 0, 0))
    book = capture_book(scratch, 0, 0, 0)
    a = capture_account(scratch, 3)
    witness = forced_witness(scratch, FireTrigger(market, 0), rec, a, book)
    return Violation(scratch, witness)


def _selectors(**values: int) -> dict[str, int]:
    return {f"slot0/type/is_{name}": v for name, v in values.items()}


# (witness, the other constraints that refuse it): a record naming a market outside the tree or
# absent reads the book unit's (market 0's) trigger tree; the taker's market moved leaves the
# book unit's market the record's, not the taker's; a selector of -1 (the fund's dead trigger
# order, no step) reads market 0's index negated, which the band's division refuses
TRIGGER_GUARDED = {
    "trigger_order/market/in_tree": (
        lambda: _dead_elsewhere(2),
        {"trigger_order/book_is_record_market"},
    ),
    "trigger_order/market/exists1": (
        lambda: _dead_elsewhere(1),
        {"trigger_order/book_is_record_market"},
    ),
    "trigger_order/book_is_record_market": (
        lambda: _dead_elsewhere(1),
        {"trigger_order/market/exists1"},
    ),
    "trigger_order/taker_market": (
        lambda: case({ON + "taker_market": to(1)}),
        {"step/book_market_is_takers"},
    ),
    "type/is_trigger_order_boolean": (
        lambda: violation(
            Noop(),
            prepare=place(account=0, dead=True),
            book=lambda state: capture_book(state, 0, 0, 0),
            inputs=_selectors(trigger_order=-1, noop=1, forced_withdraw=1),
        ),
        {"trigger_order/band/low/quotient/range/bits_sum"},
    ),
}

TRIGGER_FAMILIES = {
    *(f"trigger_order/market/{n}#" for n in ("mark", "band", "index", "selected")),
    "trigger_order/step_market#",
}
