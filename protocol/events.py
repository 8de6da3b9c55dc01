"""Events: the immutable record of what each operation did.

Every ``process_<op>`` returns a tuple of these, in the order things happened. Each is a named
tuple (immutable, and cheap to create on the matching hot path) that compares equal only to
an event of the same type. The sequencer's
API streams them, the tests check invariants on them, and each operation's pubdata record is
built from them. Amounts follow ``protocol.types``: sizes in lots, quotes in micro-USDC, prices
in ticks; a signed ``size`` is positive for a buy (long) and negative for a sell.
"""

from __future__ import annotations

from typing import Any, NamedTuple, TypeVar

from protocol.types import AccountIndex, BaseAmount, MarketIndex, Price, QuoteAmount

T = TypeVar("T")


def _eq(self: tuple[Any, ...], other: object) -> bool:
    return type(self) is type(other) and tuple.__eq__(self, other)


def _ne(self: tuple[Any, ...], other: object) -> bool:
    return not _eq(self, other)


def _hash(self: tuple[Any, ...]) -> int:
    return hash((type(self).__name__, tuple(self)))


def event(cls: type[T]) -> type[T]:
    """An event type: an immutable named tuple that equals only events of its own type."""
    cls.__eq__ = _eq  # type: ignore[assignment,method-assign]
    cls.__ne__ = _ne  # type: ignore[assignment,method-assign]
    cls.__hash__ = _hash  # type: ignore[assignment,method-assign]
    return cls


@event
class AccountCreated(NamedTuple):
    account: int
    owner: bytes


@event
class Deposited(NamedTuple):
    account: int
    amount: int


@event
class KeyRegistered(NamedTuple):
    account: int
    pubkey: tuple[int, int]


@event
class Transferred(NamedTuple):
    from_account: int
    to_account: int
    amount: int


@event
class Withdrawn(NamedTuple):
    """Collateral leaving L2 for ``owner`` on L1 (withdraw, forced withdraw)."""

    account: int
    owner: bytes
    amount: int


@event
class RequestRejected(NamedTuple):
    """An L1 priority request the rules did not apply (consumed as a no-op, status 0)."""

    op_type: int
    account: int
    reason: str


@event
class FundingSettled(NamedTuple):
    """Lazy settlement of a position's funding; ``amount > 0``: the account paid the pool."""

    account: int
    market: int
    amount: int


@event
class OrderRested(NamedTuple):
    market: int
    key: int
    account: int
    is_ask: bool
    price: int
    size: int


@event
class OrderCancelled(NamedTuple):
    """A resting order left the book unfilled; ``reason``: user, expired, self-trade, risk,
    reduce-only, liquidation, modified, or cancel-all (a dead order, PROTOCOL 7.2: its count
    was zeroed by the cancel-all, so none falls here)."""

    market: int
    key: int
    account: int
    remaining: int
    reason: str


@event
class AllOrdersCancelled(NamedTuple):
    """A cancel-all (``reason``: user, forced): the account's ``cancelled`` open orders are
    dead from now on (its cancel epoch became ``epoch``); they leave the books lazily."""

    account: int
    cancelled: int
    epoch: int
    reason: str


@event
class OrderReduced(NamedTuple):
    """A resting order's size cut in place (modify to a smaller size keeps its priority)."""

    market: int
    key: int
    account: int
    remaining: int


@event
class Trade(NamedTuple):
    """One fill of a taker against one maker at the maker's price."""

    market: MarketIndex
    price: Price
    size: BaseAmount
    taker: AccountIndex
    maker: AccountIndex
    maker_key: int
    taker_is_ask: bool
    taker_fee: QuoteAmount
    maker_fee: QuoteAmount


@event
class TakerDone(NamedTuple):
    """The taker stopped matching: ``rested`` when its remainder joined the book, else the
    remainder ``cancelled`` (IOC, market, liquidation, risk, open interest, price limit)."""

    account: int
    market: int
    remaining: int
    outcome: str


@event
class TriggerPlaced(NamedTuple):
    market: int
    trigger_id: int
    account: int
    is_ask: bool
    size: int
    trigger_price: int


@event
class TriggerRemoved(NamedTuple):
    """A trigger order left its list: ``fired``, or cancelled (user, forced, liquidation)."""

    market: int
    trigger_id: int
    account: int
    reason: str


@event
class LeverageSet(NamedTuple):
    account: int
    market: int
    imf: int


@event
class SharesMinted(NamedTuple):
    account: int
    amount: int
    shares: int


@event
class SharesBurned(NamedTuple):
    account: int
    shares: int
    amount: int


@event
class LiquidationFill(NamedTuple):
    """A partial-liquidation fill: the account traded ``size`` at ``zero_price``, the maker at
    ``price``; ``fund_fee`` (the spread) went to the insurance fund."""

    account: int
    market: int
    size: int
    zero_price: int
    price: int
    fund_fee: int


@event
class PositionTakenOver(NamedTuple):
    """The insurance fund took a position of an account below close-out margin at its zero
    quote (what the account received, negative when it paid)."""

    account: int
    market: int
    size: int
    quote: int


@event
class DeleverageStarted(NamedTuple):
    """A deleverage round opened in ``market``: the bankrupt ``account``'s ``size`` lots will
    move at ``price`` to the ``total`` lots of the opposite side, pro rata (PROTOCOL 7.4)."""

    account: int
    market: int
    size: int
    total: int
    price: int


@event
class Deleveraged(NamedTuple):
    """Auto-deleveraging: ``size`` lots of the bankrupt account's position (signed, as it held
    them) moved to ``counterparty`` in its round (the insurance fund for the round's
    remainder) at the round's price; ``quote`` is what the bankrupt account received."""

    account: int
    counterparty: int
    market: int
    size: int
    quote: int


@event
class IndexUpdated(NamedTuple):
    market: int
    index_price: int
    mark_price: int


@event
class PremiumSampled(NamedTuple):
    market: int
    premium: int
    weight: int


@event
class FundingApplied(NamedTuple):
    market: int
    rate: int
    funding_index: int


Event = (
    AccountCreated
    | AllOrdersCancelled
    | Deposited
    | KeyRegistered
    | Transferred
    | Withdrawn
    | RequestRejected
    | FundingSettled
    | OrderRested
    | OrderCancelled
    | OrderReduced
    | Trade
    | TakerDone
    | TriggerPlaced
    | TriggerRemoved
    | LeverageSet
    | SharesMinted
    | SharesBurned
    | LiquidationFill
    | PositionTakenOver
    | DeleverageStarted
    | Deleveraged
    | IndexUpdated
    | PremiumSampled
    | FundingApplied
)
