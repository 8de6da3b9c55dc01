"""Protocol parameters: every bit width and tree depth, declared once, per preset.

The engine's range checks, the circuits' range checks, the pubdata encodings and the contracts'
constants all read these numbers from here (the contracts through generated constants), so a
width is never written twice. Presets:

- ``minimal``: tiny trees and few operations per block, for tests (proves in seconds);
- ``devnet``: the demo (proves a block in about a minute on a 2-core machine);
- ``mainnet``: Lighter-like depths; measured, never run in CI.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from protocol.types import reduce_frozen

# An account leaf's balance half hashes ``open_orders + cancel_epoch << OPEN_ORDERS_BITS`` as one
# input (PROTOCOL 6.2, 6.6): the count below 2^OPEN_ORDERS_BITS, the cancel epoch below
# 2^account_nonce_bits (every cancel-all but a forced one takes a nonce; the rules refuse the
# one that would reach the bound).
OPEN_ORDERS_BITS = 16


class UnknownPresetError(ValueError):
    """Raised for a preset name that does not exist."""


@dataclass(frozen=True)
class Preset:
    """The sizes of one deployment: every field an integer or a name, none derived twice."""

    name: str
    # -- trees --------------------------------------------------------------------------------
    account_tree_depth: int  # accounts are leaves 0 .. 2**depth - 1
    market_tree_depth: int  # markets (and each account's positions) 0 .. 2**depth - 1
    price_bits: int  # order price, in ticks of the market's tick size
    order_nonce_bits: int  # order-book tree key = price || nonce
    # -- amounts (unsigned magnitudes; signed values carry one extra sign range) ---------------
    amount_bits: int  # deposit / withdraw / transfer amounts, USDC micro-units
    collateral_bits: int  # |collateral| < 2**collateral_bits
    base_amount_bits: int  # order and position sizes, in lots
    quote_amount_bits: int  # notional = price * size, USDC micro-units
    funding_index_bits: int  # |cumulative funding index| < 2**funding_index_bits
    fee_rate_bits: int  # fee rates in parts per million
    # -- counters and time ---------------------------------------------------------------------
    account_nonce_bits: int
    timestamp_bits: int  # unix seconds
    pool_share_bits: int
    max_open_orders_per_account: int
    # -- blocks and L1 -------------------------------------------------------------------------
    ops_per_block: int  # operation slots in one block circuit (its pubdata records)
    trading_slots: int  # the block's first slots, which also prove trading (the rest: money path)
    claim_slots: int  # the slots right after the heavy ones, which prove claims only (8.C)
    market_slots: int  # the block's last slots: its pre-executions (PROTOCOL 8.23), or noops
    priority_expiry_seconds: int  # a priority request must be processed within this time
    max_open_priority_requests: int
    exit_window_seconds: int  # desert-mode exits stay open at least this long

    def __post_init__(self) -> None:
        if not 0 <= self.market_slots <= self.ops_per_block:
            raise ValueError(
                f"{self.market_slots} market slots in a block of {self.ops_per_block} slots"
            )
        if self.claim_slots < 0:
            raise ValueError(f"{self.claim_slots} claim slots")
        if self.price_bits % 2 or self.order_nonce_bits % 2:
            # the order-book tree is 4-ary: a level takes two key bits (6.5)
            raise ValueError(
                f"price_bits {self.price_bits} and order_nonce_bits {self.order_nonce_bits}"
                " must be even"
            )
        if not 0 < self.max_open_orders_per_account < 1 << OPEN_ORDERS_BITS:
            raise ValueError(f"{self.max_open_orders_per_account} open orders do not fit the leaf")

    @property
    def operation_slots(self) -> int:
        """The slots for everything but pre-execution: the block's first ones."""
        return self.ops_per_block - self.market_slots

    @property
    def matching_slots(self) -> int:
        """The slots that may hold a matching step: the heavy ones and the claim slots after
        them (the block's operation slots, where it has fewer)."""
        return min(self.trading_slots + self.claim_slots, self.operation_slots)

    @property
    def max_accounts(self) -> int:
        return 1 << self.account_tree_depth

    @property
    def max_markets(self) -> int:
        return 1 << self.market_tree_depth

    @property
    def order_tree_depth(self) -> int:
        """The order-book tree's key bits (its height is half of them: 6.5)."""
        return self.price_bits + self.order_nonce_bits

    @property
    def order_tree_levels(self) -> int:
        """The 4-ary order-book tree's height (6.5)."""
        return self.order_tree_depth // 2

    def with_overrides(self, **changes: Any) -> Preset:
        """A copy with some fields changed (tests shorten deadlines this way)."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise UnknownPresetError(f"unknown preset fields: {sorted(unknown)}")
        return replace(self, **changes)

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        return reduce_frozen(self)


_COMMON: dict[str, int] = {
    "amount_bits": 64,
    "collateral_bits": 64,
    "base_amount_bits": 48,
    "quote_amount_bits": 80,
    "funding_index_bits": 64,
    "fee_rate_bits": 20,
    "account_nonce_bits": 32,
    "timestamp_bits": 40,
    "pool_share_bits": 64,
}

MINIMAL = Preset(
    name="minimal",
    account_tree_depth=4,
    market_tree_depth=1,
    price_bits=16,
    order_nonce_bits=8,
    max_open_orders_per_account=8,
    ops_per_block=6,
    trading_slots=2,
    claim_slots=0,
    market_slots=2,
    priority_expiry_seconds=300,
    max_open_priority_requests=64,
    exit_window_seconds=3600,
    **_COMMON,
)

DEVNET = Preset(
    name="devnet",
    account_tree_depth=10,
    market_tree_depth=2,
    price_bits=24,
    order_nonce_bits=16,
    max_open_orders_per_account=32,
    ops_per_block=9,  # 3 heavy, 1 claim, 3 light, 2 market: 495,710 constraints of 2^19
    trading_slots=3,
    claim_slots=1,
    market_slots=2,
    priority_expiry_seconds=600,
    max_open_priority_requests=1024,
    exit_window_seconds=7 * 24 * 3600,
    **_COMMON,
)

MAINNET = Preset(
    name="mainnet",
    account_tree_depth=48,
    market_tree_depth=8,
    price_bits=32,
    order_nonce_bits=24,
    max_open_orders_per_account=256,
    ops_per_block=1056,
    trading_slots=256,
    claim_slots=0,
    market_slots=32,
    priority_expiry_seconds=14 * 24 * 3600,
    max_open_priority_requests=1 << 16,
    exit_window_seconds=30 * 24 * 3600,
    **_COMMON,
)

PRESETS: dict[str, Preset] = {p.name: p for p in (MINIMAL, DEVNET, MAINNET)}


# oracle prices (PROTOCOL 6.4, 8.23): a market's ``max_price_age`` below 2^PRICE_AGE_BITS seconds
PRICE_AGE_BITS = 20  # about 12 days
PRICE_MOVE_BITS = 24  # max_price_move below 2^24 ppm (a price may be bounded to 16x up)


def get_preset(name: str) -> Preset:
    """The preset called ``name``; raises UnknownPresetError naming the valid ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise UnknownPresetError(
            f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}"
        ) from None


# -- pubdata record fields, in bytes (PROTOCOL section 8) ---------------------------------------
# Fixed for every preset (the L1 contract reads records by these offsets), so each is wide
# enough for the largest preset's width; tests/protocol/test_params.py checks it.
RECORD_ACCOUNT_BYTES = 6  # account index: account_tree_depth bits
RECORD_ADDRESS_BYTES = 20  # an L1 address
RECORD_PUBKEY_BYTES = 32  # a compressed Jubjub point
RECORD_AMOUNT_BYTES = 8  # amount_bits, collateral_bits, pool_share_bits
RECORD_MARKET_BYTES = 2  # market index: market_tree_depth bits
RECORD_PRICE_BYTES = 4  # price_bits
RECORD_SIZE_BYTES = 6  # base_amount_bits
RECORD_TIME_BYTES = 5  # timestamp_bits
RECORD_ORDER_KEY_BYTES = 8  # an order key (order_tree_depth bits) or a trigger id
RECORD_TRIGGER_ID_BYTES = 4  # order_nonce_bits
RECORD_RATE_BYTES = 3  # a fraction in parts per million (fee_rate_bits)
RECORD_COUNT_BYTES = 2  # a count of events (orders cancelled, positions moved)
RECORD_FLAGS_BYTES = 1  # bit flags
