"""The crash scenario of ``zkperp demo --scenario crash``: one market falls 25 % over a few
blocks, as ETH did on 10 October 2025, and the operator's own passes (``sequencer.liquidator``)
liquidate, take over and deleverage the traders it leaves under water.

The accounts, from account 3 on (``TRADERS``): a market maker, an LP whose pool shares are the
insurance fund's only capital (10 USDC), a second short seller, and three longs levered for the
three paths. With ETH's margins (IMF 10 %, MMF 5 %, CMF 2.5 %), from 300,000 down to 243,000
(-19 %) and on to 225,000 (-25 %):

- alice, 4.5x long: healthy at -10 %, in partial liquidation at -19 %, liquidated whole against
  the market maker's resting bid (placed once the price has fallen, inside the price band);
- bob, 6x long (30 USDC of ETH): bankrupt at -19 %, a loss the fund can absorb: taken over;
- carol, 7.2x long (360 USDC of ETH): bankrupt at -19 %, her deficit larger than the fund:
  deleveraged, her position moved pro rata to the market maker and dave (the shorts) at her
  bankruptcy price.

``run_crash`` plays it on a ``Venue``: the demo's (``scripts.commands.demo_crash``: deposits on
L1, orders through the operator's HTTP API, every block proven and settled on L1) or
``RulesVenue`` (the builder alone, no L1 and no proofs: the fast test's). Both seal blocks only
when something waits, as the operator does, so each block of the crash carries a heartbeat
transfer of one micro-USDC from the LP to the market maker. ``CrashFeed`` moves the index
toward its target by at most the 10 % a pre-execution may move it (PROTOCOL 8.23).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from protocol import pubdata
from protocol.accounts import INSURANCE_FUND
from protocol.eddsa import SecretKey
from protocol.jubjub import compress
from protocol.ops import deleverage, deposit, liquidate, register_key, takeover
from protocol.ops.create_order import CreateOrder
from protocol.ops.mint_shares import MintShares
from protocol.ops.registry import request_of
from protocol.ops.transfer import Transfer
from protocol.pubdata import Layout, OpType
from protocol.risk import Health, compute_risk
from protocol.signing import sign_tx
from protocol.state import State
from protocol.types import PPM
from sequencer.builder import build_block
from sequencer.codec import L2Transaction, encode_tx
from sequencer.genesis import RollupConfig
from sequencer.price_feed import sign_prices
from sequencer.store import QueuedRequest

USDC = 1_000_000
ETH = 1  # the market that crashes
OPEN = 300_000  # ETH's genesis index (micro-USDC per lot of 1e-4 ETH)
BOTTOM = 225_000  # -25 %
BID = 245_000  # the market maker's bid, placed once ETH is down 10 % (inside the band)
NEVER = (1 << 40) - 1
MAX_CRASH_BLOCKS = 16  # the crash phase's blocks at most (it ends earlier once all is done)

OPERATOR_TYPES = frozenset(
    {
        OpType.LIQUIDATE,
        OpType.TAKEOVER,
        OpType.DELEVERAGE,
        OpType.DELEVERAGE_STEP,
        OpType.DELEVERAGE_END,
    }
)


@dataclass(frozen=True)
class Trader:
    name: str
    account: int
    deposit: int  # micro-USDC
    size: int = 0  # the long it buys at the open (lots), if any


MAKER, LP, DAVE, ALICE, BOB, CAROL = (
    Trader("maker", 3, 2_000 * USDC),
    Trader("lp", 4, 20 * USDC),
    Trader("dave", 5, 50 * USDC),
    Trader("alice", 6, 30 * USDC, 450),  # 135 USDC of ETH
    Trader("bob", 7, 5 * USDC, 100),  # 30 USDC
    Trader("carol", 8, 50 * USDC, 1_200),  # 360 USDC
)
TRADERS = (MAKER, LP, DAVE, ALICE, BOB, CAROL)
# the paths the demo must show: (what, the record that shows it, whose)
PATHS = (
    ("partial liquidation", liquidate.RECORD, ALICE),
    ("takeover by the fund", takeover.RECORD, BOB),
    ("deleverage round", deleverage.RECORD, CAROL),
)
FUND_CAPITAL = 10 * USDC  # what the LP mints shares for
LONGS = (CAROL, ALICE, BOB)  # in the order they buy


def get_key(trader: Trader) -> SecretKey:
    """The trader's L2 key (a demo's: derived from its name)."""
    return SecretKey.from_seed(trader.name.encode().ljust(32, b"\0"))


class Venue(Protocol):
    """Where the scenario runs: accounts opened through L1, L2 transactions submitted, and
    blocks sealed (and, in the demo, proven and settled) until nothing waits."""

    @property
    def state(self) -> State: ...

    def open_accounts(self, traders: Sequence[Trader]) -> None:
        """A deposit of ``trader.deposit`` and the L2 key's registration for each, queued."""
        ...

    def submit(self, trader: Trader, op: L2Transaction) -> None:
        """Signs ``op`` with the trader's key and hands it to the operator."""
        ...

    def settle(self) -> list[tuple[bytes, ...]]:
        """Seals blocks while anything waits; each block's pubdata records."""
        ...


@dataclass
class CrashFeed:
    """Index prices: each market's current one, except ``market``'s, which moves toward
    ``target`` (once set) by at most ``step_ppm`` of the current index per block."""

    market: int = ETH
    target: int | None = None
    step_ppm: int = 100_000

    def get_index_prices(self, timestamp: int, current: Sequence[int]) -> tuple[int, ...]:
        prices = list(current)
        if self.target is not None:
            now = current[self.market]
            prices[self.market] = max(self.target, now - now * self.step_ppm // PPM)
        return tuple(prices)


@dataclass(frozen=True)
class AccountView:
    """An account at one moment: health, TAV, collateral and positions (market -> lots)."""

    health: str
    tav: int
    collateral: int
    positions: dict[int, int]


def get_account_view(state: State, index: int) -> AccountView:
    account = state.accounts[index]
    risk = compute_risk(account, state.markets)
    positions = {m: p.size for m, p in sorted(account.positions.items()) if p.size}
    return AccountView(risk.health.name.lower(), risk.tav, account.collateral, positions)


def get_views(state: State) -> dict[int, AccountView]:
    accounts = (INSURANCE_FUND, *(t.account for t in TRADERS))
    return {index: get_account_view(state, index) for index in accounts}


def compute_total_collateral(state: State) -> int:
    """Every account's collateral, the fee account's, the funding pool's and the insurance
    fund's included (between blocks nothing is accrued: ``State.credit_accrued``)."""
    return sum(a.collateral for a in state.accounts.values())


@dataclass
class CrashOutcome:
    before: dict[int, AccountView]
    after: dict[int, AccountView]
    blocks: list[tuple[bytes, ...]] = field(default_factory=list)
    deposited: int = 0
    withdrawn: int = 0
    total_collateral: int = 0

    def count(self, layout: Layout, trader: Trader) -> int:
        """How many records of ``layout``'s type name ``trader``'s account."""
        start, length = layout.offset("account")
        account = trader.account.to_bytes(length, "big")
        return sum(
            1
            for records in self.blocks
            for r in records
            if r[0] == layout.op_type and r[start : start + length] == account
        )

    def count_type(self, op_type: int) -> int:
        return sum(1 for records in self.blocks for r in records if r[0] == op_type)

    @property
    def missing_paths(self) -> list[str]:
        """The paths of ``PATHS`` that did not happen to their account."""
        return [name for name, layout, trader in PATHS if not self.count(layout, trader)]

    @property
    def is_conserved(self) -> bool:
        return self.deposited - self.withdrawn == self.total_collateral

    @property
    def is_healthy_after(self) -> bool:
        """Nobody is left bankrupt, and no round is left open."""
        return all(v.health != Health.BANKRUPT.name.lower() for v in self.after.values())


def open_positions(venue: Venue) -> list[tuple[bytes, ...]]:
    """The LP's pool shares; dave and the market maker rest asks at the open; the longs buy
    them (carol takes dave's 600 lots and 600 of the maker's)."""
    venue.submit(LP, MintShares(LP.account, 0, NEVER, FUND_CAPITAL))
    venue.submit(DAVE, CreateOrder(DAVE.account, 0, NEVER, ETH, True, 600, OPEN))
    venue.submit(MAKER, CreateOrder(MAKER.account, 0, NEVER, ETH, True, 1_200, OPEN))
    for t in LONGS:
        venue.submit(t, CreateOrder(t.account, 0, NEVER, ETH, False, t.size, OPEN))
    return venue.settle()


def crash(venue: Venue, feed: CrashFeed) -> list[tuple[bytes, ...]]:
    """ETH falls toward ``BOTTOM``, a block at a time; once it is 10 % down the market maker
    bids. It ends once ETH is at the bottom and a block passed without an operation of the
    operator's passes (or after ``MAX_CRASH_BLOCKS``)."""
    feed.target = BOTTOM
    blocks: list[tuple[bytes, ...]] = []
    lp_nonce, maker_nonce = 1, 1
    for _ in range(MAX_CRASH_BLOCKS):
        index = venue.state.markets[ETH].data.index_price
        if maker_nonce == 1 and index <= OPEN * 9 // 10:
            bid = CreateOrder(MAKER.account, maker_nonce, NEVER, ETH, False, 450, BID)
            venue.submit(MAKER, bid)
            maker_nonce += 1
        venue.submit(LP, Transfer(LP.account, lp_nonce, NEVER, MAKER.account, 1))
        lp_nonce += 1
        settled = venue.settle()
        blocks += settled
        quiet = not any(r[0] in OPERATOR_TYPES for records in settled for r in records)
        at_bottom = venue.state.markets[ETH].data.index_price == BOTTOM
        if at_bottom and quiet and not venue.state.markets[ETH].data.adl_account:
            break
    return blocks


def run_crash(venue: Venue, feed: CrashFeed) -> CrashOutcome:
    """The whole scenario; what happened, for the demo's table and checks."""
    venue.open_accounts(TRADERS)
    blocks = venue.settle()
    blocks += open_positions(venue)
    before = get_views(venue.state)
    blocks += crash(venue, feed)
    state = venue.state
    deposited = sum(t.deposit for t in TRADERS)
    outcome = CrashOutcome(before, get_views(state), blocks, deposited)
    outcome.total_collateral = compute_total_collateral(state)
    return outcome


# -- the rules-only venue -------------------------------------------------------------------------


def owner_of(trader: Trader) -> bytes:
    return (0xC0 + trader.account).to_bytes(20, "big")


class RulesVenue:
    """The builder alone: blocks 12 s apart from genesis, requests chained as the contract
    chains them, no L1, no witness, no proof."""

    def __init__(self, config: RollupConfig, feed: CrashFeed) -> None:
        self.config = config
        self.feed = feed
        self._state = config.make_genesis()
        self.requests: list[QueuedRequest] = []
        self.txs: list[tuple[int, bytes]] = []
        self.prev = pubdata.ZERO_HASH
        self.request_id = 0
        self.seq = 0

    @property
    def state(self) -> State:
        return self._state

    def _queue(self, request: bytes) -> None:
        self.prev = pubdata.compute_priority_hash(self.prev, request)
        queued = QueuedRequest(self.request_id, request, self.prev, NEVER, 1, "0x" + "00" * 32)
        self.requests.append(queued)
        self.request_id += 1

    def open_accounts(self, traders: Sequence[Trader]) -> None:
        for t in traders:
            owner = owner_of(t)
            record = deposit.RECORD.make(account=t.account, owner=owner, amount=t.deposit)
            self._queue(request_of(record.encode()))
            pubkey = compress(get_key(t).public_key)
            record = register_key.RECORD.make(account=t.account, owner=owner, pubkey=pubkey)
            self._queue(request_of(record.encode()))

    def submit(self, trader: Trader, op: L2Transaction) -> None:
        self.txs.append((self.seq, encode_tx(sign_tx(op, get_key(trader), self.config.chain_id))))
        self.seq += 1

    def settle(self) -> list[tuple[bytes, ...]]:
        blocks = []
        while self.requests or self.txs:
            state = self._state
            timestamp = state.timestamp + 12
            current = [m.data.index_price for m in state.markets]
            prices = self.feed.get_index_prices(timestamp, current)
            signed = sign_prices(self.config.oracle_key, self.config.chain_id, prices, timestamp)
            sealed = build_block(
                state, state.block_number + 1, timestamp, self.requests, self.txs, signed
            )
            del self.requests[: sealed.priority_count]
            done = set(sealed.record.l2_seqs) | set(sealed.dropped)
            if sealed.dropped:
                raise RuntimeError(f"block {sealed.number} dropped {sealed.dropped}")
            self.txs = [(seq, tx) for seq, tx in self.txs if seq not in done]
            blocks.append(sealed.records)
        return blocks
