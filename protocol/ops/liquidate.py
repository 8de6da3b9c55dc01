"""Liquidate (type 24, sequencer): partial liquidation of an account in the partial-liquidation
state (``CMR <= TAV < MMR``).

The account's orders are cancelled, lazily as a cancel all does it (its cancel epoch moves on,
its open orders fall to 0, no book changes; ``AmountOutOfRange`` when the epoch is spent), then
``size`` lots (``0 < size <= |position|``) of its position in ``market`` are sent as a
reduce-only IOC taker with limit = the zero price (the price at which closing leaves TAV / MMR
unchanged, rounded against the account; ``LiquidationNotAllowed`` where it is 0 or not below
``2^price_bits``, as no order's price can be). Each fill is at the maker's price; the account is
charged the zero price and pays no taker fee; the difference (the liquidation fee) goes to the
insurance fund, credited at the block's end as the fees are (``State.accrue_insurance``,
PROTOCOL 7.2). Claims continue it like any taker.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.accounts import RESERVED_ACCOUNTS
from protocol.errors import LiquidationNotAllowed
from protocol.events import Event
from protocol.matching import run_step
from protocol.ops.common import FILL_FIELDS, compute_fill
from protocol.ops.descriptor import Descriptor, get_single_account
from protocol.orders import cancel_all
from protocol.params import RECORD_ACCOUNT_BYTES, RECORD_MARKET_BYTES, RECORD_SIZE_BYTES
from protocol.pubdata import Layout, OpType, Origin, RecordField
from protocol.risk import Health, compute_risk, compute_zero_price
from protocol.state import State, Taker
from protocol.types import check_positive


@dataclass(frozen=True, slots=True)
class Liquidate:
    account: int
    market: int
    size: int

    @classmethod
    def op_type(cls) -> int:
        return OpType.LIQUIDATE


RECORD = Layout(
    OpType.LIQUIDATE,
    (
        RecordField("account", RECORD_ACCOUNT_BYTES),
        RecordField("market", RECORD_MARKET_BYTES),
        RecordField("size", RECORD_SIZE_BYTES),
        *FILL_FIELDS,
    ),
)


def process_liquidate(state: State, op: Liquidate) -> tuple[Event, ...]:
    taker = compute_taker(state, op)
    out: list[Event] = []
    cancel_all(state, state.accounts[op.account], "liquidation", out)
    run_step(state, taker, out)
    return tuple(out)


def compute_taker(state: State, op: Liquidate) -> Taker:
    """The liquidation's taker, after the rules' checks (``LiquidationNotAllowed`` and the
    lookups' errors); changes nothing."""
    account = state.get_account(op.account)
    market = state.get_market(op.market)
    if account.index in RESERVED_ACCOUNTS:
        raise LiquidationNotAllowed("reserved accounts are not liquidated")
    risk = compute_risk(account, state.markets)
    if risk.health != Health.PARTIAL_LIQUIDATION:
        raise LiquidationNotAllowed(f"account {op.account} is {risk.health.name}")
    position = account.get_size(market.index)
    check_positive(op.size, state.preset.base_amount_bits, "size")
    if op.size > abs(position):
        raise LiquidationNotAllowed(f"size {op.size} exceeds the position {position}")
    zero = compute_zero_price(risk, market, position > 0)
    if not 0 < zero < 1 << state.preset.price_bits:  # no order could be priced there
        raise LiquidationNotAllowed(f"zero price {zero} outside (0, 2^price_bits)")
    return Taker(account.index, market.index, position > 0, op.size, zero, False, True, 0, zero)


def compute_liquidate_record(op: Liquidate, events: tuple[Event, ...]) -> bytes:
    return RECORD.encode((op.account, op.market, op.size, *compute_fill(events)))


DESCRIPTOR = Descriptor(
    Liquidate,
    RECORD,
    Origin.SEQUENCER,
    process_liquidate,
    compute_liquidate_record,
    get_single_account,
)
