"""Deleverage end (type 30, sequencer): closes the market's round once every holder of the
opposite side was served (``seen = S``: the side's lots add up to ``S`` only over all of them,
and each was served once, in index order). The remainder ``|s| - moved`` (fewer lots than the
holders, from the floors) goes to the insurance fund at the round's price (nothing moves when
the bankrupt account is the fund); the round's fields return to 0 (PROTOCOL 7.4, docs/ADL.md).
Record: account (a result: the round's bankrupt account), market | size (the remainder).
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.accounts import INSURANCE_FUND
from protocol.errors import DeleverageNotAllowed
from protocol.events import Deleveraged, Event
from protocol.liquidation import get_open_round, transfer_position
from protocol.markets import ADL_FIELDS
from protocol.ops.descriptor import Descriptor, get_no_accounts
from protocol.params import RECORD_ACCOUNT_BYTES, RECORD_MARKET_BYTES, RECORD_SIZE_BYTES
from protocol.pubdata import Layout, OpType, Origin, RecordField
from protocol.state import State


@dataclass(frozen=True, slots=True)
class DeleverageEnd:
    market: int

    @classmethod
    def op_type(cls) -> int:
        return OpType.DELEVERAGE_END


RECORD = Layout(
    OpType.DELEVERAGE_END,
    (
        RecordField("account", RECORD_ACCOUNT_BYTES, result=True),
        RecordField("market", RECORD_MARKET_BYTES),
        RecordField("size", RECORD_SIZE_BYTES, result=True),
    ),
)


def process_deleverage_end(state: State, op: DeleverageEnd) -> tuple[Event, ...]:
    market, account = get_open_round(state, op.market)
    data = market.data
    if data.adl_seen != data.adl_total:
        raise DeleverageNotAllowed(
            f"the round served {data.adl_seen} of the opposite side's {data.adl_total} lots"
        )
    rest = abs(data.adl_size) - data.adl_moved
    moved = rest if data.adl_size > 0 else -rest
    out: list[Event] = []
    quote = 0
    if rest and account.index != INSURANCE_FUND:
        fund = state.accounts[INSURANCE_FUND]
        quote = transfer_position(state, account, fund, market, moved, data.adl_price, out)
    for name in ADL_FIELDS:
        state.set_market_data(market, name, 0)
    out.append(Deleveraged(account.index, INSURANCE_FUND, market.index, moved, quote))
    return tuple(out)


def compute_deleverage_end_record(op: DeleverageEnd, events: tuple[Event, ...]) -> bytes:
    (event,) = (e for e in events if isinstance(e, Deleveraged))
    return RECORD.encode((event.account, op.market, abs(event.size)))


DESCRIPTOR = Descriptor(
    DeleverageEnd,
    RECORD,
    Origin.SEQUENCER,
    process_deleverage_end,
    compute_deleverage_end_record,
    get_no_accounts,
)
