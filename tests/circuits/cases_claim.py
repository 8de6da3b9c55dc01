"""Cases of ``test_necessity`` for the taker a create order hands its slot's step unit
(``circuits/ops/create_order.py``'s ``taker_*``, ``maker``, ``filled``), the taker a step
leaves pending (``circuits/ops/step_unit.py``'s ``pending/*``) and the claim that takes the
pending taker's next step (``circuits/ops/claim.py``).

A create order's taker fields are the order's as signed; each is moved by a prover that drops
its constraint so that the order rests (or fills) otherwise than signed: at another price, side,
size, market, expiry, reduce-only, or rests where it is IOC.

A claim needs a pending taker, which only a step of an earlier slot leaves: in slot 0 the
running taker is the constant none, so a claim there always breaks ``claim/taker_pending``
(the one-slot case of that constraint: a claim with nothing pending). The claim's other
constraints, and the pending taker's fields, have their cases in the two-slot block of
``TWO_SLOT_CASES`` (``tests/circuits/violations.py``'s ``two_slots``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace

from circuits.ops.book_unit import BookWitness
from protocol.book import OrderBook
from protocol.field import R
from protocol.markets import Market, MarketData
from protocol.ops import claim
from protocol.ops.claim import Claim
from protocol.ops.create_order import TimeInForce
from protocol.ops.noop import Noop
from protocol.state import State
from sequencer.witness import (
    build_slot_witness,
    capture_account,
    capture_book,
    capture_positions,
)
from tests.circuits.cases_fill import _filling
from tests.circuits.forced import get_circuit
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
    block_inputs,
    book_inputs,
    fill,
    flip,
    key_book,
    order,
    prepare_all,
    record_inputs,
    rest_book,
    resting,
    to,
    two_asks,
    two_slot_order,
    two_slots,
    violation,
    with_unused_byte,
)
from tests.protocol.helpers import FAR, MARKET

ON = "slot0/create_order/"
TOP = (1 << PRESET.order_nonce_bits) - 1  # the first nonce of an empty bid side


def _taker(name: str, change: Callable[[int], int], **kw: object) -> Violation:
    return violation(order(), wires={f"{ON}taker_{name}": change}, **kw)  # type: ignore[arg-type]


def second_market(state: State) -> None:
    """Market 1 (ETH at 1,000) added to the state."""
    data = MarketData(index_price=1_000, mark_price=1_000)
    state.markets.append(Market(1, MARKET, data, OrderBook(PRESET.order_nonce_bits)))
    state.dirty.markets.add(1)
    state.dirty.books.add(1)


def _market_one_book(state: State) -> BookWitness:
    """The book unit where ``order()`` would rest in market 1's (empty) book."""
    return capture_book(state, 1, MARK << PRESET.order_nonce_bits | TOP)


def _claim_nothing_pending() -> Violation:
    """A claim of account 0 (the running taker's account when none is pending) in slot 0: a
    step of no taker, at the book's key 0, which the rules refuse."""
    op = Claim(0)
    return violation(op, claim.RECORD.encode((0, 0, 0, 0)), book=key_book(0))


CLAIM_CASES: dict[str, Callable[[], Violation]] = {
    # the order rests at limit + 1, 101 lots, as an ask, reduce-only (no margin), with an
    # expiry, in market 1's book, or rests where IOC
    "create_order/taker_limit": lambda: _taker(
        "limit", add(1), book=rest_book(order(), price=MARK + 1)
    ),
    "create_order/taker_remaining": lambda: _taker("remaining", add(1)),
    "create_order/taker_is_ask": lambda: _taker("is_ask", flip, book=rest_book(order(True))),
    "create_order/taker_reduce_only": lambda: _taker("reduce_only", to(1)),
    "create_order/taker_expiry": lambda: _taker("expiry", to(FAR)),
    "create_order/taker_market": lambda: _taker(
        "market", to(1), prepare=second_market, book=_market_one_book
    ),
    "create_order/taker_rests": lambda: violation(
        order(time_in_force=TimeInForce.IOC),
        book=rest_book(order()),
        wires={f"{ON}taker_rests": to(1)},
    ),
    # account 5's ask filled while the record names account 4 as the maker
    "create_order/maker": lambda: _filling(
        fill()[0], resting(account=5, price=ASK_PRICE), b=5, wires={f"{ON}maker": to(5)}
    ),
    # a post-only bid that takes
    "create_order/post_only_on": lambda: _filling(
        fill(time_in_force=TimeInForce.POST_ONLY)[0],
        fill()[1],
        wires={f"{ON}post_only_on": to(0)},
    ),
    "claim/taker_pending": _claim_nothing_pending,
}


# -- two slots: 3 bids 150 at ASK_PRICE; its step takes 4's first ask of 100, 50 stay pending ---
# (``violations.two_slots``). F: a second ask of 100 rests, the claim fills 50 of it; R: none
# does, the claim rests the 50 at ASK_PRICE (cancels them when IOC).


def _record(account: int = 3, market: int = 0, maker: int = 0, filled: int = 0) -> dict[str, int]:
    """Slot 1's record: a claim naming these."""
    return as_slot(1, record_inputs(claim.RECORD.encode((account, market, maker, filled))))


def _a(state: State, index: int) -> dict[str, int]:
    """Account ``index`` (its fields, path and positions) as slot 1's A."""
    inputs = account_inputs("a", capture_account(state, index))
    for m, position in enumerate(capture_positions(state, index)):
        held = zip(POSITION_FIELDS, position, strict=True)
        inputs |= {f"slot0/a_positions/market{m}/{n}": x % R for n, x in held}
    return as_slot(1, inputs)


def _book(market: int, price: int, is_ask: bool = False) -> Callable[[State], dict[str, int]]:
    """Slot 1's book unit at the key where a ``price`` order of that side would rest."""

    def inputs(state: State) -> dict[str, int]:
        book = state.markets[market].book
        key = book.compute_key(price, book.get_next_nonce(is_ask))
        return as_slot(1, book_inputs(capture_book(state, market, key)))

    return inputs


def _merged(*parts: Callable[[State], dict[str, int]]) -> Callable[[State], dict[str, int]]:
    return lambda state: {k: v for part in parts for k, v in part(state).items()}


F = two_asks
R_ = resting(account=4)
PENDING = "slot0/step/pending/"
CLAIM = "slot1/claim/"


def _rest(
    name: str,
    change: Callable[[int], int],
    claim_inputs: Callable[[State], dict[str, int]] | None = None,
    prepare: Callable[[State], None] = R_,
    time_in_force: TimeInForce = TimeInForce.GTC,
) -> TwoSlots:
    """R with the pending taker's ``name`` changed."""
    op = two_slot_order(time_in_force=time_in_force)
    return two_slots(op, prepare, 0, {PENDING + name: change}, claim_inputs)


TWO_SLOT_CASES: dict[str, Callable[[], TwoSlots]] = {
    # the claim: another account's, in another market, another market's margin, a maker or a
    # size the record does not name, a stray byte
    "claim/a_is_taker": lambda: two_slots(
        two_slot_order(), F, 1, claim=lambda s: _a(s, 5) | _record(5, 0, 4, 50)
    ),
    "claim/market_is_takers": lambda: two_slots(
        two_slot_order(), prepare_all(F, second_market), 1, claim=lambda s: _record(3, 1, 4, 50)
    ),
    "claim/market/selected#": lambda: two_slots(
        two_slot_order(), R_, 1, {CLAIM + "market/selected0": to(0)}
    ),
    "claim/maker": lambda: two_slots(
        two_slot_order(),
        prepare_all(resting(account=4), resting(account=5)),
        1,
        {CLAIM + "maker": to(5)},
        lambda s: _record(3, 0, 4, 50),
    ),
    "claim/filled": lambda: two_slots(
        two_slot_order(), F, 1, {CLAIM + "filled": to(50)}, lambda s: _record(3, 0, 4, 30)
    ),
    "claim/unused_bytes_zero": lambda: two_slots(
        two_slot_order(),
        F,
        1,
        claim=lambda s: as_slot(
            1,
            record_inputs(
                with_unused_byte(get_circuit(Claim(3)), claim.RECORD.encode((3, 0, 4, 50)))
            ),
        ),
    ),
    # the pending taker: its remainder rests with another expiry, reduce-only, at another
    # price, side or market, rests where IOC, or is claimed for another account
    "step/pending/expiry": lambda: _rest("expiry", to(FAR)),
    "step/pending/reduce_only": lambda: _rest("reduce_only", to(1)),
    "step/pending/limit": lambda: _rest("limit", add(1), _book(0, ASK_PRICE + 1)),
    "step/pending/is_ask": lambda: _rest("is_ask", to(1), _book(0, ASK_PRICE, True)),
    "step/pending/rests": lambda: _rest(
        "rests", to(1), _book(0, ASK_PRICE), time_in_force=TimeInForce.IOC
    ),
    "step/pending/market": lambda: _rest(
        "market",
        to(1),
        _merged(_book(1, ASK_PRICE), lambda s: _record(3, 1)),
        prepare_all(R_, second_market),
    ),
    # the order's own account moved: its remainder claimed and filled for account 5
    "create_order/taker_account": lambda: two_slots(
        two_slot_order(),
        F,
        0,
        {ON + "taker_account": to(5)},
        lambda s: _a(s, 5) | _record(5, 0, 4, 50),
    ),
    # the remainder vanishes, no claim following; or rests with 10 lots more
    "step/pending/active": lambda: _noop_after({PENDING + "active": to(0)}),
    "step/pending/remaining": lambda: _rest("remaining", to(60)),
    "step/pending/account": lambda: two_slots(
        two_slot_order(),
        F,
        0,
        {PENDING + "account": to(5)},
        lambda s: _a(s, 5) | _record(5, 0, 4, 50),
    ),
}


def _claim_selector_negated() -> Violation:
    """A noop record with the claim's selector -1 and the deposit's and create order's 1 (the
    type byte 0 - 17 + 1 + 16 = 0)."""
    selectors = {"noop": 0, "claim": -1, "deposit": 1, "create_order": 1}
    return violation(Noop(), inputs={f"slot0/type/is_{n}": v for n, v in selectors.items()})


# - the claim's selector: ``claim/taker_pending`` pins it to 0 where no taker is pending and
#   ``only_claims_while_pending`` to 1 where one is, so no value other than 0 or 1 passes
#   both (the boolean is redundant; it is kept as the selectors' own rule).
def _noop_after(wires: dict[str, Callable[[int], int]]) -> TwoSlots:
    """F with a noop in slot 1 (the rules' noop, the pending taker set aside to build it) and
    ``wires`` of slot 0 changed: the order's remainder vanishes unclaimed."""

    def noop(after: State) -> dict[str, int]:
        state = copy.deepcopy(after)
        state.pending = None
        slot = build_slot_witness(state, Noop())
        inputs = as_slot(1, block_inputs(replace(base.witness, slots=(slot,))))
        return {k: v for k, v in inputs.items() if k.startswith("slot1/")}

    base = two_slots(two_slot_order(), F, 1)
    return two_slots(two_slot_order(), F, 0, wires, noop)


def pending_taker_dropped() -> TwoSlots:
    """``slot1/only_claims_while_pending`` alone refuses the noop after a pending taker (a slot
    1 constraint: slot 0 has none, so it is not one of ``CASES``)."""
    return _noop_after({})


def _past_the_step_limit() -> TwoSlots:
    """3's bid of 250 against F: its claim, the second step, fills 100 and ends it at the step
    limit; with slot 0's step count 0 the taker stays pending with 50 instead."""
    return two_slots(two_slot_order(250), F, 0, {PENDING + "steps": to(0)})


CLAIM_GUARDED: dict[str, tuple[Callable[[], Violation | TwoSlots], set[str]]] = {
    # a taker carried past the step limit: in a two-slot block the block's end refuses it too
    # (with more heavy slots the next claim would take a third step)
    "step/pending/steps": (_past_the_step_limit, {"heavy_end/no_pending_taker"}),
    "type/is_claim_boolean": (
        _claim_selector_negated,
        {
            "claim/taker_pending",
            "deposit/amount_positive",
            *("create_order/price_positive", "create_order/signer/not_rule_only"),
            *(f"create_order/{r}/range/bits_sum" for r in ("price_in_band", "size_at_least_min")),
            "signature/eddsa/public_key/not_identity/x_invertible",
            "signature/eddsa/public_key/in_subgroup/is_8q_y",
            *("signature/eddsa/s_g_is_r_plus_c_a_x", "signature/eddsa/s_g_is_r_plus_c_a_y"),
        },
    ),
}

CLAIM_FAMILIES = {"claim/market/selected#"}
