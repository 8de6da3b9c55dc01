"""Markets: fixed parameters, per-block data, the order book and the pending trigger orders.

Units (``protocol.types``): prices in ticks, sizes in lots, one tick x one lot = 1 micro-USDC;
fractions in parts per million; funding rates in parts per 10^8 per hour.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mypy_extensions import mypyc_attr

from protocol.book import OrderBook
from protocol.errors import MalformedTransaction
from protocol.jubjub import Point, is_in_subgroup, is_on_curve, is_small_order
from protocol.params import PRICE_AGE_BITS, PRICE_MOVE_BITS
from protocol.types import (
    PPM,
    RATE_SCALE,
    AccountIndex,
    BaseAmount,
    MarketIndex,
    Price,
    QuoteAmount,
    SignedAmount,
    reduce_frozen,
)

NO_ORACLE_KEY = Point(0, 0)  # a market without an oracle (not a curve point)


def is_valid_public_key(key: Point) -> bool:
    """On the curve, in the prime subgroup, not of small order (PROTOCOL 5, check 3)."""
    return is_on_curve(key) and is_in_subgroup(key) and not is_small_order(key)


@dataclass(frozen=True, slots=True)
class MarketParams:
    """A market's rules (part of the market leaf, fixed at genesis)."""

    min_base_amount: BaseAmount = 1  # smallest order, lots
    imf: int = 100_000  # initial margin fraction (10x max leverage), ppm
    mmf: int = 50_000  # maintenance margin fraction, ppm
    cmf: int = 25_000  # close-out margin fraction, ppm
    maker_fee: int = 0  # ppm of notional
    taker_fee: int = 500  # ppm of notional
    price_band: int = 100_000  # limit prices within +-10 % of the index, ppm
    max_open_interest: BaseAmount = 1 << 40  # lots, each side
    impact_notional: QuoteAmount = 1_000_000_000  # quote walked for impact bid/ask (1,000 USDC)
    interest_rate: int = 1_250  # per hour, RATE_SCALE (0.01 % / 8)
    interest_clamp: int = 6_250  # per hour, RATE_SCALE (0.05 % / 8)
    funding_cap: int = 4_000_000  # hard cap per hour, RATE_SCALE (4 %)
    # the oracle: its EdDSA public key (x, y) signs the index prices; (0, 0) is none (no price
    # is accepted while signatures are checked); a price at most max_price_age seconds old and
    # at most max_price_move ppm from the index it replaces (PROTOCOL 6.4, 8.23)
    oracle_x: int = 0
    oracle_y: int = 0
    max_price_age: int = 60  # seconds
    max_price_move: int = 100_000  # ppm (10 %)

    def validate(self, fee_rate_bits: int) -> None:
        """Raises MalformedTransaction for inconsistent parameters."""
        if not PPM >= self.imf >= self.mmf >= self.cmf > 0:
            raise MalformedTransaction("need 1e6 >= imf >= mmf >= cmf > 0")
        if not (
            0 <= self.maker_fee < 1 << fee_rate_bits and 0 <= self.taker_fee < 1 << fee_rate_bits
        ):
            raise MalformedTransaction("fee rate out of range")
        positive = (
            self.min_base_amount,
            self.price_band,
            self.max_open_interest,
            self.impact_notional,
        )
        if min(positive) <= 0:
            raise MalformedTransaction("market parameters must be positive")
        if max(self.max_open_interest, self.min_base_amount) >= 1 << 64:
            # the block circuit compares them in 64 bits
            raise MalformedTransaction("max_open_interest and min_base_amount: below 2^64")
        if self.price_band > PPM:  # the circuit's band arithmetic takes at most 100 %
            raise MalformedTransaction("price_band: at most 1e6 ppm")
        # the market leaf hashes them as field elements (a negative one would stop the operator
        # at the state root), the block circuit's funding arithmetic takes them below 2^27
        rates = (self.interest_rate, self.interest_clamp, self.funding_cap)
        if not all(0 <= rate <= RATE_SCALE for rate in rates):
            raise MalformedTransaction("interest rate, clamp and funding cap: 0 to RATE_SCALE")
        self.validate_oracle()

    def validate_oracle(self) -> None:
        """The oracle key is none or a valid EdDSA key (the circuit checks signatures under it);
        ``0 < max_price_age < 2^PRICE_AGE_BITS``, ``0 < max_price_move < 2^PRICE_MOVE_BITS``."""
        key = Point(self.oracle_x, self.oracle_y)
        if key != NO_ORACLE_KEY and not is_valid_public_key(key):
            raise MalformedTransaction("the oracle key is not a point of the prime subgroup")
        if not 0 < self.max_price_age < 1 << PRICE_AGE_BITS:
            raise MalformedTransaction(f"max_price_age: 1 to 2^{PRICE_AGE_BITS} - 1 seconds")
        if not 0 < self.max_price_move < 1 << PRICE_MOVE_BITS:
            raise MalformedTransaction(f"max_price_move: 1 to 2^{PRICE_MOVE_BITS} - 1 ppm")

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        return reduce_frozen(self)


@mypyc_attr(allow_interpreted_subclasses=True)
@dataclass(slots=True, eq=False)
class MarketData:
    """What changes per block: prices, funding, open interest (public, in the market leaf)."""

    index_price: Price
    mark_price: Price
    funding_index: SignedAmount = 0  # cumulative, micro-USDC per lot x FUNDING_INDEX_SCALE
    funding_rate: int = 0  # the last hourly rate applied, RATE_SCALE
    open_interest: BaseAmount = 0  # lots long (== lots short)
    premium_sum: int = 0  # sum of this hour's premium samples, RATE_SCALE
    premium_samples: int = 0  # number of samples in premium_sum
    last_sample_minute: int = 0  # timestamp // 60 of the last premium sample
    last_funding_hour: int = 0  # timestamp // 3600 of the last funding application
    trigger_nonce: int = 0  # id of the next stop-loss / take-profit order
    # The market's open deleverage round (PROTOCOL 7.4, docs/ADL.md), all 0 when none:
    adl_account: int = 0  # 1 + the bankrupt account whose position the round closes
    adl_size: SignedAmount = 0  # its lots at the start (s, signed as held)
    adl_total: BaseAmount = 0  # the opposite side's lots at the start (S, the open interest)
    adl_price: SignedAmount = 0  # the price every lot moves at (negative: a short's debt)
    adl_cursor: int = 0  # 1 + the last counterparty served (counterparties in index order)
    adl_seen: BaseAmount = 0  # the lots of the counterparties served
    adl_moved: BaseAmount = 0  # the lots they took


ADL_FIELDS = tuple(name for name in MarketData.__dataclass_fields__ if name.startswith("adl_"))


@mypyc_attr(allow_interpreted_subclasses=True)
@dataclass(slots=True, eq=False)
class TriggerOrder:
    """A stop-loss or take-profit order waiting for the mark price (reduce-only once live)."""

    market: MarketIndex
    trigger_id: int
    account: AccountIndex
    is_ask: bool
    size: BaseAmount
    trigger_price: Price
    worst_price: Price  # the market order it becomes never fills beyond this price
    is_stop_loss: bool  # stop-loss: fires when the mark moves against the position
    epoch: int = 0  # its owner's cancel epoch when it was placed (live while it is the owner's)

    def is_triggered(self, mark: int) -> bool:
        """Sell stop / buy take-profit fire at or below; buy stop / sell take-profit at or above."""
        fires_below = self.is_ask == self.is_stop_loss
        return mark <= self.trigger_price if fires_below else mark >= self.trigger_price


@mypyc_attr(allow_interpreted_subclasses=True)
@dataclass(slots=True, eq=False)
class Market:
    index: int
    params: MarketParams
    data: MarketData
    book: OrderBook
    triggers: dict[int, TriggerOrder] = field(default_factory=dict)
