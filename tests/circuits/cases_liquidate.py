"""Cases of ``test_necessity`` for the liquidation (``circuits/ops/liquidate.py``) and the
liquidation taker's parts of the fill unit (``fill_unit``'s ``liquidation``,
``liquidation_charge/*``, ``insurance``, ``liquidated``, ``liquidation_risk_not_failed``) and of
the step unit (``step/pending/zero_price``).

The liquidation every case starts from (``BASE``): account 3 long 100 lots at the mark (10,000)
with a TAV of 40,001 (MMR 50,000, CMR 25,000: partial liquidation; zero price 9,599, its
remainder far from both ends of its range), 40 lots of it sold to account 4's bid of 100 at
9,900. ``NO_BID``: the same account with an empty book, its liquidation cancelled unfilled at
the zero price. A refusal of the rules is a state the rules refuse (a healthy account, one below
close-out, the fee account, an absent one, a spent epoch) with the record of the liquidation as
if allowed; a product is moved where its consumers stay satisfied.

Two cases are two-slot blocks: the liquidation of 60 lots takes 4's 40 and leaves 20 pending
for its claim, which fills them from 5's bid (``pending/zero_price`` moved: the claim charges
another price), or ends there on a failure of A's risk rule that the rules never check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from circuits.ops.book_unit import BookWitness
from protocol.accounts import FEE_ACCOUNT
from protocol.ops import claim, liquidate
from protocol.ops.liquidate import Liquidate
from protocol.ops.noop import Noop
from protocol.state import State
from sequencer.witness import capture_book
from tests.circuits.cases_claim import second_market
from tests.circuits.forced import get_circuit
from tests.circuits.violations import (
    MARK,
    PRESET,
    TwoSlots,
    Violation,
    add,
    as_slot,
    edit,
    flip,
    prepare_all,
    record_inputs,
    resting,
    to,
    two_slots,
    violation,
    with_unused_byte,
)

ON = "slot0/liquidate/"
FILL = "slot0/step/fill_step/"
LOTS, SOLD = 100, 40
BID = 9_900  # 4's bid: above every zero price here
ZERO = 9_599  # the zero price of ``BASE``
LAST_EPOCH = (1 << PRESET.account_nonce_bits) - 1


def in_liquidation(account: int = 3, tav: int = 40_001) -> Callable[[State], None]:
    """``account`` long ``LOTS`` at the mark, its collateral such that its TAV is ``tav``
    (written into the state directly)."""

    def prepare(state: State) -> None:
        holder = state.get_account(account)
        state.set_position_field(holder, 0, "size", LOTS)
        state.set_position_field(holder, 0, "entry_quote", LOTS * MARK)
        state.set_collateral(holder, tav - LOTS * MARK)

    return prepare


def _bid(account: int = 4, lots: int = LOTS, price: int = BID) -> Callable[[State], None]:
    return resting(account=account, lots=lots, is_ask=False, price=price)


BASE = prepare_all(in_liquidation(), _bid())
NO_BID = in_liquidation()


def _record(account: int = 3, size: int = SOLD, maker: int = 4, filled: int = SOLD) -> bytes:
    return liquidate.RECORD.encode((account, 0, size, maker, filled))


def at_bid(state: State) -> BookWitness:
    """The book unit at 4's bid (where the step meets it, whatever the rules decide)."""
    book = state.markets[0].book
    return capture_book(state, 0, max(o.key for o in book.orders.values() if not o.is_ask))


def _sold(
    prepare: Callable[[State], None] = BASE,
    account: int = 3,
    record: bytes | None = None,
    maker: int = 4,
    **kw: Any,
) -> Violation:
    """``account``'s liquidation of ``SOLD`` lots to ``maker``'s bid, after ``prepare`` (the
    record of a fill by 4, and the book unit at the bid and B its owner, even where the rules
    refuse it)."""
    op = Liquidate(account, 0, SOLD)
    record = record or _record(account)
    return violation(op, record, prepare=prepare, book=at_bid, counterparty=maker, **kw)


def _moved(wire: str, change: Callable[[int], int], **kw: Any) -> Callable[[], Violation]:
    return lambda: _sold(wires={wire: change}, **kw)


def _unfilled(
    wire: str,
    change: Callable[[int], int],
    price: int = ZERO,
    prepare: Callable[[State], None] = NO_BID,
    market: int = 0,
) -> Violation:
    """``NO_BID``'s liquidation, cancelled at the zero price (the book unit at ``price`` in
    ``market``)."""
    op, record = Liquidate(3, 0, SOLD), _record(maker=0, filled=0)
    key = price << PRESET.order_nonce_bits

    def book(state: State) -> BookWitness:
        return capture_book(state, market, key)

    return violation(op, record, prepare=prepare, book=book, wires={ON + wire: change})


def _inverse(name: str) -> Callable[[], Violation]:
    """``name``'s nonzero check handed a 0 inverse."""
    return lambda: _sold(hints={ON + f"{name}_inverse": lambda *_: [0]})


def _maker_moved() -> Violation:
    """5's bid is met and filled, the record naming 4."""
    prepare = prepare_all(in_liquidation(), _bid(account=5))
    return _sold(prepare, maker=5, wires={ON + "maker": to(5)})


def _filled_moved() -> Violation:
    """The record posts 30 lots, the step told the 40 the rules sell."""
    op = Liquidate(3, 0, SOLD)
    return violation(op, _record(filled=30), prepare=BASE, wires={ON + "filled": to(SOLD)})


# two slots: 60 lots, 40 to 4 at BID, 20 pending for the claim, which takes them from 5's bid
TWO = prepare_all(in_liquidation(), _bid(lots=SOLD), _bid(account=5, price=BID - 50))


def _pending_zero_price() -> TwoSlots:
    return two_slots(
        Liquidate(3, 0, 60),  # type: ignore[arg-type]
        TWO,
        0,
        {"slot0/step/pending/zero_price": add(-1)},
    )


def _risk_ended() -> TwoSlots:
    """The claim ends the liquidation's taker at 5's bid on A's risk rule, which fails after the
    fill tried (the zero price rounds against A) but the rules do not check."""
    record = as_slot(1, record_inputs(claim.RECORD.encode((3, 0, 0, 0))))
    inputs = record | {"slot1/step/ends_taker": 1}
    return two_slots(Liquidate(3, 0, 60), TWO, 1, None, lambda _: inputs)  # type: ignore[arg-type]


LIQUIDATE_CASES: dict[str, Callable[[], Violation | TwoSlots]] = {
    # refusals: the account absent, reserved, healthy, pre-liquidation or below close-out
    "liquidate/account_exists": lambda: _sold(edit_a=edit(exists=False)),
    "liquidate/not_reserved": lambda: _sold(
        prepare_all(in_liquidation(FEE_ACCOUNT), _bid()), FEE_ACCOUNT
    ),
    "liquidate/below_maintenance": lambda: _sold(prepare_all(in_liquidation(tav=50_000), _bid())),
    "liquidate/not_below_close_out": lambda: _sold(prepare_all(in_liquidation(tav=20_000), _bid())),
    "liquidate/epoch_not_spent": lambda: _sold(edit_a=edit(cancel_epoch=LAST_EPOCH)),
    "liquidate/size_positive": _inverse("size_positive"),
    "liquidate/zero_price_positive": _inverse("zero_price_positive"),
    "liquidate/size_within_position/room": _moved(ON + "size_within_position/room", add(1)),
    "liquidate/zeroed": lambda: _sold(
        prepare_all(BASE, resting(account=3, lots=10)), wires={ON + "zeroed": to(0)}
    ),
    # the market's values and A's position picked wrong
    "liquidate/mark#": _moved(ON + "mark0", add(1)),
    "liquidate/mmf#": _moved(ON + "mmf0", add(1)),
    "liquidate/position#": _moved(ON + "position0", add(-1)),
    # the zero price's products
    **{
        ON.removeprefix("slot0/") + f"zero_price/{name}": _moved(ON + f"zero_price/{name}", change)
        for name, change in (
            ("gap_times_mmr", add(1)),
            ("long_gap", add(1)),
            ("mark_mmf_tav", add(1)),
            ("mmf_times_tav", add(1)),
            ("remainder", add(1)),
            ("within_a_tick/scale_less_one", add(1)),
            ("in_range/on_zero", add(1)),
        )
    },
    # the taker handed to the step: another account, side, limit, market or size
    "liquidate/taker_account": lambda: _unfilled("taker_account", to(5)),
    "liquidate/taker_is_ask": lambda: _unfilled("taker_is_ask", flip),
    "liquidate/taker_limit": lambda: _unfilled("taker_limit", add(1), ZERO + 1),
    "liquidate/taker_remaining": lambda: _unfilled("taker_remaining", add(1)),
    # the taker handed market 1 (added), its book unit there
    "liquidate/taker_market": lambda: _unfilled(
        "taker_market", add(1), prepare=prepare_all(NO_BID, second_market), market=1
    ),
    "liquidate/maker": _maker_moved,
    "liquidate/filled": _filled_moved,
    "liquidate/unused_bytes_zero": lambda: _sold(
        record=with_unused_byte(get_circuit(Liquidate(3, 0, SOLD)), _record())
    ),
    # the fill of a liquidation taker: its fee, charge, spread and risk rule
    "step/fill_step/taker_fee_rate_unless_liquidation": _moved(
        FILL + "taker_fee_rate_unless_liquidation", to(500)
    ),
    "step/fill_step/liquidation_charge/charged": _moved(
        FILL + "liquidation_charge/charged", add(1)
    ),
    "step/fill_step/liquidation_charge/liquidated_quote": _moved(
        FILL + "liquidation_charge/liquidated_quote", add(1)
    ),
    "step/fill_step/liquidation_charge/ask_spread": _moved(
        FILL + "liquidation_charge/ask_spread", add(1)
    ),
    "step/fill_step/insurance": _moved(FILL + "insurance", add(1)),
    # the zero price exact (TAV 40,000): A's rule, checked, passes
    "step/fill_step/liquidated": lambda: _sold(
        prepare_all(in_liquidation(tav=40_000), _bid()), wires={FILL + "liquidated": to(0)}
    ),
    "step/pending/zero_price": _pending_zero_price,
    "step/fill_step/liquidation_risk_not_failed": _risk_ended,
}

LIQUIDATE_FAMILIES = {"liquidate/mark#", "liquidate/mmf#", "liquidate/position#"}


def _selectors(**values: int) -> dict[str, int]:
    return {f"slot0/type/is_{name}": v for name, v in values.items()}


# a market out of the tree, absent, or not selected: A's position and the mark read 0 there,
# so the size check and the zero price refuse too, and the step (its market, its fill) and A's
# risk rule (a zero price of 0 is no liquidation's)
_NO_MARKET = {
    "liquidate/size_within_position/range/bits_sum",
    "liquidate/zero_price_positive",
    *(f"step/fill_step/fill/{n}" for n in ("maker_opposite", "size_is_min")),
    "step/fill_step/fill/within_limit/range/bits_sum",
    "valid_risk_change",
}
_CAP = "step/fill_step/open_interest/open_interest_cap/range/bits_sum"

LIQUIDATE_GUARDED: dict[str, tuple[Callable[[], Violation | TwoSlots], set[str]]] = {
    "liquidate/market/in_tree": (
        lambda: _market(7),
        _NO_MARKET | {"step/book_market_is_takers", _CAP},
    ),
    "liquidate/market/exists1": (
        lambda: _market(1),
        _NO_MARKET | {"step/book_market_is_takers", _CAP},
    ),
    "liquidate/market/selected0": (
        lambda: _sold(wires={ON + "market/selected0": to(0)}),
        _NO_MARKET | {_CAP},
    ),
    # a noop (account 0, the fund) with liquidate's selector -1: its refusals, negated, and
    # the fund's open orders and epoch moved by -1
    "type/is_liquidate_boolean": (
        lambda: violation(Noop(), inputs=_selectors(liquidate=-1, noop=1, forced_withdraw=1)),
        {
            "block_end/insurance_fund/open_orders/range/bits_sum",
            "b/epoch_follows_a",
            *("book/book_root_matches", "book/order_root_matches"),
            *("liquidate/below_maintenance", "liquidate/not_reserved"),
            *("liquidate/size_positive", "liquidate/zero_price_positive"),
        },
    ),
}


def _market(market: int) -> Violation:
    """A liquidation in ``market`` (out of the tree, or absent), its record as in market 0."""
    op = Liquidate(3, market, SOLD)
    record = liquidate.RECORD.encode((3, market, SOLD, 4, SOLD))
    return violation(op, record, prepare=BASE, book=at_bid, counterparty=4)
