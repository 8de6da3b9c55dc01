"""Forced order (type 7, L1 priority): the owner places an order through L1 (censorship
resistance for closing positions).

Fields: ``account``, ``owner``, ``market``, ``flags`` (bit 0 sell, bit 1 market order),
``price`` (limit price, or a market order's worst price), ``size`` | results ``status``,
``maker``, ``filled`` (the first step's, as create order's). A limit order is GTC, a market
order IOC with its worst price clamped into the band (``protocol.ops.create_order``); it needs
no L2 key or nonce (A's nonce is unchanged).

A priority request must always be consumable, so the block circuit proves either status, and
every refusal is a check decidable before matching (``get_refusal``, status 0, nothing
changes): the requester does not own the account (or there is none), the account is reserved
(the insurance fund, the funding pool, the fee account), unknown flags, no such market,
``size`` outside ``[min_base_amount, 2^base_amount_bits)``, ``price`` outside
``(0, 2^price_bits)``, a limit price outside the band. Anything its first matching step can
refuse (the taker's risk rule, open interest, a remainder that cannot rest: too many open
orders, the side's nonces spent, its own initial margin) ends the taker instead, as a claim's
failure does (``run_step_or_end``): the request is placed (status 1) and the events say how it
ended. Claims may follow, as for any taker.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.accounts import RESERVED_ACCOUNTS  # the fund, the fee account, the pool
from protocol.events import Event, RequestRejected
from protocol.markets import Market
from protocol.ops.claim import run_step_or_end
from protocol.ops.common import FILL_FIELDS, compute_fill
from protocol.ops.create_order import compute_band, compute_market_limit
from protocol.ops.descriptor import Descriptor, get_single_account
from protocol.params import (
    RECORD_ACCOUNT_BYTES,
    RECORD_ADDRESS_BYTES,
    RECORD_FLAGS_BYTES,
    RECORD_MARKET_BYTES,
    RECORD_PRICE_BYTES,
    RECORD_SIZE_BYTES,
)
from protocol.pubdata import (
    ORDER_FLAG_ASK,
    ORDER_FLAG_MARKET,
    ORDER_FLAGS_MASK,
    RAW,
    Layout,
    OpType,
    Origin,
    RecordField,
    status_field,
)
from protocol.state import State, Taker


@dataclass(frozen=True, slots=True)
class ForcedOrder:
    account: int
    owner: bytes
    market: int
    flags: int
    price: int
    size: int

    @classmethod
    def op_type(cls) -> int:
        return OpType.FORCED_ORDER


RECORD = Layout(
    OpType.FORCED_ORDER,
    (
        RecordField("account", RECORD_ACCOUNT_BYTES),
        RecordField("owner", RECORD_ADDRESS_BYTES, RAW),
        RecordField("market", RECORD_MARKET_BYTES),
        RecordField("flags", RECORD_FLAGS_BYTES, bound=ORDER_FLAGS_MASK + 1),
        RecordField("price", RECORD_PRICE_BYTES),
        RecordField("size", RECORD_SIZE_BYTES),
        status_field(),
        *FILL_FIELDS,
    ),
)


def get_refusal(state: State, op: ForcedOrder) -> str | None:
    """Why the rules consume ``op`` with status 0, or None: each a check made before matching
    (the module docstring), in create order's words where it has one."""
    account = state.accounts.get(op.account)
    if account is None or account.owner != op.owner:
        return "not the owner"
    if op.account in RESERVED_ACCOUNTS:
        return "ReservedAccount"
    if op.flags & ~ORDER_FLAGS_MASK:
        return "unknown flags"
    if not 0 <= op.market < len(state.markets):
        return "UnknownMarket"
    market, preset = state.markets[op.market], state.preset
    if market.data.adl_account:
        return "MarketDeleveraging"
    if op.size < market.params.min_base_amount:
        return "BelowMinOrderSize"
    if op.size >= 1 << preset.base_amount_bits:
        return "AmountOutOfRange"
    if not 0 < op.price < 1 << preset.price_bits:
        return "AmountOutOfRange"
    low, high = compute_band(market)
    if not op.flags & ORDER_FLAG_MARKET and not low <= op.price <= high:
        return "PriceOutOfBand"
    return None


def compute_taker(market: Market, op: ForcedOrder) -> Taker:
    """The taker a placed forced order starts: a GTC limit at ``price``, or an IOC market
    order at its worst price clamped into the band."""
    is_ask, is_market = bool(op.flags & ORDER_FLAG_ASK), bool(op.flags & ORDER_FLAG_MARKET)
    limit = compute_market_limit(market, is_ask, op.price) if is_market else op.price
    return Taker(op.account, op.market, is_ask, op.size, limit, not is_market, False, 0)


def process_forced_order(state: State, op: ForcedOrder) -> tuple[Event, ...]:
    refusal = get_refusal(state, op)
    if refusal is not None:
        return (RequestRejected(op.op_type(), op.account, refusal),)
    out: list[Event] = []
    run_step_or_end(state, compute_taker(state.markets[op.market], op), out)
    return tuple(out)


def compute_forced_order_record(op: ForcedOrder, events: tuple[Event, ...]) -> bytes:
    status = int(not any(isinstance(e, RequestRejected) for e in events))
    fields = (op.account, op.owner, op.market, op.flags, op.price, op.size)
    return RECORD.encode((*fields, status, *compute_fill(events)))


DESCRIPTOR = Descriptor(
    ForcedOrder,
    RECORD,
    Origin.L1,
    process_forced_order,
    compute_forced_order_record,
    get_single_account,
)
