"""Deleverage (type 26, sequencer): auto-deleveraging of a bankrupt account the insurance
fund cannot absorb.

Allowed when the account is bankrupt (``TAV < 0``) and a takeover is impossible
(``liquidation.is_takeover_possible`` is false), and for the insurance fund itself once it is
bankrupt (nothing can take it over; left alone, its debt would make the users' balances add up
to more than the rollup holds). ``size`` lots of its position in ``market``
move to ``counterparty``, which must hold an *opposite* position of at least ``size`` lots
(both positions shrink; an account with no position there can never be charged), at the
bankrupt account's zero price (rounded against it): the counterparty closes part of its
profitable position at a worse price than the mark, which socialises the deficit. The
deleverage that closes the account's last position is priced at its bankruptcy price instead
(``liquidation.compute_bankruptcy_price``), so the account ends with collateral >= 0 and no
debt is left behind; where even a price of 0 cannot cover it (a short with negative cash) the
insurance fund pays the rest from its free value and the counterparty what the fund cannot
(``liquidation.share_deficit``). Refused when the counterparty would itself end with no
position and negative collateral, a debt nobody covers: the sequencer then picks another
counterparty, or a smaller size so that the counterparty keeps a position (and its debt with
it) and is deleveraged in turn. The sequencer picks counterparties in
``liquidation.compute_adl_ranking`` order; the rules check eligibility.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.accounts import FEE_ACCOUNT, FUNDING_POOL, INSURANCE_FUND
from protocol.errors import DeleverageNotAllowed
from protocol.events import Deleveraged, Event
from protocol.liquidation import (
    compute_bankruptcy_price,
    has_position,
    is_last_position,
    is_takeover_possible,
    share_deficit,
    transfer_position,
)
from protocol.ops.descriptor import Descriptor
from protocol.orders import cancel_all_orders
from protocol.params import RECORD_ACCOUNT_BYTES, RECORD_MARKET_BYTES, RECORD_SIZE_BYTES
from protocol.pubdata import Layout, OpType, Origin, RecordField
from protocol.risk import compute_risk, compute_zero_price
from protocol.state import State
from protocol.types import check_positive


@dataclass(frozen=True, slots=True)
class Deleverage:
    account: int
    counterparty: int
    market: int
    size: int

    @classmethod
    def op_type(cls) -> int:
        return OpType.DELEVERAGE


RECORD = Layout(
    OpType.DELEVERAGE,
    (
        RecordField("account", RECORD_ACCOUNT_BYTES),
        RecordField("counterparty", RECORD_ACCOUNT_BYTES),
        RecordField("market", RECORD_MARKET_BYTES),
        RecordField("size", RECORD_SIZE_BYTES),
    ),
)


def process_deleverage(state: State, op: Deleverage) -> tuple[Event, ...]:
    account = state.get_account(op.account)
    other = state.get_account(op.counterparty)
    market = state.get_market(op.market)
    check_positive(op.size, state.preset.base_amount_bits, "size")
    if account.index in (FEE_ACCOUNT, FUNDING_POOL) or other.index in (account.index, FUNDING_POOL):
        raise DeleverageNotAllowed("invalid account pair")
    is_fund = account.index == INSURANCE_FUND
    risk = compute_risk(account, state.markets)
    if risk.tav >= 0 or (not is_fund and is_takeover_possible(state, account)):
        raise DeleverageNotAllowed(f"account {op.account} is not bankrupt beyond the fund")
    size, opposite = account.get_size(market.index), other.get_size(market.index)
    if size == 0 or opposite == 0 or (size > 0) == (opposite > 0):
        raise DeleverageNotAllowed("the counterparty holds no opposite position")
    if op.size > min(abs(size), abs(opposite)):
        raise DeleverageNotAllowed(f"size {op.size} exceeds a position")
    out: list[Event] = []
    cancel_all_orders(state, account, "liquidation", out)
    closes_account = op.size == abs(size) and is_last_position(account, market.index)
    if closes_account:
        price = compute_bankruptcy_price(risk, market, size)
    else:
        price = compute_zero_price(risk, market, size > 0)
    moved = op.size if size > 0 else -op.size
    quote = transfer_position(state, account, other, market, moved, price, out)
    if closes_account:
        share_deficit(state, account, other)
    if other.collateral < 0 and not has_position(other):
        raise DeleverageNotAllowed(f"counterparty {op.counterparty} cannot bear the deficit")
    out.append(Deleveraged(account.index, other.index, market.index, moved, quote))
    return tuple(out)


def compute_deleverage_record(op: Deleverage, events: tuple[Event, ...]) -> bytes:
    return RECORD.encode((op.account, op.counterparty, op.market, op.size))


def get_deleverage_accounts(op: Deleverage) -> tuple[int, ...]:
    return op.account, op.counterparty


DESCRIPTOR = Descriptor(
    Deleverage,
    RECORD,
    Origin.SEQUENCER,
    process_deleverage,
    compute_deleverage_record,
    get_deleverage_accounts,
)
