"""Cases of ``test_necessity`` for create order's filling branch and the fill unit's checks
(``circuits/ops/fill_unit.py``): maker, priority, open interest, the maker's order.

Most start from ``violations.fill()`` (account 3 bids for 40 of account 4's 100-lot ask at
``ASK_PRICE``) with the book, a maker or the record changed; where the rules would refuse the
order, the record is the one a cheating operator posts (``_record``: the order, a maker, a
filled size).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from protocol.field import R
from protocol.ops import create_order
from protocol.ops.create_order import CreateOrder, TimeInForce
from protocol.orders import rest_order
from protocol.state import State
from sequencer.witness import capture_account, capture_book, capture_positions
from tests.circuits.forced import get_circuit
from tests.circuits.test_block import START
from tests.circuits.tracing import WireFn
from tests.circuits.violations import (
    ASK_PRICE,
    FILL_LOTS,
    MARK,
    POSITION_FIELDS,
    PRESET,
    Violation,
    account_inputs,
    add,
    ask_key,
    edit,
    fill,
    order,
    prepare_all,
    resting,
    started,
    to,
    violation,
)
from tests.protocol.helpers import key_of

ON = "slot0/create_order/"
STEP = "slot0/step/fill_step/"


def _record(op: CreateOrder, maker: int = 4, filled: int = FILL_LOTS) -> bytes:
    """The record of ``op`` naming ``maker`` and ``filled`` (what the operator posts)."""
    fields = (op.account, op.market, op.flags, op.price, op.size, op.trigger_price)
    return create_order.RECORD.encode((*fields, op.order_expiry, maker, filled))


def _rests(account: int, price: int = ASK_PRICE, expired: bool = False) -> Callable[[State], None]:
    """``account`` rests an ask of 100 lots at ``price`` in market 0 (``expired``: its expiry
    the second before the block's)."""

    def prepare(state: State) -> None:
        market, holder = state.markets[0], state.get_account(account)
        expiry = state.timestamp - 1 if expired else 0
        rest_order(state, market, holder, True, price, 100, False, expiry, [])

    return prepare


def _capped(state: State) -> None:
    """Market 0's open interest capped at 30 lots (a fill of 40 opens 40)."""
    market = state.markets[0]
    market.params = replace(market.params, max_open_interest=30)
    state.dirty.markets.add(0)


def _b_inputs(scratch: State, b: int) -> dict[str, int]:
    """Account ``b``'s fields and positions as B's inputs."""
    inputs = account_inputs("b", capture_account(scratch, b))
    for m, position in enumerate(capture_positions(scratch, b)):
        held = zip(POSITION_FIELDS, position, strict=True)
        inputs |= {f"slot0/b_positions/market{m}/{n}": x % R for n, x in held}
    return inputs


def _filling(
    op: CreateOrder,
    prepare: Callable[[State], None],
    key: int | None = None,
    maker: int = 4,
    filled: int = FILL_LOTS,
    b: int | None = None,
    wires: dict[str, WireFn] | None = None,
) -> Violation:
    """``op`` filling ``filled`` lots of the ask at ``key`` (by default ``ask_key()``), its
    record naming ``maker``; B is account ``b`` (by default the maker), also where the rules
    would meet another maker or none."""
    at = ask_key() if key is None else key
    v = violation(
        op,
        record=_record(op, maker, filled),
        prepare=prepare,
        book=lambda state: capture_book(state, 0, at),
        wires=wires or {},
    )
    b = maker if b is None else b
    scratch = started()
    prepare(scratch)
    if get_circuit(op).get_accounts(op, scratch)[1] != b:
        v.inputs = _b_inputs(scratch, b) | v.inputs
    return v


# -- the taker ----------------------------------------------------------------------------------


def _fee_account_orders() -> Violation:
    """The fee account (given a key) sends an IOC bid that meets nothing."""
    op = order(account=1, time_in_force=TimeInForce.IOC)
    point = key_of(1).public_key
    return violation(op, edit_a=edit(pubkey=(point.x, point.y)))


# -- the maker ----------------------------------------------------------------------------------


def _expired(wires: dict[str, WireFn] | None = None) -> Violation:
    """``fill()``'s bid meets account 4's ask whose expiry has passed."""
    return _filling(fill()[0], _rests(4, expired=True), wires=wires)


def _empty_maker() -> Violation:
    """An ask of account 3 at the mark "fills" 40 lots at the empty key there, whose leaf is
    no one's: B is account 0 (the record's maker), given collateral for the long."""

    def prepare(state: State) -> None:
        state.set_collateral(state.get_account(0), START)

    op = order(is_ask=True, price=MARK, size=FILL_LOTS)
    return _filling(op, prepare, MARK << PRESET.order_nonce_bits, maker=0)


# -- price-time priority: account 5's ask comes first, account 4's is filled ---------------------

BETTER_KEY = (ASK_PRICE + 1) << PRESET.order_nonce_bits | 1  # account 4's ask, behind a cheaper


def _better_skipped(wires: dict[str, WireFn] | None = None) -> Violation:
    """A bid at ``ASK_PRICE + 1`` fills account 4's ask there, skipping 5's at ``ASK_PRICE``."""
    prepare = prepare_all(_rests(5), _rests(4, ASK_PRICE + 1))
    return _filling(order(price=ASK_PRICE + 1, size=FILL_LOTS), prepare, BETTER_KEY, wires=wires)


def _earlier_skipped(wires: dict[str, WireFn] | None = None) -> Violation:
    """A bid fills account 4's ask at ``ASK_PRICE``, skipping 5's there before it."""
    return _filling(fill()[0], prepare_all(_rests(5), _rests(4)), ask_key(1), wires=wires)


# -- open interest ------------------------------------------------------------------------------


def _over_cap(wires: dict[str, WireFn] | None = None) -> Violation:
    """``fill()`` opening 40 lots each side in a market capped at 30."""
    op, prepare = fill()
    return _filling(op, prepare_all(_capped, prepare), wires=wires)


FILL_CASES: dict[str, Callable[[], Violation]] = {
    # the maker: the record's, B's, live, not the taker's own
    "step/fill_step/maker_is_record": lambda: _filling(*fill(), maker=5, b=4),
    "step/fill_step/maker_is_b": lambda: _filling(*fill(), maker=5),
    "step/fill_step/not_self_trade": lambda: _filling(fill()[0], resting(account=3), maker=3),
    "step/fill_step/maker_not_expired/left": lambda: _expired(
        wires={STEP + "maker_not_expired/left": to(0)}
    ),
    "step/fill_step/maker_not_expired/no_expiry": lambda: _expired(
        wires={STEP + "maker_not_expired/no_expiry": to(started().timestamp)}
    ),
    # the taker: not the fee account, not post-only, filled entirely by its signed size
    "create_order/not_fee_account": _fee_account_orders,
    "create_order/post_only_never_takes": lambda: _filling(
        fill(time_in_force=TimeInForce.POST_ONLY)[0], fill()[1]
    ),
    "create_order/is_post_only": lambda: _filling(
        fill(time_in_force=TimeInForce.POST_ONLY)[0],
        fill()[1],
        wires={ON + "is_post_only": to(0)},
    ),
    "create_order/filled": lambda: _filling(*fill(), filled=30, wires={ON + "filled": to(40)}),
    "step/taker_size": lambda: _filling(
        *fill(), filled=100, wires={"slot0/step/taker_size": to(100)}
    ),
    # priority: the cheaper ask, the earlier ask at the price skipped
    "step/fill_step/priority/no_better_price": _better_skipped,
    "step/fill_step/priority/better_side": lambda: _better_skipped(
        wires={STEP + "priority/better_side": to(0)}
    ),
    "step/fill_step/priority/no_earlier_at_price": _earlier_skipped,
    "step/fill_step/priority/earlier_side": lambda: _earlier_skipped(
        wires={STEP + "priority/earlier_side": to(0)}
    ),
    # open interest: 40 lots opened past a cap of 30 (or the market's change misstated)
    "step/fill_step/open_interest/room": lambda: _over_cap(
        wires={STEP + "open_interest/room": to(0)}
    ),
    "step/fill_step/open_interest/grew": lambda: _over_cap(
        wires={STEP + "open_interest/grew": to(0)}
    ),
    "step/fill_step/open_interest/before#": lambda: _over_cap(
        wires={STEP + "open_interest/before0": add(-10)}
    ),
    "step/fill_step/open_interest/cap#": lambda: _over_cap(
        wires={STEP + "open_interest/cap0": add(10)}
    ),
    "step/fill_step/open_interest/change#": lambda: _filling(
        *fill(), wires={STEP + "open_interest/change0": add(-1)}
    ),
    # the maker's order: filled out while B's open orders keep it
    "step/fill_step/maker_order/emptied": lambda: _filling(
        *fill(size=100), filled=100, wires={STEP + "maker_order/emptied": to(0)}
    ),
}

# - the maker's lots: the fill's size is the least of both sides' remaining lots and positive
#   (``fill/size_is_min``, ``fill/size_positive``), so a maker with none never passes those.
FILL_GUARDED: dict[str, tuple[Callable[[], Violation], set[str]]] = {
    "step/fill_step/maker_exists": (
        _empty_maker,
        {"step/fill_step/fill/size_is_min"},
    ),
}

FILL_FAMILIES = {f"step/fill_step/open_interest/{name}#" for name in ("before", "cap", "change")}
