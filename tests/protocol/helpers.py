"""A small harness for the engine's tests: a genesis state with two markets, funded accounts
with registered keys, signed operations built with the right nonce, and a record of every
accepted operation as blocks, so a test can replay them from genesis."""

from __future__ import annotations

from typing import Any

from protocol.accounts import FIRST_USER_ACCOUNT
from protocol.block import (
    Block,
    Operation,
    process_block,
    process_block_end,
    process_block_header,
    process_operation,
    process_operation_with_claims,
)
from protocol.eddsa import SecretKey
from protocol.events import Event
from protocol.jubjub import compress
from protocol.markets import MarketParams
from protocol.ops.claim import Claim
from protocol.ops.create_order import CreateOrder
from protocol.ops.deposit import Deposit
from protocol.ops.pre_execution import PreExecution
from protocol.ops.register_key import RegisterKey
from protocol.ops.trigger_order import FireTrigger
from protocol.oracle import sign_price
from protocol.params import MINIMAL, Preset
from protocol.signing import sign_tx
from protocol.snapshot import encode_state
from protocol.state import State, make_genesis
from protocol.types import PPM

CHAIN_ID = 31337
ORACLE = SecretKey.from_seed(b"zkperp tests: the oracle's seed!")  # signs every test market
FAR = (1 << 40) - 1  # an expiry that never passes
# big blocks, and a taker may take up to 64 steps (the step limit: ``trading_slots``)
PRESET = MINIMAL.with_overrides(ops_per_block=1024, trading_slots=64, order_nonce_bits=12)
MARKET = MarketParams(
    min_base_amount=1,
    imf=100_000,
    mmf=50_000,
    cmf=25_000,
    maker_fee=200,
    taker_fee=500,
    price_band=200_000,
    max_open_interest=1_000_000,
    impact_notional=1_000_000,
    oracle_x=ORACLE.public_key.x,
    oracle_y=ORACLE.public_key.y,
    max_price_move=PPM,  # the tests' crashes gap up to 30 % at once; the bound's tests set it
)
BTC, ETH = 0, 1
PRICES = {BTC: 10_000, ETH: 1_000}


def owner_of(index: int) -> bytes:
    return (0xA0 + index).to_bytes(20, "big")


def key_of(index: int) -> SecretKey:
    return SecretKey.from_seed(index.to_bytes(32, "big"))


def oracle_price(market: int, price: int, timestamp: int) -> PreExecution:
    """A pre-execution at ``price``, signed by the test oracle at ``timestamp``."""
    signature = sign_price(ORACLE, CHAIN_ID, market, price, timestamp)
    return PreExecution(market, price, timestamp, signature)


def make_state(preset: Preset, params: MarketParams, signatures: bool) -> State:
    markets = [(params, PRICES[BTC]), (params, PRICES[ETH])]
    return make_genesis(preset, CHAIN_ID, markets, owner_of(0), owner_of(1), signatures)


class Env:
    """A state at block 1 plus helpers; ``signatures`` turns real EdDSA checks on."""

    def __init__(
        self, signatures: bool = False, preset: Preset = PRESET, params: MarketParams = MARKET
    ) -> None:
        self.genesis = (preset, params, signatures)
        self.state: State = make_state(preset, params, signatures)
        self.signatures = signatures
        self.blocks: list[Block] = []
        self.ops: list[Operation] = []
        self.next_block(1_000)

    def next_block(self, timestamp: int) -> None:
        """Closes the current block (recording it) and opens the next at ``timestamp``."""
        if self.state.block_number:
            process_block_end(self.state)
            self.blocks.append(
                Block(self.state.block_number, self.state.timestamp, tuple(self.ops))
            )
        self.ops = []
        process_block_header(self.state, self.state.block_number + 1, timestamp)

    def run(self, op: Any) -> tuple[Event, ...]:
        events = process_operation(self.state, op)
        self.ops.append(op)
        return events

    def run_with_claims(self, op: Any) -> list[Event]:
        """Runs ``op`` and the claims it needs; all events, flattened."""
        done = process_operation_with_claims(self.state, op)
        self.ops.extend(o for o, _ in done)
        return [event for _, events in done for event in events]

    def run_steps(self, op: Any) -> list[Event]:
        """``run_with_claims`` one operation at a time, checking that each matching step (an
        order's first step, a claim, a fired trigger) writes at most one order-book leaf."""
        out: list[Event] = []
        while True:
            before = get_order_leaves(self.state)
            out.extend(self.run(op))
            if isinstance(op, MATCHING_STEPS):
                writes = count_book_writes(before, get_order_leaves(self.state))
                assert writes <= 1, f"{op} wrote {writes} order-book leaves"
            if self.state.pending is None:
                return out
            op = Claim(self.state.pending.account)

    def end_block(self) -> None:
        """Ends the open block as ``process_block`` would (the fees and funding it accrued are
        credited); ``replay`` then ends it too."""
        process_block_end(self.state)

    def replay(self) -> State:
        """A fresh genesis state with every recorded block, the open one included (and ended),
        applied."""
        state = make_state(*self.genesis)
        current = Block(self.state.block_number, self.state.timestamp, tuple(self.ops))
        for block in [*self.blocks, current]:
            process_block(state, block)
        return state

    def open(self, index: int, amount: int) -> None:
        """Deposit ``amount`` into a new account ``index`` and register its key."""
        self.run(Deposit(index, owner_of(index), amount))
        pubkey = compress(key_of(index).public_key)
        self.run(RegisterKey(index, owner_of(index), pubkey))

    def open_many(self, count: int, amount: int) -> list[int]:
        indices = list(range(FIRST_USER_ACCOUNT, FIRST_USER_ACCOUNT + count))
        for index in indices:
            self.open(index, amount)
        return indices

    def signed(self, cls: Any, account: int, **fields: Any) -> Any:
        """An operation of ``cls`` from ``account`` with its next nonce, signed when on."""
        nonce = self.state.accounts[account].nonce
        op = cls(
            account=account,
            nonce=fields.pop("nonce", nonce),
            expiry=fields.pop("expiry", FAR),
            **fields,
        )
        if self.signatures:
            op = sign_tx(op, key_of(account), CHAIN_ID)
        return op

    def order(
        self, account: int, market: int, is_ask: bool, price: int, size: int, **kw: Any
    ) -> Any:
        return self.signed(
            CreateOrder, account, market=market, is_ask=is_ask, price=price, size=size, **kw
        )

    def place(
        self, account: int, market: int, is_ask: bool, price: int, size: int, **kw: Any
    ) -> list[Event]:
        """Places an order and runs the claims it needs; all events, flattened."""
        return self.run_with_claims(self.order(account, market, is_ask, price, size, **kw))

    def set_index(self, market: int, price: int) -> tuple[Event, ...]:
        """The sequencer's per-block pre-execution for ``market`` at index ``price``."""
        return self.run(self.signed_price(market, price))

    def signed_price(self, market: int, price: int, timestamp: int | None = None) -> PreExecution:
        """A pre-execution at ``price``, signed by the test oracle at ``timestamp`` (default:
        the block's time)."""
        return oracle_price(market, price, self.state.timestamp if timestamp is None else timestamp)

    def snapshot(self) -> bytes:
        return encode_state(self.state)


def total_collateral(state: State) -> int:
    """Every account's collateral plus the fees, funding and liquidation spreads the open block
    accrued for the fee account, the funding pool and the insurance fund (what deposits minus
    withdrawals equals at every moment)."""
    return (
        sum(a.collateral for a in state.accounts.values())
        + state.accrued_fees
        + state.accrued_funding
        + state.accrued_insurance
    )


def assert_rejected(env: Env, op: Operation, error: type[Exception]) -> None:
    """``op`` raises ``error`` and the state is byte-for-byte what it was."""
    before = env.snapshot()
    try:
        env.run(op)
    except error:
        pass
    else:
        raise AssertionError(f"{op} was accepted")
    assert env.snapshot() == before


MATCHING_STEPS = (CreateOrder, Claim, FireTrigger)  # the operations that run one matching step


def get_order_leaves(state: State) -> dict[tuple[int, int], tuple[int, int, bool, int]]:
    """Every resting order's leaf fields, by (market, key)."""
    return {
        (market.index, o.key): (o.account, o.remaining, o.reduce_only, o.expiry)
        for market in state.markets
        for is_ask in (False, True)
        for o in market.book.iter_side(is_ask)
    }


def count_book_writes(before: dict[Any, Any], after: dict[Any, Any]) -> int:
    """How many order-book leaves differ between two ``get_order_leaves``."""
    return sum(1 for key in before.keys() | after.keys() if before.get(key) != after.get(key))
