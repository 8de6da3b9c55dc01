"""The operator's trigger pass: the trigger orders it fires (or removes) in each block.

Trigger orders wait in their market's trigger list until the mark reaches their trigger price
(PROTOCOL 7.1, 8.22); nobody submits their firing: the operator does, as a sequencer operation
(``FireTrigger``), in the heavy slots after the block's priority requests and before its L2
transactions. It takes every trigger order whose mark has reached its price at that point (the
mark the last pre-execution left), and every dead one (its owner cancelled all since), which
the rules remove without firing, by market and then by id. A firing that fails in any way
(its claims do not fit, the block circuit cannot prove its outcome) is left for a later block,
with a warning: the pass never stops the builder.
"""

from __future__ import annotations

from protocol.ops.trigger_order import FireTrigger
from protocol.orders import is_live
from protocol.state import State


def get_due_triggers(state: State) -> list[FireTrigger]:
    """The firings the rules accept now: dead trigger orders, and live ones whose market's mark
    has reached their trigger price; by market, then by trigger id."""
    due = []
    for market in state.markets:
        mark = market.data.mark_price
        for trigger_id in sorted(market.triggers):
            trigger = market.triggers[trigger_id]
            if not is_live(state, trigger) or trigger.is_triggered(mark):
                due.append(FireTrigger(market.index, trigger_id))
    return due
