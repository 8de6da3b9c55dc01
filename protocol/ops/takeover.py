"""Takeover (type 25, sequencer): the insurance fund (LLP) takes over an account below its
close-out margin (``TAV < CMR``, bankrupt included).

Allowed only if the fund can absorb it: afterwards the fund keeps ``TAV >= MMR``
(``liquidation.is_takeover_possible``); otherwise the account must be deleveraged. The
account's orders are cancelled lazily, as a cancel all's (its cancel epoch moves on, its count
falls to 0: refused, as a cancel all, when the epoch is spent), then each position (by market)
moves to the fund at the account's zero price for that market, which brings the account's TAV
to about zero; a negative remainder (bankruptcy, rounding) is paid by the fund, so the
account ends at collateral >= 0 with no position. Its remaining equity, if any, was the fund's
liquidation reward.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.accounts import INSURANCE_FUND, RESERVED_ACCOUNTS
from protocol.errors import LiquidationNotAllowed
from protocol.events import Event, PositionTakenOver
from protocol.liquidation import (
    absorb_deficit,
    is_takeover_possible,
    require_no_round,
    transfer_position,
)
from protocol.ops.descriptor import Descriptor, get_single_account
from protocol.orders import cancel_all
from protocol.params import RECORD_ACCOUNT_BYTES, RECORD_AMOUNT_BYTES, RECORD_COUNT_BYTES
from protocol.pubdata import Layout, OpType, Origin, RecordField
from protocol.risk import compute_risk, compute_zero_price
from protocol.state import State


@dataclass(frozen=True, slots=True)
class Takeover:
    account: int

    @classmethod
    def op_type(cls) -> int:
        return OpType.TAKEOVER


RECORD = Layout(
    OpType.TAKEOVER,
    (
        RecordField("account", RECORD_ACCOUNT_BYTES),
        RecordField("positions", RECORD_COUNT_BYTES, result=True),
        RecordField("quote", RECORD_AMOUNT_BYTES, result=True),
    ),
)


def process_takeover(state: State, op: Takeover) -> tuple[Event, ...]:
    account = state.get_account(op.account)
    if account.index in RESERVED_ACCOUNTS:
        raise LiquidationNotAllowed("reserved accounts are not taken over")
    risk = compute_risk(account, state.markets)
    if risk.tav >= risk.cmr:
        raise LiquidationNotAllowed(f"account {op.account} is {risk.health.name}")
    if not is_takeover_possible(state, account):
        raise LiquidationNotAllowed("the insurance fund cannot absorb it: deleverage")
    for m, position in account.positions.items():
        if position.size:
            require_no_round(state.markets[m])
    fund = state.accounts[INSURANCE_FUND]
    out: list[Event] = []
    cancel_all(state, account, "liquidation", out)
    for m in sorted(account.positions):
        size = account.get_size(m)
        if size == 0:
            continue
        market = state.markets[m]
        zero = compute_zero_price(risk, market, size > 0)
        quote = transfer_position(state, account, fund, market, size, zero, out)
        out.append(PositionTakenOver(account.index, m, size, quote))
    absorb_deficit(state, account)
    return tuple(out)


def compute_takeover_record(op: Takeover, events: tuple[Event, ...]) -> bytes:
    moved = [e for e in events if isinstance(e, PositionTakenOver)]
    quote = sum(e.quote for e in moved)
    two_complement = quote % (1 << 8 * RECORD_AMOUNT_BYTES)  # the quote may be negative
    return RECORD.encode((op.account, len(moved), two_complement))


DESCRIPTOR = Descriptor(
    Takeover,
    RECORD,
    Origin.SEQUENCER,
    process_takeover,
    compute_takeover_record,
    get_single_account,
)
