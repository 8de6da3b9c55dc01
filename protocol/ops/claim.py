"""Claim (type 17, sequencer): the next matching step of the pending taker.

Inserted by the sequencer after a step that handled a maker and left the taker with size
(whether or not the book still crosses it); checked by the rules like any operation: a taker
must be pending and belong to ``account``. The step handles one maker, or, when no crossing
maker is left, rests or cancels the remainder (``protocol.matching.run_step``: one order-book
leaf per step). A failure on the
taker's side (its risk check, open interest, reduce-only, resting limits) does not reject the
claim: it ends the taker, cancelling its remainder, so matching can never get stuck.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.errors import InvalidTransaction, PendingTaker
from protocol.events import Event, OrderCancelled, TakerDone, Trade
from protocol.matching import end_taker, run_step
from protocol.ops.common import FILL_FIELDS, compute_fill
from protocol.ops.descriptor import Descriptor, get_single_account
from protocol.params import RECORD_ACCOUNT_BYTES, RECORD_MARKET_BYTES
from protocol.pubdata import Layout, OpType, Origin, RecordField
from protocol.state import State, Taker


@dataclass(frozen=True, slots=True)
class Claim:
    account: int  # the pending taker's account

    @classmethod
    def op_type(cls) -> int:
        return OpType.CLAIM


def run_step_or_end(state: State, taker: Taker, out: list[Event]) -> None:
    """One step; if the taker's side fails, the step is undone and the taker ends instead."""
    step: list[Event] = []
    try:
        with state.transaction():
            run_step(state, taker, step)
    except InvalidTransaction as error:
        end_taker(state, taker, error, out)
    else:
        out.extend(step)


RECORD = Layout(
    OpType.CLAIM,
    (
        RecordField("account", RECORD_ACCOUNT_BYTES),
        RecordField("market", RECORD_MARKET_BYTES, result=True),
        *FILL_FIELDS,
    ),
)


def process_claim(state: State, op: Claim) -> tuple[Event, ...]:
    taker = state.pending
    if taker is None or taker.account != op.account:
        raise PendingTaker(f"no pending taker of account {op.account}")
    out: list[Event] = []
    run_step_or_end(state, taker, out)
    return tuple(out)


def compute_claim_record(op: Claim, events: tuple[Event, ...]) -> bytes:
    market = next(e.market for e in events if isinstance(e, TakerDone | Trade | OrderCancelled))
    return RECORD.encode((op.account, market, *compute_fill(events)))


DESCRIPTOR = Descriptor(
    Claim,
    RECORD,
    Origin.SEQUENCER,
    process_claim,
    compute_claim_record,
    get_single_account,
)
