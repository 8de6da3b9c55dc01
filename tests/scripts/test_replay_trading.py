"""Reconstruction replays every record type: blocks sealed by the builder with pre-execution,
orders matched across several makers and price levels (claims inserted), a remainder resting,
a cancel, a modify, a cancel-all, leverage changes and a funding hour are turned back into
operations from their records alone (``scripts.reconstruct.compute_operations``) and give the
same records and the same state root, with no proof and no signature.

The codec and the builder take the trading operations once the block circuit proves them (fills
are not proven yet); here they are told to take them already (the rules only)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from protocol.block import Block, process_block
from protocol.commitment import update_state_root
from protocol.errors import InvalidBlock
from protocol.ops.cancel_all import CancelAll
from protocol.ops.cancel_order import CancelOrder
from protocol.ops.create_order import CreateOrder, TimeInForce
from protocol.ops.modify_order import ModifyOrder
from protocol.ops.pre_execution import PreExecution
from protocol.ops.set_leverage import SetLeverage
from protocol.pubdata import OpType
from protocol.signing import sign_tx
from protocol.state import State
from scripts.reconstruct import compute_operations
from sequencer import builder, codec
from sequencer.builder import SealedBlock, build_block
from sequencer.codec import encode_tx
from sequencer.genesis import RollupConfig
from sequencer.price_feed import sign_prices
from sequencer.store import QueuedRequest
from tests.sequencer.helpers import (
    CHAIN_ID,
    CONFIG,
    FAR,
    USDC,
    chain_requests,
    key_of,
    open_accounts,
)

# still "minimal" (its two markets), every slot heavy: pre-execution takes two of them
PRESET = CONFIG.preset.with_overrides(ops_per_block=18, trading_slots=16, market_slots=2)
TRADING = RollupConfig(PRESET, CHAIN_ID)
BTC, ETH = 0, 1
BUY, SELL = False, True


@pytest.fixture(autouse=True)
def trading_codec(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(codec, "L2_TYPES", codec.get_l2_types(frozenset(OpType)))
    monkeypatch.setattr(builder, "PROVEN_TYPES", frozenset(OpType))
    monkeypatch.setattr(builder, "check_provable", lambda state, op: None)
    yield


class Chain:
    """The live (operator's) state sealing blocks, and the replay from records beside it."""

    def __init__(self) -> None:
        self.live = TRADING.make_genesis()
        self.replayed = TRADING.make_genesis(check_signatures=False)
        self.nonces: dict[int, int] = {}
        self.seq = 0
        self.types: set[int] = set()

    def signed(self, cls: Any, account: int, **fields: Any) -> tuple[int, bytes]:
        nonce = self.nonces.get(account, 0)
        self.nonces[account] = nonce + 1
        op = sign_tx(cls(account=account, nonce=nonce, expiry=FAR, **fields), key_of(account),
                     CHAIN_ID)  # fmt: skip
        self.seq += 1
        return self.seq, encode_tx(op)

    def order(self, account: int, market: int, is_ask: bool, price: int, size: int,
              **kw: Any) -> tuple[int, bytes]:  # fmt: skip
        return self.signed(
            CreateOrder, account, market=market, is_ask=is_ask, price=price, size=size, **kw
        )

    def seal(
        self, timestamp: int, prices: tuple[int, int], txs: list[tuple[int, bytes]],
        requests: list[QueuedRequest] | None = None,
    ) -> SealedBlock:  # fmt: skip
        number = self.live.block_number + 1
        signed = sign_prices(TRADING.oracle_key, CHAIN_ID, prices, timestamp)
        sealed = build_block(self.live, number, timestamp, requests or [], txs, signed)
        assert sealed.dropped == {}, sealed.dropped
        before = copy.deepcopy(self.replayed)
        ops = compute_operations(before, sealed.records, timestamp)
        result = process_block(self.replayed, Block(number, timestamp, ops))
        assert result.records == sealed.records
        assert update_state_root(self.replayed) == sealed.state_root
        self.types |= {r[0] for r in sealed.records}
        return sealed

    def key_of_order(self, market: int, account: int, price: int) -> int:
        book = self.live.markets[market].book
        for is_ask in (False, True):
            for order in book.iter_side(is_ask):
                if order.account == account and order.price == price:
                    return order.key
        raise AssertionError(f"no order of {account} at {price}")


def positions(state: State) -> dict[int, dict[int, int]]:
    return {
        i: {m: p.size for m, p in sorted(a.positions.items())}
        for i, a in sorted(state.accounts.items())
    }


def test_a_trading_history_replays_from_its_records_to_the_same_roots() -> None:
    chain = Chain()
    chain.seal(1_000, (10_000, 3_000), [], chain_requests(open_accounts([3, 4, 5, 6], 100 * USDC)))
    makers = [
        chain.order(3, BTC, SELL, 10_000, 2),
        chain.order(4, BTC, SELL, 10_005, 1),
        chain.order(3, BTC, SELL, 10_010, 1),
        chain.order(5, ETH, BUY, 2_990, 5),
        chain.order(5, ETH, BUY, 2_980, 2),
        chain.signed(SetLeverage, 6, market=BTC, imf=200_000),
    ]
    chain.seal(1_060, (10_002, 3_001), makers)
    # a buy across three makers and three price levels, resting 2 lots at 10,010 when the
    # book stops crossing; a market sell on ETH; a cancel, a modify and a cancel-all
    taker = chain.order(6, BTC, BUY, 10_010, 6)
    sealed = chain.seal(1_120, (10_004, 3_000), [taker, chain.order(
        4, ETH, SELL, 2_900, 3, kind=1, time_in_force=TimeInForce.IOC)])  # fmt: skip
    claims = [op for op in sealed.block.operations if type(op).__name__ == "Claim"]
    assert len(claims) == 3  # 3 makers: the order and 2 claims fill, 1 more claim rests
    assert chain.live.markets[BTC].book.best(BUY).remaining == 2  # type: ignore[union-attr]
    rested = chain.key_of_order(BTC, 6, 10_010)
    eth_bid = chain.key_of_order(ETH, 5, 2_990)
    later = [
        chain.signed(ModifyOrder, 6, market=BTC, key=rested, price=10_008, size=1),
        chain.signed(CancelOrder, 5, market=ETH, key=eth_bid),
        chain.order(3, ETH, SELL, 3_050, 1),
        chain.signed(CancelAll, 3),
        chain.signed(SetLeverage, 4, market=ETH, imf=250_000),
    ]
    chain.seal(1_180, (10_010, 2_995), later)
    chain.seal(3_600 * 2 + 5, (10_300, 2_950), [chain.order(5, BTC, SELL, 10_008, 1)])
    assert positions(chain.replayed) == positions(chain.live)
    assert positions(chain.live)[6][BTC] == 5 and positions(chain.live)[4][ETH] == -3
    assert [m.data.last_funding_hour for m in chain.replayed.markets] == [2, 2]
    assert {
        OpType.PRE_EXECUTION, OpType.CREATE_ORDER, OpType.CLAIM, OpType.CANCEL_ORDER,
        OpType.CANCEL_ALL, OpType.MODIFY_ORDER, OpType.SET_LEVERAGE,
    } <= chain.types  # fmt: skip


def test_a_claim_record_with_another_fill_does_not_replay_to_itself() -> None:
    chain = Chain()
    chain.seal(1_000, (10_000, 3_000), [], chain_requests(open_accounts([3, 4], 100 * USDC)))
    chain.seal(1_060, (10_000, 3_000), [chain.order(3, BTC, SELL, 10_000, 1),
                                        chain.order(3, BTC, SELL, 10_001, 1)])  # fmt: skip
    before = copy.deepcopy(chain.replayed)
    sealed = chain.seal(1_120, (10_000, 3_000), [chain.order(4, BTC, BUY, 10_001, 2)])
    records = list(sealed.records)
    claim = next(i for i, r in enumerate(records) if r[0] == OpType.CLAIM)
    records[claim] = records[claim][:15] + (2).to_bytes(6, "big") + records[claim][21:]
    ops = compute_operations(before, records, 1_120)  # the inputs read back the same
    assert [type(op) for op in ops] == [type(op) for op in sealed.block.operations]
    result = process_block(before, Block(sealed.number, 1_120, ops))
    assert result.records == sealed.records != tuple(records)  # reconstruction refuses it


def test_reconstruction_reads_the_price_timestamp_and_replays_its_checks() -> None:
    """The type-23 record carries the oracle's timestamp: reconstruction (no signatures) gets
    each pre-execution back with it, and a record whose price would be stale at the block's
    time does not replay (the rules' age check runs on L1 data alone)."""
    chain = Chain()
    before = copy.deepcopy(chain.replayed)
    sealed = chain.seal(1_000, (10_000, 3_000), [])
    ops = compute_operations(before, sealed.records, 1_000)
    pres = [op for op in ops if isinstance(op, PreExecution)]
    assert [(op.price_timestamp, op.signature) for op in pres] == [(1_000, None)] * 2
    stale = 1_000 + TRADING.markets[BTC].params.max_price_age + 1
    replayed = compute_operations(before, sealed.records, stale)
    with pytest.raises(InvalidBlock, match="price of 1000 at block time"):
        process_block(copy.deepcopy(before), Block(sealed.number, stale, replayed))
