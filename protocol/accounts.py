"""Accounts and positions: the data behind one leaf of the account tree.

Reserved indices (fixed in every preset, created at genesis, never deposited to by users
without being credited like any account):

- ``INSURANCE_FUND = 0``: the insurance fund, which is also the liquidity pool (LLP). It takes
  over accounts below the close-out margin, is the counterparty of every funding settlement,
  receives liquidation spreads, and its ``pool_shares`` field holds the total share supply.
- ``FEE_ACCOUNT = 1``: receives maker and taker fees.
- ``FUNDING_POOL = 2``: the counterparty of every lazy funding settlement. Funding accrues to
  positions through the market's cumulative index and is settled one position at a time, so
  payers and receivers settle at different moments; the pool pays and receives for the other
  side in between. It never trades, and its balance is minus the sum of all unsettled funding
  plus the rounding (always in its favour): so funding is zero-sum and collateral conserved.

User accounts start at ``FIRST_USER_ACCOUNT = 3``. None of the reserved accounts trades on its
own behalf except the insurance fund (takeovers, pool shares).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mypy_extensions import mypyc_attr

from protocol.types import AccountIndex, MarketIndex, SignedAmount

INSURANCE_FUND = 0
FEE_ACCOUNT = 1
FUNDING_POOL = 2
FIRST_USER_ACCOUNT = 3
RESERVED_ACCOUNTS = frozenset({INSURANCE_FUND, FEE_ACCOUNT, FUNDING_POOL})

NO_ADDRESS = bytes(20)
NO_KEY = (0, 0)  # not a curve point: the leaf value of "no L2 key registered"


@mypyc_attr(allow_interpreted_subclasses=True)  # see protocol.types: copyable when compiled
@dataclass(slots=True, eq=False)
class Position:
    """One market's position of one account (a leaf of the account's position subtree).

    ``size`` is signed (long > 0, short < 0) in lots; ``entry_quote`` is the signed cost basis
    of the open size in micro-USDC (price x size summed at entry, reduced pro rata, rounded
    toward zero); ``funding_index`` is the market's cumulative funding index when funding was
    last settled; ``imf`` is the initial margin fraction the owner chose with set leverage
    (parts per million, 0 = the market's own).
    """

    size: SignedAmount = 0
    entry_quote: SignedAmount = 0
    funding_index: SignedAmount = 0
    imf: int = 0

    def is_empty(self) -> bool:
        return self.size == 0 and self.entry_quote == 0 and self.imf == 0


@mypyc_attr(allow_interpreted_subclasses=True)
@dataclass(slots=True, eq=False)
class Account:
    """One account; ``orders`` indexes its live resting and trigger orders (not part of the
    leaf, which only counts them in ``open_orders``). ``cancel_epoch`` counts its cancel-alls:
    an order is live while the epoch it recorded when it rested is its owner's (PROTOCOL 7.1);
    a cancel-all moves the epoch on, zeroes ``open_orders`` and empties ``orders``, and the
    dead orders leave the books lazily."""

    index: AccountIndex
    owner: bytes = NO_ADDRESS
    pubkey: tuple[int, int] = NO_KEY
    nonce: int = 0
    collateral: SignedAmount = 0
    positions: dict[MarketIndex, Position] = field(default_factory=dict)
    open_orders: int = 0
    pool_shares: int = 0
    cancel_epoch: int = 0
    orders: dict[tuple[int, int, int], object] = field(default_factory=dict)

    def has_key(self) -> bool:
        return self.pubkey != NO_KEY

    def get_size(self, market: int) -> int:
        position = self.positions.get(market)
        return 0 if position is None else position.size
