"""The operator liquidates by itself (``sequencer.liquidator``): a price move leaves an account
in partial liquidation, and the next block the builder seals liquidates it, a block the circuit
proves (the witness checked against the minimal block circuit); without liquidity, or with an
operation the rules refuse, the builder goes on without it. An account bankrupt beyond the
insurance fund is deleveraged: the round's operations, one block after the other while the
blocks are full, close its position, every holder of the opposite side served."""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator

import pytest

from protocol.accounts import INSURANCE_FUND
from protocol.block import Operation, process_block_header, process_operation
from protocol.events import Deleveraged
from protocol.ops.create_order import CreateOrder
from protocol.ops.deleverage import Deleverage
from protocol.ops.deleverage_end import DeleverageEnd
from protocol.ops.deleverage_step import DeleverageStep
from protocol.ops.liquidate import Liquidate
from protocol.ops.mint_shares import MintShares
from protocol.ops.takeover import Takeover
from protocol.pubdata import OpType
from protocol.risk import Health, compute_risk
from protocol.signing import sign_tx
from protocol.state import State
from scripts.reconstruct import compute_operations
from sequencer import builder
from sequencer.builder import SealedBlock, build_block
from sequencer.codec import encode_tx
from sequencer.liquidator import (
    continue_rounds,
    find_deleverages,
    find_liquidations,
    find_takeovers,
)
from sequencer.price_feed import SignedPrice, sign_prices
from sequencer.store import QueuedRequest
from sequencer.witness import build_block_inputs
from tests.sequencer.helpers import (
    CHAIN_ID,
    CONFIG,
    FAR,
    USDC,
    chain_requests,
    key_of,
    open_accounts,
)

BTC = 0
LONG_CASH = 121_000  # 4's: long 100 lots at 10,000, in partial liquidation at 9,050


def _order(
    account: int, nonce: int, is_ask: bool, price: int, size: int = 100
) -> tuple[int, bytes]:
    op = CreateOrder(account, nonce, FAR, BTC, is_ask, size, price)
    return account * 100 + nonce, encode_tx(sign_tx(op, key_of(account), CHAIN_ID))


class Chain:
    """The builder's blocks one after the other, a second apart; ``batches`` of priority
    requests, one per block, first."""

    def __init__(self, batches: list[list[QueuedRequest]]) -> None:
        self.state = CONFIG.make_genesis()
        self.number = 0
        self.batches = batches

    def seal(self, txs: list[tuple[int, bytes]] | None = None, index: int = 0) -> SealedBlock:
        """The next block, with ``txs`` and, given an ``index``, BTC's index price moved."""
        self.number += 1
        timestamp = 1_000 * self.number
        prices: tuple[SignedPrice, ...] = ()
        if index:
            prices = sign_prices(CONFIG.oracle_key, CHAIN_ID, (index, 3_000), timestamp)
        requests = self.batches.pop(0) if self.batches else []
        return build_block(self.state, self.number, timestamp, requests, txs or [], prices)


def health(state: State, account: int) -> Health:
    return compute_risk(state.accounts[account], state.markets).health


def crashed(bid: bool = True) -> Chain:
    """3 and 5 with 10 USDC, 4 with ``LONG_CASH``; 4 buys 100 lots of 3's ask at 10,000, 5
    bids 100 at 9,000 (unless not ``bid``), and the index falls to 9,050."""
    requests = chain_requests(open_accounts([3, 5], 10 * USDC) + open_accounts([4], LONG_CASH))
    chain = Chain([requests[:4], requests[4:]])
    chain.seal()
    chain.seal()
    chain.seal([_order(3, 0, True, 10_000), _order(4, 0, False, 10_000)])
    assert chain.state.accounts[4].get_size(BTC) == 100
    chain.seal([_order(5, 0, False, 9_000)] if bid else [], index=9_050)
    assert chain.state.markets[BTC].data.mark_price == 9_050
    assert health(chain.state, 4) == Health.PARTIAL_LIQUIDATION
    return chain


def assert_proven(before: State, sealed: SealedBlock) -> None:
    """Reconstruction reads the block's operations back from its records, and the block the
    builder sealed is one the circuit proves, with the rules' root."""
    assert (
        compute_operations(before, sealed.records, sealed.block.timestamp)
        == sealed.block.operations
    )
    cs, values = build_block_inputs(before, sealed.block)
    cs.check(values)
    assert cs.public_inputs(values)[1] == sealed.state_root


def test_the_next_block_liquidates_an_account_a_price_move_left_in_partial_liquidation() -> None:
    chain = crashed()
    before = copy.deepcopy(chain.state)
    fund = chain.state.accounts[INSURANCE_FUND].collateral
    sealed = chain.seal()
    assert sealed.block.operations[0] == Liquidate(4, BTC, 100)
    assert [r[0] for r in sealed.records[:2]] == [OpType.LIQUIDATE, OpType.NOOP]
    state = chain.state
    assert BTC not in state.accounts[4].positions and state.accounts[5].get_size(BTC) == 100
    assert state.accounts[INSURANCE_FUND].collateral > fund  # the spread, at the block's end
    assert list(find_liquidations(state)) == []  # nothing left to liquidate
    assert_proven(before, sealed)


def test_without_liquidity_the_operator_goes_on_without_a_liquidation() -> None:
    chain = crashed(bid=False)
    assert list(find_liquidations(chain.state)) == []
    sealed = chain.seal()
    assert OpType.LIQUIDATE not in [r[0] for r in sealed.records]
    assert chain.state.accounts[4].get_size(BTC) == 100


def test_an_operation_of_a_pass_the_rules_refuse_is_left_out(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A pass that asks for a liquidation of a healthy account, then the real one: the first
    is logged and left out, the second taken."""
    chain = crashed()

    def careless(state: State) -> Iterator[Operation]:
        yield Liquidate(3, BTC, 1)  # 3 is short and healthy
        yield from find_liquidations(state)

    monkeypatch.setattr(builder, "OPERATOR_PASSES", (careless,))
    sealed = chain.seal()
    assert sealed.block.operations[0] == Liquidate(4, BTC, 100)
    assert "Liquidate(account=3, market=0, size=1) left out" in caplog.text


def test_a_pass_of_an_unproven_type_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    chain = crashed()
    monkeypatch.setattr(builder, "PROVEN_TYPES", builder.PROVEN_TYPES - {OpType.LIQUIDATE})
    sealed = chain.seal()
    assert OpType.LIQUIDATE not in [r[0] for r in sealed.records]


def test_the_next_block_takes_over_an_account_below_close_out() -> None:
    """6 mints pool shares (the fund holds 50 USDC), then the index falls far enough that 4 is
    below CMR: the operator's next block hands 4's position to the fund, proven."""
    requests = chain_requests(
        open_accounts([3, 5], 10 * USDC) + open_accounts([4], LONG_CASH)
        + open_accounts([6], 100 * USDC)
    )  # fmt: skip
    chain = Chain([requests[:4], requests[4:]])
    chain.seal()
    chain.seal()
    mint = sign_tx(MintShares(6, 0, FAR, 50 * USDC), key_of(6), CHAIN_ID)
    chain.seal([(600, encode_tx(mint))])
    assert chain.state.accounts[INSURANCE_FUND].collateral == 50 * USDC
    chain.seal([_order(3, 0, True, 10_000), _order(4, 0, False, 10_000)])
    chain.seal(index=9_000)
    chain.seal(index=8_900)
    risk = compute_risk(chain.state.accounts[4], chain.state.markets)
    assert risk.tav < risk.cmr and list(find_liquidations(chain.state)) == []
    assert list(find_takeovers(chain.state)) == [Takeover(4)]
    before = copy.deepcopy(chain.state)
    sealed = chain.seal()
    assert sealed.block.operations[0] == Takeover(4)
    assert chain.state.accounts[INSURANCE_FUND].get_size(BTC) == 100
    assert BTC not in chain.state.accounts[4].positions
    assert list(find_takeovers(chain.state)) == []
    assert_proven(before, sealed)


SHORTS = {3: 33, 5: 33, 6: 34}  # the opposite side of 4's (90 lots) and 7's (10) longs


def bankrupt() -> Chain:
    """4 (``LONG_CASH``) bids 90 lots at 10,000 and 7 (10 USDC) 10; 3, 5 and 6 sell them
    ``SHORTS``; the index falls to 9,050, then 8,200: 4 is bankrupt (TAV < 0), and the fund,
    empty, cannot take it over."""
    requests = chain_requests(
        open_accounts([3, 5, 6, 7], 10 * USDC) + open_accounts([4], LONG_CASH)
    )
    chain = Chain([requests[:4], requests[4:8], requests[8:]])
    for _ in range(3):
        chain.seal()
    chain.seal([_order(4, 0, False, 10_000, 90), _order(7, 0, False, 10_000, 10)])
    sells = [_order(a, 0, True, 10_000, size) for a, size in SHORTS.items()]
    chain.seal(sells[:2])
    chain.seal(sells[2:])
    assert {a: chain.state.accounts[a].get_size(BTC) for a in SHORTS} == {3: -33, 5: -33, 6: -34}
    chain.seal(index=9_050)
    chain.seal(index=8_200)
    risk = compute_risk(chain.state.accounts[4], chain.state.markets)
    assert risk.tav < 0 and list(find_takeovers(chain.state)) == []
    return chain


def round_ops(sealed: SealedBlock) -> list[Operation]:
    kinds = (Deleverage, DeleverageStep, DeleverageEnd)
    return [op for op in sealed.block.operations if isinstance(op, kinds)]


def test_the_operator_deleverages_an_account_bankrupt_beyond_the_fund_over_full_blocks() -> None:
    """Two heavy slots a block: 4's round (open, three steps, end) takes three blocks, the
    market frozen in between. 4's position closes at its bankruptcy price, each short takes
    ``floor(90 * |z| / 100)`` lots (29, 29, 30) and the fund the 2 left over, at that price,
    above the mark: the fund, empty, is then bankrupt, and its own round (ceilings) follows."""
    chain = bankrupt()
    assert list(find_deleverages(chain.state))[:1] == [Deleverage(4, BTC)]
    blocks = [chain.seal() for _ in range(6)]
    step = functools.partial(DeleverageStep, BTC)
    assert [round_ops(b) for b in blocks] == [
        [Deleverage(4, BTC), step(3)],
        [step(5), step(6)],
        [DeleverageEnd(BTC), Deleverage(INSURANCE_FUND, BTC)],
        [step(3), step(5)],
        [step(6), DeleverageEnd(BTC)],
        [],
    ]
    moved = [
        (e.account, e.counterparty, e.size)
        for b in blocks
        for e in b.events
        if isinstance(e, Deleveraged)
    ]
    fund = INSURANCE_FUND
    assert moved == [
        (4, 3, 29), (4, 5, 29), (4, 6, 30), (4, fund, 2),
        (fund, 3, 1), (fund, 5, 1), (fund, 6, 0), (fund, fund, 0),
    ]  # fmt: skip
    state = chain.state
    assert {a: state.accounts[a].get_size(BTC) for a in SHORTS} == {3: -3, 5: -3, 6: -4}
    for index in (4, INSURANCE_FUND):
        assert state.accounts[index].get_size(BTC) == 0 and state.accounts[index].collateral >= 0
    assert state.markets[BTC].data.adl_account == 0
    assert list(continue_rounds(state)) == [] and list(find_deleverages(state)) == []


def test_the_blocks_of_the_operators_rounds_are_proven_with_the_rules_roots() -> None:
    """Each block of the rounds above (the start, steps, the end, the fund's own round after)
    is one the circuit proves, its records read back as its operations."""
    chain = bankrupt()
    kinds = set()
    for _ in range(5):
        before = copy.deepcopy(chain.state)
        sealed = chain.seal()
        kinds |= {type(op) for op in round_ops(sealed)}
        assert_proven(before, sealed)
    assert kinds == {Deleverage, DeleverageStep, DeleverageEnd}


def test_a_round_step_left_out_waits_for_the_next_block_and_nobody_is_skipped(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The builder leaves 5's step out once (it fails, as any operation might): the round stops
    there for the block rather than serve 6 first, and the next block serves 5, then 6."""
    chain = bankrupt()
    check = builder.check_provable
    refused: list[Operation] = []

    def flaky(state: State, op: Operation) -> None:
        if op == DeleverageStep(BTC, 5) and not refused:
            refused.append(op)
            raise RuntimeError("flaky")
        check(state, op)

    monkeypatch.setattr(builder, "check_provable", flaky)
    blocks = [chain.seal() for _ in range(3)]
    assert "DeleverageStep(market=0, account=5) left out: flaky" in caplog.text
    assert [round_ops(b) for b in blocks[:2]] == [
        [Deleverage(4, BTC), DeleverageStep(BTC, 3)],
        [DeleverageStep(BTC, 5), DeleverageStep(BTC, 6)],
    ]
    assert round_ops(blocks[2])[0] == DeleverageEnd(BTC)
    assert chain.state.accounts[4].get_size(BTC) == 0


def test_a_round_pass_never_stalls_on_a_refused_operation() -> None:
    """Driven by the rules alone, one block of unlimited room: where the rules refuse the
    round's first step (3 is served out of turn: its step is refused after 5's is taken, say),
    the pass stops that round and ends (the next block runs it on), rather than loop."""
    chain = bankrupt()
    state = chain.state
    process_block_header(state, state.block_number + 1, state.timestamp + 1)
    taken: list[Operation] = []
    for op in find_deleverages(state):
        if op == DeleverageStep(BTC, 3):
            continue  # left out
        with state.transaction():
            process_operation(state, op)
        taken.append(op)
    assert taken == [Deleverage(4, BTC)]
    assert state.markets[BTC].data.adl_account == 5  # open, 3 still to serve
    for op in continue_rounds(state):
        with state.transaction():
            process_operation(state, op)
    assert BTC not in state.accounts[4].positions and state.markets[BTC].data.adl_account == 0
