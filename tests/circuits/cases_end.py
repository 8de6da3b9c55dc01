"""Cases of ``test_necessity`` for a claim's step that ends its taker on the taker's own failure
(``circuits/ops/step_unit.py``'s ``ends_taker``, ``rest_fails`` and ``_define_rest``;
``circuits/ops/fill_unit.py``'s ``end/*``, ``open_interest/over/*`` and the taker's side of
``trial/*``; the slot's ``a_risk_fails``), and for a bid resting at nonce 0.

Only a claim may end its taker, so most cases are two-slot blocks (``violations.two_slots``):
slot 0 is account 3's bid of 150 at ``ASK_PRICE``, which takes account 4's first ask of 100 and
leaves 50 pending, and slot 1 its claim. The cheats start from the rules' block in which the
claim fills 50 of 4's second ask (``FILLS``) or rests the 50 (``RESTS``), and end the taker
there instead (``_ended``: ``ends_taker`` set, the claim's record naming no maker and no size):
the remainder cancelled where the rules fill it or rest it. Each constraint is what would let
the prover claim a failure that is not there: A's rule after the tried fill (which passes), the
open-interest cap (not reached), A's positions after the trial (misreported so that A's rule
fails), a reason for the rest to fail (3 has the margin and the room).

Two cases are one-slot blocks: a create order that ends its taker (an order the rules refuse,
its fill taking open interest past the cap, spent as if it had run) and a bid resting at nonce
0 (``OrderBookFull``: the side's counter would wrap to -1).

``END_GUARDED``: the bits' booleans, ``rest_fails_rests`` and ``end/maker_kept`` are implied by
other constraints (each witness names them); ``rest_fails_ends`` is refused in a two-slot
block only because the taker it keeps pending has no slot left: with a third heavy slot its
claim could go on, so it is needed there, but it has no one-constraint witness here.
``END_BLOCKS``: the rules' blocks the guarded witnesses start from."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace

from protocol.block import process_operation
from protocol.commitment import update_state_root
from protocol.field import R
from protocol.ops import claim
from protocol.ops.create_order import CreateOrder, TimeInForce
from protocol.orders import rest_order
from protocol.state import State
from sequencer.witness import capture_account, capture_book, capture_positions
from tests.circuits.cases_cancel import scaled_inverse
from tests.circuits.test_block import started_block
from tests.circuits.tracing import WireFn
from tests.circuits.violations import (
    ASK_PRICE,
    MARK,
    POSITION_FIELDS,
    PRESET,
    TwoSlots,
    Violation,
    account_inputs,
    as_slot,
    book_inputs,
    fill,
    get_two_slot_state,
    key_book,
    order,
    prepare_all,
    record_inputs,
    resting,
    short,
    to,
    two_asks,
    two_slot_order,
    two_slots,
    violation,
)
from tests.protocol.helpers import MARKET

STEP = "slot1/step/"
FILL = "slot1/step/fill_step/"
TOP = (1 << PRESET.order_nonce_bits) - 1  # the first nonce of an empty bid side
REST_KEY = ASK_PRICE << PRESET.order_nonce_bits | TOP  # a first bid at ASK_PRICE

FILLS = two_asks  # the claim fills 50 of 4's second ask
RESTS = resting(account=4)  # 4's one ask: the claim rests the 50 at ASK_PRICE


def _rests(
    account: int, lots: int, is_ask: bool = True, reduce_only: bool = False, expiry: int = 0
) -> Callable[[State], None]:
    """``account`` rests an order of ``lots`` at ``ASK_PRICE`` (an ask unless ``is_ask`` is
    False), written into the state directly."""

    def prepare(state: State) -> None:
        holder, market = state.get_account(account), state.markets[0]
        rest_order(state, market, holder, is_ask, ASK_PRICE, lots, reduce_only, expiry, [])

    return prepare


def _full(state: State) -> None:
    """Account 3 has the most open orders an account may have."""
    state.set_open_orders(state.get_account(3), PRESET.max_open_orders_per_account)


# 3 short 100: its step closes the short with 4's first ask, and its claim, reduce-only with
# nothing left to reduce, ends at 4's second (``ReduceOnlyViolation``)
NOTHING = prepare_all(short(3, 100), two_asks)
# 3 short 100 with no room for an order, 4's one ask and 5's expired bid at ``REST_KEY`` (on
# the taker's side: it crosses nothing); the claim finds nothing crossing, and the 50 cannot
# rest (``TooManyOpenOrders``)
NO_ROOM = prepare_all(short(3, 100), RESTS, _full, _rests(5, 100, is_ask=False, expiry=1))
REDUCING = two_slot_order(reduce_only=True)
REDUCING_IOC = two_slot_order(reduce_only=True, time_in_force=TimeInForce.IOC)


def _claim(**bits: int) -> Callable[[State], dict[str, int]]:
    """Slot 1's inputs: the claim's record naming no maker and no size, and the step's
    private ``bits``."""
    record = as_slot(1, record_inputs(claim.RECORD.encode((3, 0, 0, 0))))
    return lambda state: record | {STEP + name: v for name, v in bits.items()}


def _ended(
    prepare: Callable[[State], None],
    wires: dict[str, WireFn] | None = None,
    rest_fails: int = 0,
    op: CreateOrder | None = None,
) -> TwoSlots:
    """The rules' block of ``op`` (3's bid of 150) after ``prepare`` with its claim ending the
    taker instead: at the maker it meets, or (``rest_fails``) where it would rest; ``wires``
    changed."""
    bits = _claim(ends_taker=1, rest_fails=rest_fails)
    return two_slots(op or two_slot_order(), prepare, 1, wires, bits)


def _bids_spent(state: State) -> None:
    """4's bid at ``MARK - 10`` rests, and the bid side's counter is at 0."""
    resting(account=4, is_ask=False, price=MARK - 10)(state)
    state.markets[0].book.bid_nonce = 0
    state.dirty.books.add(0)


def _capped(state: State) -> None:
    """Market 0's open interest capped 10 lots above what it is: a fill of 40 passes it."""
    market = state.markets[0]
    market.params = replace(market.params, max_open_interest=market.data.open_interest + 10)
    state.dirty.markets.add(0)


def _ended_order() -> Violation:
    """3's bid of 40 against 4's ask, which the rules refuse (``OpenInterestLimit``), ended
    there as a claim's taker is: its signed order spent, nothing filled."""
    op, rest = fill()
    return violation(op, prepare=prepare_all(rest, _capped), inputs={"slot0/step/ends_taker": 1})


END_CASES: dict[str, Callable[[], Violation | TwoSlots]] = {
    # FILLS ended at 4's second ask, whose fill passes 3's rule and the cap
    "a_risk_fails": lambda: _ended(FILLS),
    # ... with no fill tried (nothing checked), or the tried fill over the cap where it is not
    "step/fill_step/end/tried": lambda: _ended(FILLS, {FILL + "end/tried": to(0)}),
    "step/fill_step/open_interest/over/ends_over": lambda: _ended(
        FILLS, {FILL + "open_interest/over/ends_over": to(1)}
    ),
    "step/fill_step/open_interest/over/over": lambda: _ended(
        FILLS, {FILL + "open_interest/over/over": to(1)}
    ),
    "step/fill_step/open_interest/over/grown": lambda: _ended(
        FILLS, {FILL + "open_interest/over/grown": to(MARKET.max_open_interest + 1)}
    ),
    # ... with 3's position after the trial (only A's risk reads it) made to fail 3's rule: a
    # change of -1,000 lots instead of +50, or a funding snapshot far below the index
    "step/fill_step/trial/taker_size_change#": lambda: _ended(
        FILLS, {FILL + "trial/taker_size_change0": to(-1000)}
    ),
    "step/fill_step/trial/taker_funding_index_change#": lambda: _ended(
        FILLS, {FILL + "trial/taker_funding_index_change0": to(-(10**15))}
    ),
    # RESTS ended where the 50 would rest, though 3 has the margin and the room for them
    "step/rest_fails_has_reason": lambda: _ended(RESTS, rest_fails=1),
    "step/restable": lambda: _ended(RESTS, {STEP + "restable": to(0)}, rest_fails=1),
    # ... or with its side's nonces, or either side's, made out to be spent; 3's sell of 150
    # against 4's bid of 100 alike (the 50 would rest as an ask)
    "step/margin_and_nonce": lambda: _ended(
        RESTS, {STEP + "margin_and_nonce": to(0)}, rest_fails=1
    ),
    "step/nonces_spent/side": lambda: _ended(
        RESTS, {STEP + "nonces_spent/side": to(1)}, rest_fails=1
    ),
    "step/nonces_spent/bid": lambda: _ended(
        RESTS, {STEP + "nonces_spent/bid": to(1)}, rest_fails=1
    ),
    "step/nonces_spent/ask": lambda: _ended(
        resting(account=4, is_ask=False),
        {STEP + "nonces_spent/ask": to(1)},
        rest_fails=1,
        op=two_slot_order(is_ask=True),
    ),
    # one-slot blocks: a create order ended; a bid resting at nonce 0
    "step/ends_alone": _ended_order,
    "step/bid_nonce_not_zero": lambda: violation(
        order(), prepare=_bids_spent, book=key_book(MARK, 0)
    ),
}


def _with_bits(
    op: CreateOrder, prepare: Callable[[State], None], **bits: int
) -> Callable[[], TwoSlots]:
    """The rules' block of ``op`` after ``prepare``, slot 1's step bits set to ``bits``, and
    the inverse hints of the maker's checks that they scale scaled too."""

    def make() -> TwoSlots:
        v = two_slots(op, prepare, 1, claim=lambda state: {STEP + n: x for n, x in bits.items()})
        names = ("maker_exists", "not_self_trade")
        v.hints = {f"{FILL}{n}_inverse": scaled_inverse for n in names}
        return v

    return make


def _ioc_rest_failed() -> TwoSlots:
    """RESTS with an IOC bid, its remainder (cancelled by the rules) claimed as failing to
    rest at ``REST_KEY``: the step then writes -1 times the order there (``rests -
    rest_fails``), a write whose checks need the room and the margin."""

    def inputs(after: State) -> dict[str, int]:
        at_rest = as_slot(1, book_inputs(capture_book(after, 0, REST_KEY)))
        return _claim(ends_taker=1, rest_fails=1)(after) | at_rest

    v = two_slots(two_slot_order(time_in_force=TimeInForce.IOC), RESTS, 1, claim=inputs)
    v.hints = {STEP + "bid_nonce_not_zero_inverse": scaled_inverse}
    return v


def _started(prepare: Callable[[State], None], op: CreateOrder | None = None) -> State:
    """The state before the block after ``prepare`` (or after its slot 0, ``op``), its trees
    up to date."""
    state = copy.deepcopy(get_two_slot_state())
    prepare(state)
    state = started_block(state)
    if op is not None:
        process_operation(state, op)
    update_state_root(state)
    return state


def _maker_with_nothing() -> TwoSlots:
    """FILLS ended at 4's second ask, made reduce-only: 4, short 100 after slot 0, has nothing
    to reduce (the rules cancel it). The same block from that book."""
    v = _ended(FILLS)
    prepare = prepare_all(_rests(4, 100), _rests(4, 100, reduce_only=True))
    before, after = _started(prepare), _started(prepare, two_slot_order())
    assert before.trees is not None
    keys = [slot.book.key for slot in v.witness.slots if slot.book is not None]
    v.inputs |= {"header/book_root": before.trees.books.root()}
    v.inputs |= as_slot(0, book_inputs(capture_book(before, 0, keys[0])))
    v.inputs |= as_slot(1, book_inputs(capture_book(after, 0, keys[1])))
    return v


def _expired_bid_cancelled() -> TwoSlots:
    """NO_ROOM with the claim cancelling 5's expired bid at ``REST_KEY`` (on the taker's side:
    the rules never meet it) instead of ending the taker, whose remainder is claimed as failing
    to rest (the claim is the taker's second step: the step limit ends it after the cancel)."""

    def inputs(after: State) -> dict[str, int]:
        slot = account_inputs("b", capture_account(after, 5))
        for m, position in enumerate(capture_positions(after, 5)):
            held = zip(POSITION_FIELDS, position, strict=True)
            slot |= {f"slot0/b_positions/market{m}/{n}": x % R for n, x in held}
        slot |= book_inputs(capture_book(after, 0, REST_KEY))
        bits = {"ends_taker": 0, "rest_fails": 1, "cancels_maker": 1}
        return as_slot(1, slot) | {STEP + n: x for n, x in bits.items()}

    v = two_slots(REDUCING, NO_ROOM, 1, claim=inputs)
    v.hints = {FILL + "not_self_trade_inverse": scaled_inverse}
    return v


END_GUARDED: dict[str, tuple[Callable[[], Violation | TwoSlots], set[str]]] = {
    # ends 2 (a reduce-only IOC taker with nothing to reduce: no trial, nothing rests): the
    # step both meets the maker at its key (ends) and finishes there (1 - ends), and that
    # maker crosses the taker's limit
    "step/ends_boolean": (
        _with_bits(REDUCING_IOC, NOTHING, ends_taker=2),
        {"step/no_crossing"},
    ),
    # rest_fails 2 (ends 1): the step meets the maker (1 - rest_fails) and finishes (rests
    # rest_fails, not 1), and a reduce-only taker needs no margin to rest
    "step/rest_fails_boolean": (
        _with_bits(REDUCING, NOTHING, rest_fails=2),
        {"step/no_crossing", "step/rest_fails_rests", "step/rest_fails_has_reason"},
    ),
    # implied: a remainder that does not rest writes rests - rest_fails = -1 orders, which
    # open_orders_below_max and order_margin_covered hold to a restable one
    "step/rest_fails_rests": (_ioc_rest_failed, {"step/rest_fails_has_reason"}),
    # implied: a maker with nothing to reduce gives a trial of no lots (size_positive), which
    # leaves A's risk as it was (a_risk_fails)
    "step/fill_step/end/maker_kept": (
        _maker_with_nothing,
        {"a_risk_fails", "step/fill_step/fill/size_positive"},
    ),
}

# rest_fails without ends (ends_meeting -1) undoes the step's meeting of its maker: only a
# cancel (for a reason: 5's expired bid, on the taker's side, which the rules never meet) of a
# reduce-only taker with nothing to reduce (no trial) then finishes; at the step limit (the
# claim is the second step) the taker ends with it
END_CASES["step/rest_fails_ends"] = _expired_bid_cancelled

# the rules' blocks the guarded witnesses start from: slot 0's order, the state before, and
# slot 1's (ends_taker, rest_fails)
END_BLOCKS: dict[str, tuple[CreateOrder, Callable[[State], None], tuple[bool, bool]]] = {
    "reduce-only, nothing left, IOC": (REDUCING_IOC, NOTHING, (True, False)),
    "reduce-only, nothing left": (REDUCING, NOTHING, (True, False)),
    "no room to rest": (REDUCING, NO_ROOM, (True, True)),
}

END_FAMILIES = {
    "step/fill_step/trial/taker_size_change#",
    "step/fill_step/trial/taker_funding_index_change#",
}
