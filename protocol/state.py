"""The state of the exchange and its journaled mutators.

``State`` holds the accounts (a sparse map over the account tree's indices), the markets (each
with parameters, per-block data, an order book and its trigger orders), the time of the last
block, and the taker still matching between steps, if any. Reading helpers are ``get_*``;
everything that writes is a named mutator here (or in ``protocol.positions``) and records its
inverse in the journal, so ``with state.transaction():`` either commits an operation whole or
leaves the state exactly as before (the hot ones append the entry ``Journal.set_attr`` would
themselves: a call less each). Mutators also mark what they touched as dirty so that
``protocol.commitment`` rehashes only that when a block is sealed; nothing here hashes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mypy_extensions import mypyc_attr

from protocol.accounts import (
    FEE_ACCOUNT,
    FUNDING_POOL,
    INSURANCE_FUND,
    NO_ADDRESS,
    Account,
    Position,
)
from protocol.book import OrderBook
from protocol.errors import AmountOutOfRange, MalformedTransaction, UnknownAccount, UnknownMarket
from protocol.journal import Journal
from protocol.markets import Market, MarketData, MarketParams
from protocol.params import Preset
from protocol.types import (
    AccountIndex,
    BaseAmount,
    MarketIndex,
    Price,
    Timestamp,
    check_positive,
    reduce_frozen,
)

if TYPE_CHECKING:
    from protocol.commitment import StateTrees

# the accounts the block's end credits, each with the sum it accrued in the block (PROTOCOL 7.2)
ACCRUED_SUMS = (
    (FEE_ACCOUNT, "accrued_fees"),
    (FUNDING_POOL, "accrued_funding"),
    (INSURANCE_FUND, "accrued_insurance"),
)
ACCRUING_ACCOUNTS = tuple(index for index, _ in ACCRUED_SUMS)


@dataclass(frozen=True, slots=True)
class Config:
    """What does not change after genesis. ``check_signatures`` is on everywhere except in the
    engine benchmark, which measures matching after signatures were checked at admission."""

    preset: Preset
    chain_id: int
    check_signatures: bool = True

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        return reduce_frozen(self)


@mypyc_attr(allow_interpreted_subclasses=True)
@dataclass(slots=True)
class Dirty:
    """What changed since the last seal (a superset is harmless; never journaled)."""

    accounts: set[int] = field(default_factory=set)
    positions: set[tuple[int, int]] = field(default_factory=set)
    markets: set[int] = field(default_factory=set)
    books: set[int] = field(default_factory=set)
    orders: set[tuple[int, int]] = field(default_factory=set)
    triggers: set[tuple[int, int]] = field(default_factory=set)


@mypyc_attr(allow_interpreted_subclasses=True)
@dataclass(slots=True, eq=False)
class Taker:
    """An order still matching: its last step handled a maker and left it with size, so the
    next operation must be a claim (one order-book leaf per step)."""

    account: AccountIndex
    market: MarketIndex
    is_ask: bool
    remaining: BaseAmount
    limit_price: Price  # worst acceptable fill price
    rests: bool  # the remainder rests as a limit order when nothing crosses any more
    reduce_only: bool
    expiry: Timestamp  # GTT expiry of the resting remainder, 0 = none
    zero_price: Price = 0  # liquidations: the price the liquidated account trades at, else 0
    steps: int = 0  # matching steps taken (at most ``Preset.trading_slots``)
    post_only: bool = False  # never takes: a modified order, whose claim only rests it


def _restore_traded(position: Position, account: Account, old: tuple[int, int, int]) -> None:
    position.size, position.entry_quote, account.collateral = old


@mypyc_attr(allow_interpreted_subclasses=True)
class State:
    """The whole exchange state; see the module docstring."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.preset = config.preset
        self.accounts: dict[int, Account] = {}
        self.markets: list[Market] = []
        self.timestamp = 0
        self.block_number = 0
        self.pending: Taker | None = None
        # fees, settled funding and liquidation spreads owed to the fee account, the funding pool
        # and the insurance fund since the block started, credited at its end
        # (``credit_accrued``; PROTOCOL 7.2, 7.4)
        self.accrued_fees = 0
        self.accrued_funding = 0
        self.accrued_insurance = 0
        self.journal = Journal()
        self.dirty = Dirty()
        self.trees: StateTrees | None = None  # protocol.commitment's cache of the Merkle trees

    # -- transactions ---------------------------------------------------------------------------

    def transaction(self) -> Journal:
        """``with state.transaction():`` commits what the body does, or rolls all of it back
        if it raises (savepoints nest: the journal keeps the stack of marks)."""
        return self.journal

    # -- reading --------------------------------------------------------------------------------

    def get_account(self, index: int) -> Account:
        account = self.accounts.get(index)
        if account is None:
            raise UnknownAccount(f"no account {index}")
        return account

    def get_market(self, index: int) -> Market:
        if type(index) is not int or not 0 <= index < len(self.markets):
            raise UnknownMarket(f"no market {index!r}")
        return self.markets[index]

    def is_valid_account_index(self, index: int) -> bool:
        return type(index) is int and 0 <= index < self.preset.max_accounts

    # -- accounts -------------------------------------------------------------------------------

    def create_account(self, index: int, owner: bytes) -> Account:
        if not self.is_valid_account_index(index):
            raise UnknownAccount(f"account index {index!r} outside the tree")
        account = Account(index, owner)
        self.journal.set_item(self.accounts, index, account)
        self.dirty.accounts.add(index)
        return account

    def set_account_field(self, account: Account, name: str, value: object) -> None:
        """Sets one leaf field (``owner``, ``pubkey``, ``nonce``, ``open_orders``, ...)."""
        self.journal.entries.append((setattr, account, name, getattr(account, name)))
        setattr(account, name, value)
        self.dirty.accounts.add(account.index)

    def increase_collateral(self, account: Account, amount: int) -> None:
        self.set_collateral(account, account.collateral + amount)

    def decrease_collateral(self, account: Account, amount: int) -> None:
        self.set_collateral(account, account.collateral - amount)

    def set_collateral(self, account: Account, value: int) -> None:
        self._check_collateral(account.index, value + self.get_accrued(account.index))
        self.journal.entries.append((setattr, account, "collateral", account.collateral))
        account.collateral = value
        self.dirty.accounts.add(account.index)

    def set_open_orders(self, account: Account, value: int) -> None:
        """``set_account_field(account, "open_orders", value)``, on the hot path: a named field
        is a direct read and write when the engine is compiled, ``getattr`` by name is not."""
        self.journal.entries.append((setattr, account, "open_orders", account.open_orders))
        account.open_orders = value
        self.dirty.accounts.add(account.index)

    def increment_nonce(self, account: Account) -> None:
        self.journal.entries.append((setattr, account, "nonce", account.nonce))
        account.nonce += 1
        self.dirty.accounts.add(account.index)

    def ensure_position(self, account: Account, market: int) -> Position:
        """The account's position in ``market``, created empty (snapshotting the market's
        funding index) if it has none."""
        position = account.positions.get(market)
        if position is None:
            position = Position(funding_index=self.markets[market].data.funding_index)
            self.journal.set_item(account.positions, market, position)
        return position

    def set_position_field(self, account: Account, market: int, name: str, value: int) -> None:
        position = self.ensure_position(account, market)
        self.journal.entries.append((setattr, position, name, getattr(position, name)))
        setattr(position, name, value)
        self.dirty.accounts.add(account.index)
        self.dirty.positions.add((account.index, market))

    def set_traded_position(
        self,
        account: Account,
        market: int,
        position: Position,
        size: int,
        entry_quote: int,
        collateral: int,
    ) -> None:
        """What a trade changes in one account: the size and cost basis of ``position``, which
        is ``account.positions[market]``, and the collateral, checked as ``set_collateral``
        does (one journal entry)."""
        bits = self.preset.collateral_bits
        if not -(1 << bits) < collateral < 1 << bits:
            raise AmountOutOfRange(f"collateral {collateral} of account {account.index} overflows")
        old = (position.size, position.entry_quote, account.collateral)
        self.journal.entries.append((_restore_traded, position, account, old))
        position.size, position.entry_quote, account.collateral = size, entry_quote, collateral
        self.dirty.accounts.add(account.index)
        self.dirty.positions.add((account.index, market))

    def drop_empty_position(self, account: Account, market: int) -> None:
        """Removes a position whose leaf went back to empty (size, cost, leverage all 0)."""
        position = account.positions.get(market)
        if position is not None and position.is_empty():
            self.journal.del_item(account.positions, market)

    # -- markets --------------------------------------------------------------------------------

    def set_market_data(self, market: Market, name: str, value: int) -> None:
        data = market.data
        self.journal.entries.append((setattr, data, name, getattr(data, name)))
        setattr(data, name, value)
        self.dirty.markets.add(market.index)

    def set_open_interest(self, market: Market, value: int) -> None:
        """``set_market_data(market, "open_interest", value)`` on the hot path (as
        ``set_open_orders``)."""
        data = market.data
        self.journal.entries.append((setattr, data, "open_interest", data.open_interest))
        data.open_interest = value
        self.dirty.markets.add(market.index)

    def _check_collateral(self, index: int, value: int) -> None:
        bits = self.preset.collateral_bits
        if not -(1 << bits) < value < 1 << bits:
            raise AmountOutOfRange(f"collateral {value} of account {index} overflows")

    def get_accrued(self, index: int) -> int:
        """What the block's end will credit to account ``index`` (0 but for accounts 0, 1, 2)."""
        if index == FEE_ACCOUNT:
            return self.accrued_fees
        if index == FUNDING_POOL:
            return self.accrued_funding
        return self.accrued_insurance if index == INSURANCE_FUND else 0

    def accrue_fees(self, amount: int) -> None:
        """Fees for the fee account, credited at the block's end; the fill that accrues them
        checks the bound (``check_accrued``) once both of its sides have settled."""
        self.journal.entries.append((setattr, self, "accrued_fees", self.accrued_fees))
        self.accrued_fees += amount

    def accrue_funding(self, amount: int) -> None:
        """Funding an account paid (negative: received), for the funding pool; as
        ``accrue_fees``."""
        self.journal.entries.append((setattr, self, "accrued_funding", self.accrued_funding))
        self.accrued_funding += amount

    def accrue_insurance(self, amount: int) -> None:
        """A liquidation's spread (the fee, PROTOCOL 7.4) for the insurance fund; as
        ``accrue_fees``."""
        self.journal.entries.append((setattr, self, "accrued_insurance", self.accrued_insurance))
        self.accrued_insurance += amount

    def check_accrued(self) -> None:
        """Refuses (AmountOutOfRange) a fill or position transfer after which crediting the
        block's sums would overflow the fee account's, the funding pool's or the insurance fund's
        collateral, so
        that the block's end never fails. Checked once per fill, after both sides, as the
        block circuit checks it at the end of the fill's slot (PROTOCOL 7.2)."""
        for index in ACCRUING_ACCOUNTS:
            self._check_collateral(index, self.accounts[index].collateral + self.get_accrued(index))

    def credit_accrued(self) -> None:
        """Credits the fees to the fee account, the funding to the funding pool and the
        liquidation spreads to the insurance fund (in range: every change to those accounts and
        to the sums counted both)."""
        for index, name in ACCRUED_SUMS:
            amount = getattr(self, name)
            if amount:
                self.journal.set_attr(self, name, 0)
                self.increase_collateral(self.accounts[index], amount)

    def set_pending(self, taker: Taker | None) -> None:
        self.journal.entries.append((setattr, self, "pending", self.pending))
        self.pending = taker

    def set_taker_remaining(self, taker: Taker, value: int) -> None:
        self.journal.entries.append((setattr, taker, "remaining", taker.remaining))
        taker.remaining = value

    def count_taker_step(self, taker: Taker) -> None:
        self.journal.entries.append((setattr, taker, "steps", taker.steps))
        taker.steps += 1

    def set_clock(self, timestamp: int, block_number: int) -> None:
        self.journal.set_attr(self, "timestamp", timestamp)
        self.journal.set_attr(self, "block_number", block_number)


def make_genesis(
    preset: Preset,
    chain_id: int,
    markets: Sequence[tuple[MarketParams, int]],
    fund_owner: bytes = NO_ADDRESS,
    fee_owner: bytes = NO_ADDRESS,
    check_signatures: bool = True,
) -> State:
    """The state at genesis: the reserved accounts and the markets, each given as
    ``(params, initial index price)``; time 0, block 0."""
    if len(markets) > preset.max_markets:
        raise MalformedTransaction(f"{len(markets)} markets exceed {preset.max_markets}")
    state = State(Config(preset, chain_id, check_signatures))
    for index, owner in (
        (INSURANCE_FUND, fund_owner),
        (FEE_ACCOUNT, fee_owner),
        (FUNDING_POOL, NO_ADDRESS),
    ):
        state.accounts[index] = Account(index, owner)
        state.dirty.accounts.add(index)
    for index, (params, price) in enumerate(markets):
        params.validate(preset.fee_rate_bits)
        check_positive(price, preset.price_bits, "initial index price")
        data = MarketData(index_price=price, mark_price=price)
        state.markets.append(Market(index, params, data, OrderBook(preset.order_nonce_bits)))
        state.dirty.markets.add(index)
        state.dirty.books.add(index)
    return state
