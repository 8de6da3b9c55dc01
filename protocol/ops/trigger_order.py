"""Trigger order (type 22, sequencer): fires a stop-loss or take-profit order whose condition
on the mark price holds.

Sell stop-loss and buy take-profit fire when ``mark <= trigger_price``; buy stop-loss and sell
take-profit when ``mark >= trigger_price``. The rules check the condition (``TriggerNotReached``
otherwise); the order leaves the trigger list and becomes a reduce-only IOC market order with
its worst price clamped into the band. Once fired, a failure of the resulting taker (nothing
left to reduce, risk) only cancels it: the trigger is consumed either way. A dead trigger
order (its owner cancelled all since it was placed) is removed instead, firing nothing, the
condition unchecked (its owner's count already dropped it).

Record: account (1..6, a result: the trigger order's owner, so that the block circuit's slot
reads it as its A), market (7..8), trigger id (9..12) | maker (13..18), filled (19..24).
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.errors import TriggerNotReached, UnknownOrder
from protocol.events import Event, TriggerRemoved
from protocol.ops.claim import run_step_or_end
from protocol.ops.common import FILL_FIELDS, compute_fill
from protocol.ops.create_order import compute_market_limit
from protocol.ops.descriptor import Descriptor, get_no_accounts
from protocol.orders import is_live, remove_dead_trigger, remove_trigger
from protocol.params import (
    RECORD_ACCOUNT_BYTES,
    RECORD_MARKET_BYTES,
    RECORD_TRIGGER_ID_BYTES,
)
from protocol.pubdata import Layout, OpType, Origin, RecordField
from protocol.state import State, Taker


@dataclass(frozen=True, slots=True)
class FireTrigger:
    market: int
    trigger_id: int

    @classmethod
    def op_type(cls) -> int:
        return OpType.TRIGGER_ORDER


RECORD = Layout(
    OpType.TRIGGER_ORDER,
    (
        RecordField("account", RECORD_ACCOUNT_BYTES, result=True),
        RecordField("market", RECORD_MARKET_BYTES),
        RecordField("trigger_id", RECORD_TRIGGER_ID_BYTES),
        *FILL_FIELDS,
    ),
)


def process_trigger_order(state: State, op: FireTrigger) -> tuple[Event, ...]:
    market = state.get_market(op.market)
    trigger = market.triggers.get(op.trigger_id)
    if trigger is None:
        raise UnknownOrder(f"no trigger order {op.trigger_id} in market {op.market}")
    if not is_live(state, trigger):
        dead: list[Event] = []
        remove_dead_trigger(state, market, trigger, dead)
        return tuple(dead)
    mark = market.data.mark_price
    if not trigger.is_triggered(mark):
        raise TriggerNotReached(f"mark {mark} has not reached {trigger.trigger_price}")
    out: list[Event] = []
    remove_trigger(state, market, trigger, "fired", out)
    limit = compute_market_limit(market, trigger.is_ask, trigger.worst_price)
    taker = Taker(
        trigger.account, market.index, trigger.is_ask, trigger.size, limit, False, True, 0
    )
    run_step_or_end(state, taker, out)
    return tuple(out)


def compute_trigger_order_record(op: FireTrigger, events: tuple[Event, ...]) -> bytes:
    owner = next(e.account for e in events if isinstance(e, TriggerRemoved))
    return RECORD.encode((owner, op.market, op.trigger_id, *compute_fill(events)))


DESCRIPTOR = Descriptor(
    FireTrigger,
    RECORD,
    Origin.SEQUENCER,
    process_trigger_order,
    compute_trigger_order_record,
    get_no_accounts,
)
