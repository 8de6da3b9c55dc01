"""Cases of ``test_necessity`` for a modify order (``circuits/ops/modify_order.py``) and for the
post-only taker it hands over (``circuits/ops/step_unit.py``'s ``post_only_only_rests``).

Account 3's ask of 100 lots rests at ``ask_key()`` (``ASK_PRICE``, nonce 0). In place (one-slot
blocks: ``IN_PLACE`` cuts it to 60 at its price), the cheats change the order otherwise than
signed: it grows while keeping its priority (a size over its remaining, or a new price, cut in
place), it vanishes while its account's open orders stay (a size of 0, below the minimum), or
the modify acts on another order, market or account's order than the record names.

A modify that moves the order leaves its new order pending for the claim after it, so those
cases are two-slot blocks (``moved``: the rules' block of ``MOVED``, the ask moved up 10 ticks,
rested by its claim at the ask side's next nonce, 0 once the old ask left the side empty): a
price outside the band rested (the band, the index or a distance to the band's end misread),
the old order left in the book (an empty leaf modified, or the order not removed: 3 holds one
more order than its count), or the order the claim rests changed (account, market, side,
price, size, reduce-only, expiry). ``step/post_only_only_rests``' cheat is a modify whose claim
fills a bid it crosses (the rules refuse it: ``PostOnlyWouldCross``), built slot by slot
(``_crossing``).

``MODIFY_GUARDED``: checks redundant with what the rules' invariants or the claim give:
A's existence (an order of A's is one of an account that exists), the market in the tree and
existing (a market that is not has no order: the book unit reads another's), a price of 0 or
past ``price_bits`` (in place the price is the book key's; moved, the band's low end is at
least 1 and the claim rests it at a key of ``price_bits`` bits); and the selector's boolean,
which no witness isolates (no two other types add up to twice the modify's 20).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace

from circuits.ops.slot import SlotWitness
from circuits.r1cs import HintFn
from protocol import eddsa
from protocol.block import compute_record
from protocol.commitment import update_state_root
from protocol.field import R, inv
from protocol.ops import claim
from protocol.ops.claim import Claim
from protocol.ops.modify_order import ModifyOrder
from protocol.orders import cancel_order
from protocol.signing import compute_tx_message
from protocol.state import State, Taker
from protocol.types import PPM
from sequencer.witness import (
    build_block_witness,
    build_slot_witness,
    capture_account,
    capture_book,
    capture_positions,
)
from tests.circuits.cases_claim import second_market
from tests.circuits.forced import get_circuit
from tests.circuits.test_block import next_block, signed, started_block
from tests.circuits.tracing import WireFn
from tests.circuits.violations import (
    ASK_PRICE,
    MARK,
    POSITION_FIELDS,
    PRESET,
    TwoSlots,
    Violation,
    account_inputs,
    add,
    as_slot,
    ask_key,
    book_at,
    book_inputs,
    flip,
    get_two_slot_state,
    keyed,
    prepare_all,
    record_inputs,
    resting,
    sign_as,
    signature_inputs,
    to,
    violation,
    with_unused_byte,
)
from tests.protocol.helpers import CHAIN_ID, FAR, MARKET, key_of

ON = "slot0/modify_order/"
MOVED_PRICE = ASK_PRICE + 10
MOVED_KEY = MOVED_PRICE << PRESET.order_nonce_bits  # nonce 0: the old ask left the side empty
BESIDE_KEY = MOVED_KEY | 1  # the next ask nonce while the old ask still rests
LOW, HIGH = 8_000, 12_000  # the band: the index (10,000) -+ the market's 20 %


def modify(
    key: int | None = None,
    price: int = ASK_PRICE,
    size: int = 60,
    market: int = 0,
    account: int = 3,
) -> ModifyOrder:
    """``account`` (3) modifies the order at ``key`` (3's ask at ``ask_key()``; by default to
    60 lots in place), signed by itself."""
    op = ModifyOrder(account, 0, FAR, market, ask_key() if key is None else key, price, size)
    signed_op: ModifyOrder = signed(op, account)
    return signed_op


IN_PLACE = modify()
MOVED = modify(price=MOVED_PRICE, size=100)
RESTING = resting()  # 3's ask of 100 at ``ask_key()``


def in_place(op: ModifyOrder = IN_PLACE, **kw: object) -> Violation:
    """``op`` after 3's ask rests (``kw``: ``violation``'s)."""
    kw.setdefault("prepare", RESTING)
    return violation(op, **kw)  # type: ignore[arg-type]


def _signed_other(name: str, value: int) -> Violation:
    """``IN_PLACE`` signed with ``name`` = ``value``, and that payload wire set to it."""
    other = replace(IN_PLACE, **{name: value, "signature": None})  # type: ignore[arg-type]
    return in_place(inputs=sign_as(other, 3), wires={f"{ON}signed_{name}": to(value)})


def _digest_tampered() -> Violation:
    """``IN_PLACE`` with the signed message one more than its own, and the digest of the
    sponge block its nine fields end in moved to it."""
    signature = eddsa.sign(key_of(3), compute_tx_message(CHAIN_ID, IN_PLACE) + 1)
    return in_place(
        inputs=signature_inputs(signature),
        wires={"slot0/signature/digest_after_block2": add(1)},
    )


# -- two slots: the rules' block of a modify that moves the order, and its claim -----------------


def moved(
    op: ModifyOrder = MOVED,
    prepare: Callable[[State], None] = RESTING,
    wires: dict[str, WireFn] | None = None,
    inputs: Callable[[State, State], dict[str, int]] | None = None,
) -> TwoSlots:
    """The rules' block of ``op`` (after ``prepare``) and its claim, slot 0's ``wires`` changed
    and the inputs ``inputs`` gives from the states before the block and after slot 0."""
    state = copy.deepcopy(get_two_slot_state())
    prepare(state)
    before = started_block(state)
    update_state_root(before)
    after = copy.deepcopy(before)
    build_slot_witness(after, op)
    update_state_root(after)
    witness = build_block_witness(state, next_block(state, [op, Claim(op.account)]))
    extra = {} if inputs is None else inputs(before, after)
    return TwoSlots(after, witness, 0, extra, {}, wires or {})


Inputs = Callable[[State, State], dict[str, int]]  # slot inputs from the states before, after


def _a(state: State, index: int) -> dict[str, int]:
    """Account ``index`` (its fields, path and positions) as slot 1's A and B (a claim that
    rests meets no maker: B is A)."""
    inputs: dict[str, int] = {}
    for side in ("a", "b"):
        inputs |= account_inputs(side, capture_account(state, index))
        for m, position in enumerate(capture_positions(state, index)):
            held = zip(POSITION_FIELDS, position, strict=True)
            inputs |= {f"slot0/{side}_positions/market{m}/{n}": x % R for n, x in held}
    return as_slot(1, inputs)


def _claim(account: int = 3, market: int = 0) -> dict[str, int]:
    """Slot 1's record: a claim of ``account``'s in ``market`` that rests (no maker)."""
    return as_slot(1, record_inputs(claim.RECORD.encode((account, market, 0, 0))))


def _rests_at(market: int, price: int, is_ask: bool = True) -> Inputs:
    """Slot 1's book unit where the claim rests an order of ``price`` and that side."""

    def inputs(before: State, after: State) -> dict[str, int]:
        book = after.markets[market].book
        key = book.compute_key(price, book.get_next_nonce(is_ask))
        return as_slot(1, book_inputs(capture_book(after, market, key)))

    return inputs


def _taker(name: str, change: WireFn, inputs: Inputs | None = None) -> Callable[[], TwoSlots]:
    return lambda: moved(wires={f"{ON}taker_{name}": change}, inputs=inputs)


def _out_of_band(price: int, name: str, value: int) -> TwoSlots:
    """3's ask moved to ``price``, outside the band (``LOW``..``HIGH``), with slot 0's wire
    ``name`` set to ``value`` so that the band takes it in; the claim rests it there."""
    op = modify(price=price, size=100)

    def inputs(before: State, after: State) -> dict[str, int]:
        slot0 = record_inputs(compute_record(op, ())) | sign_as(op, 3)
        return slot0 | _rests_at(0, price)(before, after)

    return moved(wires={ON + name: to(value)}, inputs=inputs)


def _old_book_kept(before: State, after: State) -> dict[str, int]:
    """Slot 1's book unit at ``BESIDE_KEY`` in the book before the block: 3's old ask still
    rests in it."""
    return as_slot(1, book_inputs(capture_book(before, 0, BESIDE_KEY)))


def _nothing_modified() -> TwoSlots:
    """``MOVED`` of the empty leaf at ``ask_key(1)`` (read as 3's, an ask): nothing leaves the
    book, 3's open orders fall by one, and the claim rests 3's new ask beside its old one."""
    op = modify(key=ask_key(1), price=MOVED_PRICE, size=100)

    def inputs(before: State, after: State) -> dict[str, int]:
        book = book_at(0, ask_key(1), account=3, is_ask=1)(before)
        slot0 = book_inputs(book) | record_inputs(compute_record(op, ())) | sign_as(op, 3)
        return slot0 | _old_book_kept(before, after)

    return moved(inputs=inputs)


def _index_high(state: State) -> None:
    """Market 0's index and mark at 60,000: the band's high end, 72,000, past the prices'
    ``2^price_bits``."""
    market = state.markets[0]
    for name in ("index_price", "mark_price"):
        state.set_market_data(market, name, 60_000)


def _past_price_bits() -> TwoSlots:
    """3's ask moved to ``2^price_bits`` (inside the band after ``_index_high``), read as in
    range; the claim's book unit at the key that price's low bits give."""
    price = 1 << PRESET.price_bits
    op = modify(price=price, size=100)

    def inputs(before: State, after: State) -> dict[str, int]:
        slot0 = record_inputs(compute_record(op, ())) | sign_as(op, 3)
        return slot0 | as_slot(1, book_inputs(capture_book(after, 0, 0)))

    wires = {ON + "price_in_range/price": to(0)}
    return moved(modify(price=60_000, size=100), prepare_all(RESTING, _index_high), wires, inputs)


def _crossing() -> TwoSlots:
    """3's ask at ``ASK_PRICE + 20`` moved down to ``ASK_PRICE``, where 4's bid of 100 rests
    (the rules refuse it: ``PostOnlyWouldCross``), and its claim filling that bid: slot 0 as
    the rules would apply the modify without that check, slot 1 the rules' claim of a taker
    that is not post-only. (The header, the markets and the reserved accounts are those of the
    rules' block that moves the ask to ``ASK_PRICE + 10`` instead, from the same state.)"""
    old = (ASK_PRICE + 20) << PRESET.order_nonce_bits
    prepare = prepare_all(
        resting(price=ASK_PRICE + 20), resting(account=4, is_ask=False, price=ASK_PRICE)
    )
    base = moved(modify(key=old, price=MOVED_PRICE, size=100), prepare)
    op = modify(key=old, price=ASK_PRICE, size=100)
    state = copy.deepcopy(get_two_slot_state())
    prepare(state)
    after = started_block(state)
    update_state_root(after)
    a, positions = capture_account(after, 3), capture_positions(after, 3)
    book = capture_book(after, 0, old)
    holder, market = after.get_account(3), after.markets[0]
    after.increment_nonce(holder)
    cancel_order(after, market, market.book.orders[old], "modified", [])
    # the rules' claim would refuse a post-only taker that meets a bid: slot 1 is built from
    # the same taker not post-only (the circuit's is post-only: slot 0's)
    after.set_pending(Taker(3, 0, True, 100, ASK_PRICE, True, False, 0))
    b, b_positions = capture_account(after, 3), capture_positions(after, 3)
    assert op.signature is not None
    first = SlotWitness(
        compute_record(op, ()), a, b, FAR, op.signature, positions, book, b_positions
    )
    second = build_slot_witness(copy.deepcopy(after), Claim(3))
    update_state_root(after)
    return TwoSlots(after, replace(base.witness, slots=(first, second)), 1)


MODIFY_CASES: dict[str, Callable[[], Violation | TwoSlots]] = {
    # in place: 3's ask grows to 150 keeping its key (the size read as 60), or to 61
    "modify_order/size": lambda: in_place(modify(size=150), wires={ON + "size": to(60)}),
    "modify_order/cut": lambda: in_place(wires={ON + "cut": add(1)}),
    # ... or keeps its price and key where the record names a new price
    "modify_order/in_place/same_price": lambda: in_place(
        modify(price=MOVED_PRICE), wires={ON + "in_place/same_price": to(1)}
    ),
    "modify_order/in_place/on": lambda: in_place(
        modify(price=MOVED_PRICE), wires={ON + "in_place/on": to(1)}
    ),
    # ... or is cut to 0 lots (below the minimum of 1): it leaves the book, 3's open orders not
    # lowered
    "modify_order/size_at_least_min/excess": lambda: in_place(
        modify(size=0), wires={ON + "size_at_least_min/excess": to(0)}
    ),
    "modify_order/min_size#": lambda: in_place(modify(size=0), wires={ON + "min_size0": to(0)}),
    "modify_order/market/selected#": lambda: in_place(
        modify(size=0), wires={ON + "market/selected0": to(0)}
    ),
    # another order (3's second ask), in another market, or 4's ask modified
    "modify_order/key_is_record": lambda: in_place(
        modify(key=ask_key(1)),
        prepare=prepare_all(resting(), resting()),
        book=book_at(0, ask_key()),
    ),
    "modify_order/market_is_record": lambda: in_place(
        modify(market=1),
        prepare=prepare_all(resting(), second_market),
        book=book_at(0, ask_key()),
    ),
    "modify_order/order_is_signers": lambda: in_place(prepare=resting(account=4)),
    # the payload signed otherwise
    "modify_order/signed_market": lambda: _signed_other("market", 1),
    "modify_order/signed_key": lambda: _signed_other("key", ask_key(1)),
    "modify_order/signed_price": lambda: _signed_other("price", MOVED_PRICE),
    "modify_order/signed_size": lambda: _signed_other("size", 70),
    "signature/digest_after_block2": _digest_tampered,
    "modify_order/unused_bytes_zero": lambda: in_place(
        record=with_unused_byte(get_circuit(IN_PLACE), compute_record(IN_PLACE, ()))
    ),
    # moved: 3's ask rests a tick above the band (a band, an index, a notional or a distance
    # to its end misread), or a tick below it
    "modify_order/band#": lambda: _out_of_band(HIGH + 1, "band0", MARKET.price_band + 100),
    "modify_order/index#": lambda: _out_of_band(HIGH + 1, "index0", MARK + 1),
    "modify_order/band/high_notional": lambda: _out_of_band(
        HIGH + 1, "band/high_notional", (HIGH + 1) * PPM
    ),
    "modify_order/price_in_band/below_high": lambda: _out_of_band(
        HIGH + 1, "price_in_band/below_high", 0
    ),
    "modify_order/band/low_notional": lambda: _out_of_band(
        LOW - 1, "band/low_notional", (LOW - 1) * PPM
    ),
    "modify_order/price_in_band/above_low": lambda: _out_of_band(
        LOW - 1, "price_in_band/above_low", 0
    ),
    # ... or the old order left in the book, or an empty leaf modified
    "modify_order/removed": lambda: moved(wires={ON + "removed": to(0)}, inputs=_old_book_kept),
    "modify_order/order_exists": _nothing_modified,
    # the claim rests another order than the modify's: 5's, in market 1, a bid, a tick higher,
    # 60 lots, reduce-only, with an expiry
    "modify_order/taker_account": _taker(
        "account", to(5), lambda before, after: _a(after, 5) | _claim(5)
    ),
    "modify_order/taker_market": lambda: moved(
        prepare=prepare_all(resting(), second_market),
        wires={ON + "taker_market": to(1)},
        inputs=lambda before, after: _rests_at(1, MOVED_PRICE)(before, after) | _claim(3, 1),
    ),
    "modify_order/taker_is_ask": _taker("is_ask", flip, _rests_at(0, MOVED_PRICE, False)),
    "modify_order/taker_limit": _taker("limit", add(1), _rests_at(0, MOVED_PRICE + 1)),
    "modify_order/taker_remaining": _taker("remaining", to(60)),
    "modify_order/taker_reduce_only": _taker("reduce_only", to(1)),
    "modify_order/taker_expiry": _taker("expiry", to(FAR)),
    # a modify that takes: its claim fills the bid it crosses
    "step/post_only_only_rests": _crossing,
}

MODIFY_FAMILIES = {
    *("modify_order/band#", "modify_order/index#", "modify_order/min_size#"),
    "modify_order/market/selected#",
}


_NEG_INVERSE: HintFn = lambda on, v: [-inv(v)]  # noqa: E731

SELECTORS = (("modify_order", -1), ("set_leverage", 2), ("register_key", -1), ("noop", 1))

MODIFY_GUARDED: dict[str, tuple[Callable[[], Violation | TwoSlots], set[str]]] = {
    # an order of A's is an order of an account that exists: 9 (keyed, absent) modifies 3's
    "modify_order/account_exists": (
        lambda: in_place(modify(account=9), edit_a=keyed(9)),
        {"modify_order/order_is_signers"},
    ),
    # a market out of the tree, or absent, has no order in the book: the book unit reads 3's
    # ask in market 0 instead
    "modify_order/market/in_tree": (
        lambda: in_place(modify(market=2), book=book_at(0, ask_key())),
        {"modify_order/market_is_record"},
    ),
    "modify_order/market/exists1": (
        lambda: in_place(modify(market=1), book=book_at(0, ask_key())),
        {"modify_order/market_is_record"},
    ),
    # no order rests at price 0, so a price of 0 moves the order, and the band's low end is at
    # least 1 (the order left pending past the block's end: it has no claim)
    "modify_order/price_positive": (
        lambda: in_place(modify(price=0)),
        {"modify_order/price_in_band/range/bits_sum", "heavy_end/no_pending_taker"},
    ),
    # a price past ``price_bits`` is no order's (in place, it is the book key's), and moved, the
    # claim rests it at a key whose price has ``price_bits`` bits
    "modify_order/price_in_range/price": (_past_price_bits, {"slot1/step/key_at_limit"}),
    # no two other types add up to twice the modify's 20: the selector -1 needs another two
    # selectors off their booleans (set leverage's 2, register key's -1), and negates the
    # modify's gated ranges and its signed payload
    "type/is_modify_order_boolean": (
        lambda: in_place(
            inputs={f"slot0/type/is_{n}": v for n, v in SELECTORS},
            hints={ON + f"{n}_inverse": _NEG_INVERSE for n in ("order_exists", "price_positive")},
        ),
        {
            *(f"modify_order/{r}/range/bits_sum" for r in ("size_in_range", "price_in_range")),
            "modify_order/size_at_least_min/range/bits_sum",
            "modify_order/band/low/quotient/range/bits_sum",
            *("type/is_set_leverage_boolean", "type/is_register_key_boolean"),
            *("noop/unused_bytes_zero", "set_leverage/unused_bytes_zero"),
            *("signature/eddsa/s_g_is_r_plus_c_a_x", "signature/eddsa/s_g_is_r_plus_c_a_y"),
        },
    ),
}
