"""Cases of ``test_necessity`` for a matching step that cancels the maker it meets instead of
filling it (``circuits/ops/step_unit.py``'s ``cancels_maker`` and ``maker_fails_risk``,
``circuits/ops/fill_unit.py``'s ``cancel/*``, ``maker_order/*`` and ``trial/*``, the slot's
``b_risk_fails``).

A cancel keeps the taker pending, so its claim follows: each case is a two-slot block
(``violations.two_slots``) whose slot 0 is account 3's bid of 150 at ``ASK_PRICE`` and slot 1
its claim, which takes the 150 of account 4's ask of 200 resting behind the maker slot 0 meets.
That maker is account 5's ask of 100 (or 3's own), which the rules cancel: dead (``DEAD``: 5
cancelled all since it rested), expired (``EXPIRED``),
the taker's own (``SELF``), reduce-only with nothing to reduce (``NOTHING``) or failing its own
risk rule once filled (``RISK``: 5's ``TAV - IMR`` is ``MARGIN``, which a fill of 100 lots
breaks and a fill of one lot does not).

The cheats start from the rules' witness of such a block and change the state before it where
the story needs it (``_rebased``): the same block proven from a book in which 5's ask is live
(no expiry) or is one lot (its fill passes 5's risk rule), so that slot 0 cancels a maker the
rules would fill, and everything after slot 0 is as the rules leave it; or, where the cheat
moves an account (a tried fill's collateral change applied), from that account's collateral
before the block moved back by as much.

Two cases are one-slot blocks: a cancel in a slot with no step (a transfer, its book unit
free), and a fill whose positions are not written (``filling#``). ``CANCEL_GUARDED``: the cancel
bits' booleans, a trial without a cancel and a cancelled maker left in the book, each with
the constraints that refuse it instead. The trial's entry-quote change is read by nothing but
B's risk, which reads no entry quote: any value passes (its case moves it by 1)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace

from circuits.ops.book_unit import BookWitness
from protocol.commitment import compute_quote_shift, update_state_root
from protocol.field import R, inv
from protocol.ops import claim
from protocol.ops.create_order import TimeInForce
from protocol.orders import cancel_all, rest_order
from protocol.risk import compute_risk
from protocol.state import State
from protocol.types import PPM
from sequencer.witness import capture_account, capture_book
from tests.circuits.cases_fill_amounts import REDUCING
from tests.circuits.test_block import started_block
from tests.circuits.tracing import WireFn
from tests.circuits.violations import (
    ASK_PRICE,
    MARK,
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
    to,
    transfer,
    two_slot_order,
    two_slots,
    violation,
)
from tests.protocol.helpers import MARKET

MARGIN = 5_000  # 5's TAV - IMR in RISK: a fill of 100 lots breaks it, one lot does not
STEP = "slot0/step/"
TOP = (1 << PRESET.order_nonce_bits) - 1  # the first bid's nonce
FILL = "slot0/step/fill_step/"


def _ask(
    account: int, lots: int, expired: bool = False, reduce_only: bool = False
) -> Callable[[State], None]:
    """``account`` rests an ask of ``lots`` at ``ASK_PRICE`` (GTT with an expiry before the
    next block's clock when ``expired``)."""

    def prepare(state: State) -> None:
        expiry = max(1, state.timestamp) if expired else 0
        holder = state.get_account(account)
        rest_order(state, state.markets[0], holder, True, ASK_PRICE, lots, reduce_only, expiry, [])

    return prepare


def _margin(account: int, margin: int) -> Callable[[State], None]:
    """``account``'s collateral set so that its TAV - IMR is ``margin``."""

    def prepare(state: State) -> None:
        holder = state.get_account(account)
        risk = compute_risk(holder, state.markets)
        state.set_collateral(holder, holder.collateral - (risk.tav - risk.imr) + margin)

    return prepare


def kill(account: int) -> Callable[[State], None]:
    """The rules' cancel all of ``account``: its orders dead, its count 0, its epoch + 1."""
    return lambda state: cancel_all(state, state.get_account(account), "user", [])


BEHIND = _ask(4, 200)  # what the claim fills
EXPIRED = prepare_all(_ask(5, 100, expired=True), BEHIND)
SELF = prepare_all(_ask(3, 100), BEHIND)
NOTHING = prepare_all(_ask(5, 100, reduce_only=True), BEHIND)
RISK = prepare_all(_ask(5, 100), _margin(5, MARGIN), BEHIND)
LIVE = prepare_all(_ask(5, 100), BEHIND)  # EXPIRED with 5's ask live
SMALL = prepare_all(_ask(5, 1), _margin(5, MARGIN), BEHIND)  # RISK with 5's ask one lot
DEAD = prepare_all(_ask(5, 100), kill(5), BEHIND)  # 5's ask dead (5 cancelled all)


def cancel_block(
    prepare: Callable[[State], None], wires: dict[str, WireFn] | None = None
) -> TwoSlots:
    """The rules' block of 3's bid of 150 and its claim, after ``prepare``; ``wires`` changed
    (a constraint of slot 0's)."""
    return two_slots(two_slot_order(), prepare, 0, wires)


def _rebased(v: TwoSlots, prepare: Callable[[State], None]) -> TwoSlots:
    """``v`` proven from the book ``prepare`` leaves instead (the same accounts, and the same
    book once slot 0 removed the maker): the book root before the block and slot 0's book unit
    at the maker's key are that book's."""
    state = copy.deepcopy(get_two_slot_state())
    prepare(state)
    before = started_block(state)
    update_state_root(before)
    assert before.trees is not None and v.witness.slots[0].book is not None
    key = v.witness.slots[0].book.key
    v.inputs |= {"header/book_root": before.trees.books.root()}
    v.inputs |= as_slot(0, book_inputs(capture_book(before, 0, key)))
    return v


def _live(wires: dict[str, WireFn] | None = None) -> TwoSlots:
    """5's live ask cancelled as expired."""
    return _rebased(cancel_block(EXPIRED, wires), LIVE)


def _healthy(wires: dict[str, WireFn] | None = None) -> TwoSlots:
    """5's ask of one lot, whose fill passes 5's risk rule, cancelled as failing it."""
    return _rebased(cancel_block(RISK, wires), SMALL)


def _claims(filled: int) -> Callable[[State], dict[str, int]]:
    """Slot 1's record: the claim fills ``filled`` of 4's ask."""
    record = claim.RECORD.encode((3, 0, 4, filled))
    return lambda state: as_slot(1, record_inputs(record))


def _kept(size: int) -> TwoSlots:
    """EXPIRED with the taker pending with ``size`` after the cancel (its claim fills that)."""
    return two_slots(two_slot_order(), EXPIRED, 0, {STEP + "kept": to(size)}, _claims(size))


def _trial_left(size: int) -> TwoSlots:
    """RISK with the tried fill's remainder (50: the taker's 150 less the maker's 100) left to
    the taker (which keeps its 150 after the cancel): the taker pending with ``size``."""
    wires = {FILL + "taker_left": to((size - 150) % R)}
    return two_slots(two_slot_order(), RISK, 0, wires, _claims(size))


FUNDING_INDEX = 3_000_000  # since 5's snapshot: its short of 10 is owed 30


def _owed(state: State) -> None:
    """5 short 10 lots of market 0 at the mark, snapshotted at funding index 0, which has
    since moved to ``FUNDING_INDEX``."""
    holder, market = state.get_account(5), state.markets[0]
    state.set_position_field(holder, 0, "size", -10)
    state.set_position_field(holder, 0, "entry_quote", -10 * MARK)
    state.set_collateral(holder, holder.collateral + 10 * MARK)
    state.set_market_data(market, "funding_index", FUNDING_INDEX)


OWED = prepare_all(_owed, _ask(5, 100), _margin(5, MARGIN), BEHIND)  # RISK with 5 owed funding
QUOTE = ASK_PRICE * 100  # the tried fill's
TAKER_PAYS = QUOTE + -(-QUOTE * MARKET.taker_fee // PPM)  # its quote and taker fee
MAKER_GETS = QUOTE - -(-QUOTE * MARKET.maker_fee // PPM)


def _paid(side: str, applied: int) -> TwoSlots:
    """RISK with the tried fill's collateral change of ``side`` ("taker": A, "maker": B)
    applied as ``applied``, from a collateral that much lower (so the claim reads the accounts
    as the rules leave them; A's path past B's lower leaf)."""
    v = cancel_block(RISK)
    change = -TAKER_PAYS if side == "taker" else MAKER_GETS
    v.wires = {FILL + f"trial/{side}_collateral": to(change - applied)}
    state = copy.deepcopy(get_two_slot_state())
    RISK(state)
    before = started_block(state)
    holder = before.get_account(3 if side == "taker" else 5)
    before.set_collateral(holder, holder.collateral - applied)
    update_state_root(before)
    a = capture_account(before, 3)
    v.inputs |= as_slot(0, account_inputs("a", a))
    if side == "maker":
        v.inputs |= {"slot0/b/collateral": holder.collateral % R}
    return v


def _own_kept() -> TwoSlots:
    """SELF with 3's cancelled ask counted against B's open orders instead of A's: B is A,
    so B's fields are A's after the slot's A part (one order more) and the count ends right."""
    v = cancel_block(SELF, {FILL + "maker_order/own_cancelled": to(0)})
    v.inputs |= {"slot0/b/open_orders": v.witness.slots[0].b.open_orders + 1}
    return v


def _free_book(account: int) -> Callable[[State], BookWitness]:
    """A book unit of no book (the slot uses none): ``account``'s expired ask of one lot at
    price 0, its lanes cancelled by a sibling's negative ones (nothing crosses a limit of 0)."""
    shift = compute_quote_shift(PRESET)

    def capture(state: State) -> BookWitness:
        unused = BookWitness.unused(PRESET)
        siblings = ((0, -(1 << shift) % R, 0), *unused.order_siblings[1:])
        return replace(unused, order=(account, 1, 1, 0, 1, 0), order_siblings=siblings)

    return capture


def _cancel_without_step() -> Violation:
    """3's transfer to 4 whose slot cancels a maker of 4's, read from no book: 4's open
    orders fall by one while its ask rests."""
    return violation(
        transfer(),
        prepare=resting(account=4),
        book=_free_book(4),
        inputs={STEP + "cancels_maker": 1},
    )


def _unfilled() -> Violation:
    """A fill that reduces both positions (3 short 100 buys 40 of 4's long's ask: open
    interest does not grow, so its cap is not read) whose positions are not written: 3 pays
    for 40 lots it does not get."""
    op, rest = fill()
    return violation(op, prepare=prepare_all(REDUCING, rest), wires={FILL + "filling0": to(0)})


def _tried_without_cancel() -> Violation:
    """3's IOC bid at the mark finds no ask (its remainder is cancelled) and tries a fill
    against 5's bid at the book unit's key, which fails 5's risk rule: a trial of no cancel
    (it moves nothing)."""
    op = order(price=MARK, time_in_force=TimeInForce.IOC)
    v = violation(
        op,
        prepare=prepare_all(resting(account=5, is_ask=False, price=MARK), _margin(5, MARGIN)),
        book=key_book(MARK, TOP),
        inputs={STEP + "maker_fails_risk": 1},
    )
    v.inputs |= account_inputs("b", capture_account(v.scratch, 5))
    return v


CANCEL_CASES: dict[str, Callable[[], Violation | TwoSlots]] = {
    # 5's live ask cancelled as expired: the reason (or a product of it) claimed
    "step/fill_step/cancel_has_reason": _live,
    "step/fill_step/cancel/expired": lambda: _live({FILL + "cancel/expired": to(1)}),
    "step/fill_step/cancel/live_other": lambda: _live({FILL + "cancel/live_other": to(0)}),
    "step/fill_step/cancel/kept": lambda: _live({FILL + "cancel/kept": to(0)}),
    "step/fill_step/cancel/maker_nothing": lambda: _live({FILL + "cancel/maker_nothing": to(1)}),
    "step/fill_step/cancel/nothing_to_reduce": lambda: _live(
        {FILL + "cancel/nothing_to_reduce": to(1)}
    ),
    # a taker with nothing to reduce is reduce-only: an order has something (create order's
    # ``reduce_only_has_position``), a claim's cancel leaves its taker pending past a two-slot
    # block's end; here the flag moves where no listed reason is needed (a risk cancel)
    "step/fill_step/cancel/taker_nothing": lambda: cancel_block(
        RISK, {FILL + "cancel/taker_nothing": to(1)}
    ),
    # 5's ask of one lot, whose fill passes its risk rule, cancelled as failing it
    "b_risk_fails": _healthy,
    # the taker keeps 100 of its 150 after the cancel (its claim fills 100)
    "step/kept": lambda: _kept(100),
    # the tried fill's remainder applied: the taker pending with 100
    "step/fill_step/taker_left": lambda: _trial_left(100),
    # the tried fill's fees credited to the fee account
    "step/fill_step/trial/fees": lambda: cancel_block(RISK, {FILL + "trial/fees": to(0)}),
    # B's position after the tried fill (only B's risk reads it) made to fail: 5's healthy
    # fill of one lot tried as a short of 1,000, a snapshot far off,
    # or a fee rate 5,000 times the market's
    "step/fill_step/trial/selected#": lambda: _healthy({FILL + "trial/selected0": to(1000)}),
    "step/fill_step/trial/maker_size_change#": lambda: _healthy(
        {FILL + "trial/maker_size_change0": to(-1000)}
    ),
    # (the risk unit reads no entry quote: RISK's tried fill fails 5's rule whatever it is)
    "step/fill_step/trial/maker_funding_index_change#": lambda: _healthy(
        {FILL + "trial/maker_funding_index_change0": to(10**15)}
    ),
    "step/fill_step/trying#": lambda: _healthy({FILL + "trying0": to(5000)}),
    # 3's own ask cancelled, A's open orders not lowered (B's, which is A's, instead)
    "step/fill_step/maker_order/own_cancelled": _own_kept,
    # the tried fill's funding (5 is owed 30) paid by the funding pool
    "step/fill_step/trial/funding": lambda: cancel_block(OWED, {FILL + "trial/funding": to(0)}),
    # 3 paid back the tried fill's quote and fee, from a collateral that much lower
    "step/fill_step/trial/taker_collateral": lambda: _paid("taker", TAKER_PAYS),
    # 5 paid the tried fill's quote, from a collateral that much lower
    "step/fill_step/trial/maker_collateral": lambda: _paid("maker", MAKER_GETS),
}

CANCEL_CASES |= {  # one-slot blocks: no step to cancel in, or a fill
    "step/cancels_without_fill": _cancel_without_step,
    "step/fill_step/filling#": _unfilled,
}


def scaled_inverse(on: int, x: int) -> list[int]:
    """``assert_nonzero_if``'s hint as a prover with ``on`` not 1 sets it (``x * hint = on``)."""
    return [on * inv(x) % R if x else 0]


def _tried_twice() -> TwoSlots:
    """NOTHING with ``maker_fails_risk`` 2: the trial twice over, of no lots (5 reduces
    nothing; the taker's remainder, which only a fill made moves, kept)."""
    v = cancel_block(NOTHING)
    v.inputs |= {STEP + "maker_fails_risk": 2}
    v.hints = {FILL + "not_self_trade_inverse": scaled_inverse}
    return v


def _left_in_book() -> TwoSlots:
    """EXPIRED with 5's ask cancelled but left in the book (its account's open orders fall);
    the claim reads the book so."""
    v = cancel_block(EXPIRED, {FILL + "maker_order/cancelled": to(0)})
    state = copy.deepcopy(get_two_slot_state())
    EXPIRED(state)
    before = started_block(state)  # the book after slot 0: the ask still there
    update_state_root(before)
    assert v.witness.slots[1].book is not None
    v.inputs |= as_slot(1, book_inputs(capture_book(before, 0, v.witness.slots[1].book.key)))
    return v


CANCEL_GUARDED: dict[str, tuple[Callable[[], Violation | TwoSlots], set[str]]] = {
    # a step that both finishes (1 - cancels != 0: nothing crosses at the key) and meets the
    # order there (cancels != 0: it crosses) has no such order: an IOC bid meeting nothing
    "step/cancels_boolean": (
        lambda: violation(order(time_in_force=TimeInForce.IOC), inputs={STEP + "cancels_maker": 2}),
        {
            *(
                "step/fill_step/maker_exists",
                "step/fill_step/maker_is_b",
                "step/fill_step/fill/maker_opposite",
            ),
            "heavy_end/no_pending_taker",  # the taker keeps twice its size
        },
    ),
    # a trial weighs the listed reasons by cancels - fails_risk: without a cancel that is -1,
    # and each reason refuses a trial (expired: maker_not_expired, own: not_self_trade, nothing
    # to reduce: a trial of no lots, which passes B's rule); here none holds
    "step/fails_risk_cancels": (_tried_without_cancel, {"step/fill_step/cancel_has_reason"}),
    # the trial's size is fails_risk times the rules' (size_is_min pins it to the rules' when
    # that is not 0); of no lots it moves nothing, so B's rule passes, and size_positive
    "step/fails_risk_boolean": (
        _tried_twice,
        {"b_risk_fails", "step/fill_step/fill/size_positive"},
    ),
    # the lots left are earlier at their price than any other: the claim that must follow
    # meets them first (with three slots it could cancel them again, their account's open
    # orders falling twice; a two-slot block cannot show that)
    "step/fill_step/maker_order/cancelled": (
        _left_in_book,
        {"slot1/step/fill_step/priority/no_earlier_at_price"},
    ),
}

# the rules' blocks the cases start from, and whether slot 0 cancels for the maker's risk
CANCEL_BLOCKS = {
    "expired": (EXPIRED, False),
    "self-trade": (SELF, False),
    "reduce-only": (NOTHING, False),
    "cancel-all": (DEAD, False),
    "risk": (RISK, True),
    "risk, funding owed": (OWED, True),
}

CANCEL_FAMILIES = {
    *("step/fill_step/trial/selected#", "step/fill_step/trial/maker_size_change#"),
    "step/fill_step/trying#",
    "step/fill_step/trial/maker_funding_index_change#",
    "step/fill_step/filling#",
}
