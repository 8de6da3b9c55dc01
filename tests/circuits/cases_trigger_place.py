"""Cases of ``test_necessity`` for placing and cancelling trigger orders
(``circuits/ops/create_order.py``'s trigger kinds, ``cancel_order.py``'s ``is_trigger``) and the
book unit's trigger path (``circuits/ops/book_unit.py``) that they share with the firing.

A placement is account 3's buy stop-loss of 100 lots (3 short 200), triggered at the mark + 5
with its worst price the mark + 50: trigger id 0 of market 0, whose trigger tree is empty. A
trigger cancel removes account 3's trigger order 0, placed directly into the state
(``cases_trigger.place``). The prover moves one wire (or input), and the rest of the witness
follows, so only the constraint that defines it breaks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from circuits.ops.book_unit import TRIGGER_FIELDS, BookWitness
from protocol.block import compute_record
from protocol.ops import cancel_order, create_order
from protocol.ops.create_order import CreateOrder, OrderKind, TimeInForce
from sequencer.witness import capture_book
from tests.circuits.cases_claim import second_market
from tests.circuits.cases_trigger import place
from tests.circuits.violations import (
    MARK,
    PRESET,
    Violation,
    add,
    cancel,
    edit,
    order,
    prepare_all,
    real_record,
    resting,
    short,
    sign_as,
    sign_payload_as,
    to,
    violation,
)

ON = "slot0/create_order/"
CANCEL = "slot0/cancel_order/"
TRIGGER = MARK + 5
WORST = MARK + 50
FLAGS = create_order.RECORD.offset("flags")[0]
IS_TRIGGER = cancel_order.RECORD.offset("is_trigger")[0]


def placement(**kw: Any) -> CreateOrder:
    """3's buy stop-loss (``kw``: CreateOrder's other fields)."""
    fields: dict[str, Any] = {
        "price": WORST,
        "kind": OrderKind.STOP_LOSS,
        "time_in_force": TimeInForce.IOC,
        "reduce_only": True,
        "trigger_price": TRIGGER,
    }
    return order(**(fields | kw))


def placed(
    wires: dict[str, Callable[[int], int]] | None = None,
    op: CreateOrder | None = None,
    prepare: Callable[..., None] | None = None,
    **kw: Any,
) -> Violation:
    """The placement's forced slot (3 short 200), the prover's changes ``wires`` and ``kw``."""
    return violation(op or placement(), prepare=prepare or short(3, 200), wires=wires or {}, **kw)


def _leaf_input(name: str, value: int) -> Violation:
    """The trigger leaf written with ``name`` other than the order's."""
    return placed(inputs={f"slot0/book/trigger_{name}": value})


def _record(op: CreateOrder, **fields: int) -> bytes:
    """``op``'s record, its fill fields ``fields`` (maker, filled)."""
    values = dict(zip([f.name for f in create_order.RECORD.fields], _fields(op), strict=True))
    values |= fields
    return create_order.RECORD.encode(tuple(values.values()))


def _fields(op: CreateOrder) -> tuple[int, ...]:
    record = compute_record(op, ())
    return tuple(
        int.from_bytes(record[s : s + n], "big")
        for s, n in (create_order.RECORD.offset(f.name) for f in create_order.RECORD.fields)
    )


def _flag_six() -> Violation:
    """A resting bid's record with flag bit 6 set (signed as the order: the payload reads
    bits 0..5)."""
    record = bytearray(real_record(order()))
    record[FLAGS] |= 1 << 6
    return violation(order(), record=bytes(record))


def _on_key(key: int) -> Callable[[Any], BookWitness]:
    """The book unit at ``key`` in market 0 with the placement's trigger leaf (id 0)."""

    def capture(state: Any) -> BookWitness:
        w = capture_book(state, 0, key, 0)
        fields = (3, 0, 1, 100, TRIGGER, WORST, 0)
        return replace(w, trigger=fields)

    return capture


def _cancel_trigger(trigger_id: int = 0, account: int = 3) -> Any:
    return cancel(key=trigger_id, account=account, is_trigger=True)


def _other_trigger_id() -> Violation:
    """3 cancels its trigger 1; the leaf opened is its trigger 0 (alike)."""
    return violation(
        _cancel_trigger(1),
        prepare=prepare_all(place(), place()),
        book=lambda state: capture_book(state, 0, 1, 0),
        wires={CANCEL + "trigger_id": to(0)},
    )


def _two_triggered_cancel() -> Violation:
    """A cancel whose is_trigger byte is 2, signed so: its bit 0 is 0 (a resting order's)."""
    op = cancel()
    record = bytearray(compute_record(op, ()))
    record[IS_TRIGGER] = 2
    return violation(
        op,
        prepare=resting(),
        record=bytes(record),
        inputs=sign_payload_as(op, (op.market, op.key, 2), 3),
    )


TRIGGER_PLACE_CASES: dict[str, Callable[[], Violation]] = {
    "create_order/flags_in_range": _flag_six,
    # a stop-loss read as a take-profit, its leaf written so
    "create_order/is_take_profit": lambda: placed(
        {ON + "is_take_profit": to(1)}, inputs={"slot0/book/trigger_is_stop_loss": 0}
    ),
    "create_order/trigger_price_positive": lambda: placed(op=placement(trigger_price=0)),
    "create_order/trigger_price_in_range/trigger_price": lambda: placed(
        {ON + "trigger_price_in_range/trigger_price": add(1)}
    ),
    "create_order/trigger_is_reduce_only": lambda: placed(op=placement(reduce_only=False)),
    "create_order/trigger_fills_nothing": lambda: placed(
        record=_record(placement(), maker=4, filled=10)
    ),
    "create_order/open_orders_below_max": lambda: placed(
        edit_a=edit(open_orders=PRESET.max_open_orders_per_account)
    ),
    "create_order/book_is_order_market": lambda: placed(
        prepare=prepare_all(short(3, 200), second_market),
        book=lambda state: replace(
            capture_book(state, 1, 0, 0), trigger=(3, 0, 1, 100, TRIGGER, WORST, 0)
        ),
    ),
    # the trigger nonce kept; the order written at another id
    "create_order/trigger_nonce#": lambda: placed({ON + "trigger_nonce0": to(0)}),
    "create_order/trigger_id#": lambda: placed({ON + "trigger_id0": to(1)}),
    **{
        f"create_order/writes_{name}": partial(_leaf_input, name, value)
        for name, value in zip(
            TRIGGER_FIELDS, (4, 1, 0, 99, TRIGGER + 1, WORST + 1, 1), strict=True
        )
    },
    # cancelling a trigger order
    "cancel_order/is_trigger_is_bit": _two_triggered_cancel,
    "cancel_order/trigger_id": _other_trigger_id,
    # 3's trigger 0 cancelled under a signature of the cancel of its resting order 0
    "cancel_order/signed_is_trigger": lambda: violation(
        _cancel_trigger(),
        prepare=place(),
        inputs=sign_as(cancel(key=0), 3),
        wires={CANCEL + "signed_is_trigger": to(0)},
    ),
    "cancel_order/trigger_is_signers": lambda: violation(
        _cancel_trigger(), prepare=place(account=4)
    ),
    "cancel_order/trigger_is_live": lambda: violation(_cancel_trigger(), prepare=place(dead=True)),
}

# (witness, the other constraints that refuse it)
TRIGGER_PLACE_GUARDED: dict[str, tuple[Callable[[], Violation], set[str]]] = {
    # a placement run as a limit order's step (the book unit at its limit): its trigger price
    # is then one a limit order may not have
    "create_order/trigger_on": (
        lambda: placed({ON + "trigger_on": to(0)}, book=_on_key(WORST << PRESET.order_nonce_bits)),
        {"create_order/no_trigger_price"},
    ),
    # a trigger cancel run as a resting order's: there is none at the key
    "cancel_order/trigger_on": (
        lambda: violation(_cancel_trigger(), prepare=place(), wires={CANCEL + "trigger_on": to(0)}),
        {"cancel_order/order_exists", "cancel_order/order_is_signers"},
    ),
    # the leaf left in place as the one before: the tree's root before is then another
    "book/trigger_leaf/written": (
        lambda: placed({"slot0/book/trigger_leaf/written": to(0)}),
        {"book/trigger_root_matches"},
    ),
}

TRIGGER_PLACE_FAMILIES = {"create_order/trigger_nonce#", "create_order/trigger_id#"}
