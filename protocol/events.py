"""Events: the immutable record of what each operation did.

Every ``process_<op>`` returns a tuple of these, in the order things happened. The sequencer's
API streams them, the tests check invariants on them, and each operation's pubdata record is
built from them. Amounts follow ``protocol.types``: sizes in lots, quotes in micro-USDC, prices
in ticks; a signed ``size`` is positive for a buy (long) and negative for a sell.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AccountCreated:
    account: int
    owner: bytes


@dataclass(frozen=True, slots=True)
class Deposited:
    account: int
    amount: int


@dataclass(frozen=True, slots=True)
class KeyRegistered:
    account: int
    pubkey: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Transferred:
    from_account: int
    to_account: int
    amount: int


@dataclass(frozen=True, slots=True)
class Withdrawn:
    """Collateral leaving L2 for ``owner`` on L1 (withdraw, forced withdraw)."""

    account: int
    owner: bytes
    amount: int


@dataclass(frozen=True, slots=True)
class RequestRejected:
    """An L1 priority request the rules did not apply (consumed as a no-op, status 0)."""

    op_type: int
    account: int
    reason: str


@dataclass(frozen=True, slots=True)
class FundingSettled:
    """Lazy settlement of a position's funding; ``amount > 0``: the account paid the pool."""

    account: int
    market: int
    amount: int


@dataclass(frozen=True, slots=True)
class OrderRested:
    market: int
    key: int
    account: int
    is_ask: bool
    price: int
    size: int


@dataclass(frozen=True, slots=True)
class OrderCancelled:
    """A resting order left the book unfilled; ``reason``: user, expired, self-trade, risk,
    reduce-only, liquidation, forced."""

    market: int
    key: int
    account: int
    remaining: int
    reason: str


@dataclass(frozen=True, slots=True)
class OrderReduced:
    """A resting order's size cut in place (modify to a smaller size keeps its priority)."""

    market: int
    key: int
    account: int
    remaining: int


@dataclass(frozen=True, slots=True)
class Trade:
    """One fill of a taker against one maker at the maker's price."""

    market: int
    price: int
    size: int
    taker: int
    maker: int
    maker_key: int
    taker_is_ask: bool
    taker_fee: int
    maker_fee: int


@dataclass(frozen=True, slots=True)
class TakerDone:
    """The taker stopped matching: ``rested`` when its remainder joined the book, else the
    remainder ``cancelled`` (IOC, market, liquidation, risk, open interest, price limit)."""

    account: int
    market: int
    remaining: int
    outcome: str


@dataclass(frozen=True, slots=True)
class TriggerPlaced:
    market: int
    trigger_id: int
    account: int
    is_ask: bool
    size: int
    trigger_price: int


@dataclass(frozen=True, slots=True)
class TriggerRemoved:
    """A trigger order left its list: ``fired``, or cancelled (user, forced, liquidation)."""

    market: int
    trigger_id: int
    account: int
    reason: str


@dataclass(frozen=True, slots=True)
class LeverageSet:
    account: int
    market: int
    imf: int


@dataclass(frozen=True, slots=True)
class SharesMinted:
    account: int
    amount: int
    shares: int


@dataclass(frozen=True, slots=True)
class SharesBurned:
    account: int
    shares: int
    amount: int


@dataclass(frozen=True, slots=True)
class LiquidationFill:
    """A partial-liquidation fill: the account traded ``size`` at ``zero_price``, the maker at
    ``price``; ``fund_fee`` (the spread) went to the insurance fund."""

    account: int
    market: int
    size: int
    zero_price: int
    price: int
    fund_fee: int


@dataclass(frozen=True, slots=True)
class PositionTakenOver:
    """The insurance fund took a position of an account below close-out margin at its zero
    quote (what the account received, negative when it paid)."""

    account: int
    market: int
    size: int
    quote: int


@dataclass(frozen=True, slots=True)
class Deleveraged:
    """Auto-deleveraging: ``size`` of the bankrupt account's position moved to ``counterparty``
    (whose opposite position shrank) at the bankrupt account's zero quote."""

    account: int
    counterparty: int
    market: int
    size: int
    quote: int


@dataclass(frozen=True, slots=True)
class IndexUpdated:
    market: int
    index_price: int
    mark_price: int


@dataclass(frozen=True, slots=True)
class PremiumSampled:
    market: int
    premium: int
    weight: int


@dataclass(frozen=True, slots=True)
class FundingApplied:
    market: int
    rate: int
    funding_index: int


Event = (
    AccountCreated
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
    | Deleveraged
    | IndexUpdated
    | PremiumSampled
    | FundingApplied
)
