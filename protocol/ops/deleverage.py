"""Deleverage (type 26, sequencer): opens the deleverage round of a bankrupt account that the
insurance fund cannot absorb, in one market (PROTOCOL 7.4, docs/ADL.md).

Allowed when the account is bankrupt (``TAV < 0``) and a takeover is impossible
(``liquidation.is_takeover_possible`` is false), and for the insurance fund itself once it is
bankrupt (nothing can take it over; left alone, its debt would make the users' balances add up
to more than the rollup holds). The account holds ``s`` lots in ``market``, which has no open
round, and the account is in no other round. Its orders are cancelled lazily (as a cancel all:
its epoch moves on); the market records the round: the account, ``s``, the opposite side's lots
``S`` (the open interest), and the price every lot will move at: the account's zero price
(rounded against it), or its bankruptcy price when this is its last position
(``liquidation.compute_bankruptcy_price``, not clamped at 0). Nothing moves yet: each holder of
the opposite side takes its pro-rata share in a deleverage step (type 29, in account order), and
the deleverage end (type 30) gives the remainder to the fund. Meanwhile no other operation moves
a position in the market (``liquidation.require_no_round``).
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.accounts import FEE_ACCOUNT, FUNDING_POOL, INSURANCE_FUND
from protocol.errors import DeleverageNotAllowed
from protocol.events import DeleverageStarted, Event
from protocol.liquidation import (
    compute_bankruptcy_price,
    find_round,
    is_last_position,
    is_takeover_possible,
    require_no_round,
)
from protocol.ops.descriptor import Descriptor, get_single_account
from protocol.orders import cancel_all
from protocol.params import RECORD_ACCOUNT_BYTES, RECORD_MARKET_BYTES
from protocol.pubdata import Layout, OpType, Origin, RecordField
from protocol.risk import compute_risk, compute_zero_price
from protocol.state import State


@dataclass(frozen=True, slots=True)
class Deleverage:
    account: int
    market: int

    @classmethod
    def op_type(cls) -> int:
        return OpType.DELEVERAGE


RECORD = Layout(
    OpType.DELEVERAGE,
    (
        RecordField("account", RECORD_ACCOUNT_BYTES),
        RecordField("market", RECORD_MARKET_BYTES),
    ),
)


def process_deleverage(state: State, op: Deleverage) -> tuple[Event, ...]:
    account = state.get_account(op.account)
    market = state.get_market(op.market)
    if account.index in (FEE_ACCOUNT, FUNDING_POOL):
        raise DeleverageNotAllowed(f"account {op.account} is not deleveraged")
    risk = compute_risk(account, state.markets)
    if risk.tav >= 0 or (account.index != INSURANCE_FUND and is_takeover_possible(state, account)):
        raise DeleverageNotAllowed(f"account {op.account} is not bankrupt beyond the fund")
    size = account.get_size(market.index)
    if size == 0:
        raise DeleverageNotAllowed(f"account {op.account} holds no position in {op.market}")
    require_no_round(market)
    if find_round(state, account.index) is not None:
        raise DeleverageNotAllowed(f"account {op.account} is in an open round")
    out: list[Event] = []
    cancel_all(state, account, "liquidation", out)
    if is_last_position(account, market.index):
        price = compute_bankruptcy_price(risk, market, size)
    else:
        price = compute_zero_price(risk, market, size > 0)
    total = market.data.open_interest
    round_fields = (("account", account.index + 1), ("size", size), ("total", total))
    for name, value in (*round_fields, ("price", price)):
        state.set_market_data(market, f"adl_{name}", value)
    out.append(DeleverageStarted(account.index, market.index, size, total, price))
    return tuple(out)


def compute_deleverage_record(op: Deleverage, events: tuple[Event, ...]) -> bytes:
    return RECORD.encode((op.account, op.market))


DESCRIPTOR = Descriptor(
    Deleverage,
    RECORD,
    Origin.SEQUENCER,
    process_deleverage,
    compute_deleverage_record,
    get_single_account,
)
