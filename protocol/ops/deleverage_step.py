"""Deleverage step (type 29, sequencer): one holder of the opposite side takes its pro-rata
share of the bankrupt account's position in the market's open round (PROTOCOL 7.4,
docs/ADL.md).

The counterparty's index is at least the round's cursor (counterparties are served in index
order, each once) and it holds ``z`` lots opposite to the bankrupt account's. It takes
``q = floor(|s| * |z| / S)`` lots at the round's price (``liquidation.compute_round_share``:
one lot fewer where that would close its last position with a debt), both positions' funding
settled first; ``q`` may be 0. The cursor moves past it, ``seen += |z|`` and ``moved += q``.
Record: account (the counterparty, at the place every record carries the slot's account),
market | size (``q``).
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.errors import DeleverageNotAllowed
from protocol.events import Deleveraged, Event
from protocol.liquidation import compute_round_share, get_open_round, transfer_position
from protocol.ops.descriptor import Descriptor
from protocol.params import RECORD_ACCOUNT_BYTES, RECORD_MARKET_BYTES, RECORD_SIZE_BYTES
from protocol.pubdata import Layout, OpType, Origin, RecordField
from protocol.state import State


@dataclass(frozen=True, slots=True)
class DeleverageStep:
    market: int
    account: int  # the counterparty

    @classmethod
    def op_type(cls) -> int:
        return OpType.DELEVERAGE_STEP


RECORD = Layout(
    OpType.DELEVERAGE_STEP,
    (
        RecordField("account", RECORD_ACCOUNT_BYTES),
        RecordField("market", RECORD_MARKET_BYTES),
        RecordField("size", RECORD_SIZE_BYTES, result=True),
    ),
)


def process_deleverage_step(state: State, op: DeleverageStep) -> tuple[Event, ...]:
    market, account = get_open_round(state, op.market)
    data = market.data
    other = state.get_account(op.account)
    if other.index < data.adl_cursor:
        raise DeleverageNotAllowed(f"the round serves accounts from {data.adl_cursor} on")
    held = other.get_size(market.index)
    if held == 0 or (held > 0) == (data.adl_size > 0):
        raise DeleverageNotAllowed(f"account {op.account} holds no opposite position")
    share = compute_round_share(state, market, other)
    moved = share if data.adl_size > 0 else -share
    out: list[Event] = []
    quote = 0
    if share:
        quote = transfer_position(state, account, other, market, moved, data.adl_price, out)
    state.set_market_data(market, "adl_cursor", other.index + 1)
    state.set_market_data(market, "adl_seen", data.adl_seen + abs(held))
    state.set_market_data(market, "adl_moved", data.adl_moved + share)
    out.append(Deleveraged(account.index, other.index, market.index, moved, quote))
    return tuple(out)


def compute_deleverage_step_record(op: DeleverageStep, events: tuple[Event, ...]) -> bytes:
    (event,) = (e for e in events if isinstance(e, Deleveraged))
    return RECORD.encode((op.account, op.market, abs(event.size)))


def get_deleverage_step_accounts(op: DeleverageStep) -> tuple[int, ...]:
    return (op.account,)


DESCRIPTOR = Descriptor(
    DeleverageStep,
    RECORD,
    Origin.SEQUENCER,
    process_deleverage_step,
    compute_deleverage_step_record,
    get_deleverage_step_accounts,
)
