"""Pre-execution (type 23, sequencer): a market's per-block update, in the market slots that
close a block, for the next block's trades (PROTOCOL 8.23).

In order: the index price, signed by the market's oracle (``protocol.oracle``) and checked:
``0 < index < 2^price_bits``, the signature valid under the market's oracle key (while
signatures are checked: reconstruction, which has no signatures, trusts the proofs), its
timestamp ``t`` with ``ts - max_price_age <= t <= ts`` at the block's time ``ts``, and
``|index - previous| * 10^6 <= max_price_move * previous`` (``previous``: the market's index
before, the genesis index for its first); then the mark price (median of index,
impact bid, impact ask); then, if the block's minute is later than the last sample's, one premium
sample weighted by the minutes elapsed (at most 60); then, if the block's hour is later than
the last funding's, the hourly rate from this hour's samples is applied once per elapsed hour
to the cumulative funding index, and the samples restart; a market's first funding applies none
and starts its clock (else the hours since 1970 would be charged at once). Formulas:
``protocol.funding``.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.eddsa import Signature
from protocol.errors import InvalidOracleSignature, PriceMoveTooLarge, StalePrice
from protocol.events import Event, FundingApplied, IndexUpdated, PremiumSampled
from protocol.funding import (
    compute_funding_increment,
    compute_funding_rate,
    compute_mark_price,
    compute_premium,
)
from protocol.markets import Market
from protocol.ops.descriptor import Descriptor, get_no_accounts
from protocol.oracle import is_signed_price
from protocol.params import RECORD_MARKET_BYTES, RECORD_PRICE_BYTES, RECORD_TIME_BYTES
from protocol.pubdata import Layout, OpType, Origin, RecordField
from protocol.state import State
from protocol.types import PPM, check_positive, check_signed, check_unsigned


@dataclass(frozen=True, slots=True)
class PreExecution:
    market: int
    index_price: int
    price_timestamp: int  # when the oracle observed the price, unix seconds
    signature: Signature | None = None  # the oracle's (not in the record)

    @classmethod
    def op_type(cls) -> int:
        return OpType.PRE_EXECUTION


def sample_premium(state: State, market: Market, out: list[Event]) -> None:
    minute, data = state.timestamp // 60, market.data
    if minute <= data.last_sample_minute:
        return
    weight = min(60, minute - data.last_sample_minute)
    premium = compute_premium(market)
    state.set_market_data(market, "premium_sum", data.premium_sum + weight * premium)
    state.set_market_data(market, "premium_samples", data.premium_samples + weight)
    state.set_market_data(market, "last_sample_minute", minute)
    out.append(PremiumSampled(market.index, premium, weight))


def apply_funding(state: State, market: Market, out: list[Event]) -> None:
    hour, data = state.timestamp // 3600, market.data
    if hour <= data.last_funding_hour:
        return
    rate = compute_funding_rate(market)
    # a market's first funding (last hour 0: never, as at genesis, time 0) starts its clock
    hours = hour - data.last_funding_hour if data.last_funding_hour else 0
    index = data.funding_index + hours * compute_funding_increment(rate, data.mark_price)
    check_signed(index, state.preset.funding_index_bits, "funding index")
    state.set_market_data(market, "funding_index", index)
    state.set_market_data(market, "funding_rate", rate)
    state.set_market_data(market, "premium_sum", 0)
    state.set_market_data(market, "premium_samples", 0)
    state.set_market_data(market, "last_funding_hour", hour)
    out.append(FundingApplied(market.index, rate, index))


RECORD = Layout(
    OpType.PRE_EXECUTION,
    (
        RecordField("market", RECORD_MARKET_BYTES),
        RecordField("index_price", RECORD_PRICE_BYTES),
        RecordField("price_timestamp", RECORD_TIME_BYTES),
        RecordField("mark_price", RECORD_PRICE_BYTES, result=True),
    ),
)


def is_price_fresh(state: State, market: Market, price_timestamp: int) -> bool:
    """``ts - max_price_age <= price_timestamp <= ts`` at the block's time ``ts``."""
    age = state.timestamp - price_timestamp
    return 0 <= age <= market.params.max_price_age


def is_price_move_allowed(market: Market, price: int) -> bool:
    """``|price - index| * 10^6 <= max_price_move * index`` for the market's current index."""
    index = market.data.index_price
    return abs(price - index) * PPM <= market.params.max_price_move * index


def is_oracle_signed(state: State, market: Market, op: PreExecution) -> bool:
    """The market's oracle signed ``op``'s price and timestamp for this chain."""
    chain_id, params = state.config.chain_id, market.params
    return is_signed_price(
        params, chain_id, op.market, op.index_price, op.price_timestamp, op.signature
    )


def check_oracle_price(state: State, market: Market, op: PreExecution) -> None:
    """The price in range, signed by the market's oracle, fresh and within the move bound;
    raises otherwise (writes nothing)."""
    check_positive(op.index_price, state.preset.price_bits, "index price")
    check_unsigned(op.price_timestamp, state.preset.timestamp_bits, "price timestamp")
    if state.config.check_signatures and not is_oracle_signed(state, market, op):
        raise InvalidOracleSignature(f"market {op.market}: the price is not its oracle's")
    if not is_price_fresh(state, market, op.price_timestamp):
        raise StalePrice(
            f"market {op.market}: price of {op.price_timestamp} at block time {state.timestamp}"
            f" (at most {market.params.max_price_age} s old, not later)"
        )
    if not is_price_move_allowed(market, op.index_price):
        raise PriceMoveTooLarge(
            f"market {op.market}: {op.index_price} is more than"
            f" {market.params.max_price_move} ppm from the index {market.data.index_price}"
        )


def process_pre_execution(state: State, op: PreExecution) -> tuple[Event, ...]:
    market = state.get_market(op.market)
    check_oracle_price(state, market, op)
    out: list[Event] = []
    state.set_market_data(market, "index_price", op.index_price)
    state.set_market_data(market, "mark_price", compute_mark_price(market))
    out.append(IndexUpdated(market.index, op.index_price, market.data.mark_price))
    sample_premium(state, market, out)
    apply_funding(state, market, out)
    return tuple(out)


def compute_pre_execution_record(op: PreExecution, events: tuple[Event, ...]) -> bytes:
    (mark,) = (e.mark_price for e in events if isinstance(e, IndexUpdated))
    return RECORD.encode((op.market, op.index_price, op.price_timestamp, mark))


DESCRIPTOR = Descriptor(
    PreExecution,
    RECORD,
    Origin.SEQUENCER,
    process_pre_execution,
    compute_pre_execution_record,
    get_no_accounts,
)
