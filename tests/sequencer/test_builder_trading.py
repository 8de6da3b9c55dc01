"""The builder with trading: an order gets its claims in the same block, one matching step
each; an order whose claims do not fit waits for the next block; the step limit ends a taker
after as many steps as a block has heavy slots, so every order fits a block; no block ends with
a pending taker; the rules' process_block replays what was sealed.

The codec and the builder take an operation once the block circuit proves it (``PROVEN_TYPES``,
``sequencer.witness.check_provable``); the ``trading_codec`` tests tell them to take every
trading operation already, since they run the rules only. The last tests show what the
operator does today with claims that end their takers: it takes them (the block circuit proves
every such failure), and would drop with its reason a step the circuit does not prove."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest

from protocol.block import process_block
from protocol.commitment import update_state_root
from protocol.events import TakerDone
from protocol.ops import forced_cancel_all, forced_order
from protocol.ops.cancel_all import CancelAll
from protocol.ops.claim import Claim
from protocol.ops.create_order import CreateOrder
from protocol.ops.forced_order import ForcedOrder
from protocol.ops.noop import Noop
from protocol.ops.registry import request_of
from protocol.ops.transfer import Transfer
from protocol.pubdata import ORDER_FLAG_MARKET, OpType
from sequencer import builder, codec
from sequencer.builder import SealedBlock, build_block
from sequencer.codec import encode_tx
from sequencer.witness import UnprovableOperationError, check_outcome
from tests.protocol.helpers import BTC, PRESET, Env, owner_of
from tests.sequencer.helpers import chain_requests

SLOTS = 6
BUY, SELL = False, True


@pytest.fixture
def trading_codec(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(codec, "L2_TYPES", codec.get_l2_types(frozenset(OpType)))
    monkeypatch.setattr(builder, "PROVEN_TYPES", frozenset(OpType))
    monkeypatch.setattr(builder, "check_provable", lambda state, op: None)
    yield


def book_env(makers: int, signatures: bool = False, heavy: int = SLOTS) -> Env:
    """Accounts 3..8 funded; account 3 rests ``makers`` asks of 1 lot at 10,000, 10,001, ...
    Blocks of ``SLOTS`` slots, the first ``heavy`` of them heavy."""
    preset = PRESET.with_overrides(ops_per_block=SLOTS, trading_slots=heavy, market_slots=0)
    env = Env(preset=preset, signatures=signatures)
    env.open_many(6, 10_000_000)
    for i in range(makers):
        env.place(3, BTC, SELL, 10_000 + i, 1)
    return env


def seal(env: Env, txs: list[tuple[int, bytes]]) -> SealedBlock:
    state = env.state
    return build_block(state, state.block_number + 1, state.timestamp + 1, [], txs)


def test_an_order_and_its_claims_fill_the_block_in_order(trading_codec: None) -> None:
    env = book_env(2)
    order: CreateOrder = env.order(4, BTC, BUY, 10_001, 3)
    sealed = seal(env, [(1, encode_tx(order))])
    # first step fills 10,000; a claim fills 10,001; one more claim rests the remainder
    assert list(sealed.block.operations[:3]) == [order, Claim(4), Claim(4)]
    assert [r[0] for r in sealed.records] == [
        OpType.CREATE_ORDER, OpType.CLAIM, OpType.CLAIM, *[OpType.NOOP] * (SLOTS - 3)
    ]  # fmt: skip
    assert sealed.record.l2_seqs == (1,) and env.state.pending is None
    rested = env.state.markets[BTC].book.best(BUY)
    assert rested is not None and (rested.account, rested.remaining) == (4, 1)


def test_an_order_whose_claims_do_not_fit_waits_for_the_next_block(trading_codec: None) -> None:
    env = book_env(6)
    txs = [(1 + i, encode_tx(env.order(5 + i, BTC, BUY, 10_000 + i, 1))) for i in range(3)]
    # fills 10,003, 10,004 and 10,005, then one more claim rests 2 lots: 4 operations, 3 left
    second: CreateOrder = env.order(4, BTC, BUY, 10_005, 5)
    txs.append((4, encode_tx(second)))
    sealed = seal(env, txs)
    assert sealed.record.l2_seqs == (1, 2, 3) and sealed.dropped == {}
    assert env.state.pending is None and env.state.accounts[4].nonce == second.nonce
    later = seal(env, [txs[3]])
    assert later.record.l2_seqs == (4,)
    assert [type(op) for op in later.block.operations[:4]] == [CreateOrder, *[Claim] * 3]


def test_an_order_that_would_take_more_makers_than_the_step_limit_ends_at_it(
    trading_codec: None,
) -> None:
    env = book_env(SLOTS + 1)
    greedy: CreateOrder = env.order(4, BTC, BUY, 10_000 + SLOTS, SLOTS + 1)
    transfer: Transfer = env.signed(Transfer, 6, to=7, amount=5)
    sealed = seal(env, [(1, encode_tx(greedy)), (2, encode_tx(transfer))])
    # SLOTS steps (all the block's slots are heavy), each filling a maker; the last lot cancelled
    assert sealed.dropped == {} and sealed.record.l2_seqs == (1,)
    assert list(sealed.block.operations) == [greedy, *[Claim(4)] * (SLOTS - 1)]
    assert env.state.pending is None and env.state.accounts[4].positions[BTC].size == SLOTS
    assert [o.price for o in env.state.markets[BTC].book.iter_side(SELL)] == [10_000 + SLOTS]
    assert seal(env, [(2, encode_tx(transfer))]).record.l2_seqs == (2,)


def test_an_order_fills_at_most_as_many_makers_as_a_block_has_heavy_slots(
    trading_codec: None,
) -> None:
    env = book_env(3, heavy=2)
    greedy: CreateOrder = env.order(4, BTC, BUY, 10_002, 3)  # 3 makers, 2 steps
    sealed = seal(env, [(1, encode_tx(greedy))])
    assert sealed.dropped == {} and sealed.record.l2_seqs == (1,)
    assert list(sealed.block.operations[:3]) == [greedy, Claim(4), Noop()]
    assert env.state.accounts[4].positions[BTC].size == 2
    assert len(list(env.state.markets[BTC].book.iter_side(SELL))) == 1


def test_trading_goes_into_the_heavy_slots_and_the_money_path_anywhere(
    trading_codec: None,
) -> None:
    env = book_env(3, heavy=3)
    first: CreateOrder = env.order(4, BTC, BUY, 10_001, 2)  # fills 2 makers: 2 operations
    second: CreateOrder = env.order(5, BTC, BUY, 10_002, 2)  # fills 1, rests 1: 2 operations
    transfer: Transfer = env.signed(Transfer, 6, to=7, amount=5)
    txs = [(1, encode_tx(first)), (2, encode_tx(transfer)), (3, encode_tx(second))]
    sealed = seal(env, txs)
    # the transfer takes the last heavy slot, so the second order waits for the next block
    assert sealed.record.l2_seqs == (1, 2) and sealed.dropped == {}
    assert [type(op) for op in sealed.block.operations[:3]] == [CreateOrder, Claim, Transfer]
    later = seal(env, [(4, encode_tx(env.signed(Transfer, 7, to=6, amount=5))), txs[2]])
    assert later.record.l2_seqs == (4, 3)
    steps = [type(op) for op in later.block.operations[:3]]
    assert steps == [Transfer, CreateOrder, Claim] and env.state.pending is None


def test_the_rules_replay_a_sealed_trading_block(trading_codec: None) -> None:
    env, twin = book_env(3), book_env(3)  # the same steps: the same state
    sealed = seal(env, [(1, encode_tx(env.order(4, BTC, BUY, 10_002, 5)))])
    assert sum(isinstance(op, Claim) for op in sealed.block.operations) == 3
    process_block(twin.state, sealed.block)
    assert update_state_root(twin.state) == sealed.state_root


def test_an_order_whose_claim_ends_its_taker_is_taken() -> None:
    env = book_env(2, signatures=True)  # asks of 1 lot at 10,000 and 10,001
    env.place(6, BTC, BUY, 9_000, 1)
    env.place(5, BTC, SELL, 9_000, 1)  # 5 is short 1 lot
    env.place(7, BTC, BUY, 8_000, 1)
    # reduce-only: fills 10,000; its claim, with nothing left to reduce, ends it
    closing = env.order(5, BTC, BUY, 10_001, 2, reduce_only=True)
    # fills 10,001; its claim would rest the other lot, but the bids' nonces are spent
    full = env.order(4, BTC, BUY, 10_001, 2)
    env.state.markets[BTC].book.bid_nonce = 0  # no bid takes nonce 0
    sealed = seal(env, [(1, encode_tx(closing)), (2, encode_tx(full))])
    assert sealed.dropped == {} and sealed.record.l2_seqs == (1, 2)
    assert list(sealed.block.operations[:4]) == [closing, Claim(5), full, Claim(4)]
    outcomes = [e.outcome for e in sealed.events if isinstance(e, TakerDone)]
    assert outcomes == ["ReduceOnlyViolation", "OrderBookFull"] and env.state.pending is None
    assert BTC not in env.state.accounts[5].positions
    assert env.state.accounts[4].positions[BTC].size == 1 and env.state.accounts[4].open_orders == 0


def test_a_taker_ended_by_a_failure_the_circuit_does_not_prove_is_refused() -> None:
    """``check_outcome``: every failure a claim's taker can end on today is proven; an outcome
    outside the proven ones makes the step unprovable (its transaction is then dropped)."""
    claim = Claim(4)
    assert check_outcome(claim, [TakerDone(4, BTC, 1, "RiskCheckFailed")])
    assert not check_outcome(claim, [TakerDone(4, BTC, 1, "rested")])
    with pytest.raises(UnprovableOperationError, match="AccruedOverflow"):
        check_outcome(claim, [TakerDone(4, BTC, 1, "AccruedOverflow")])


def test_a_forced_order_gets_its_claims_and_one_that_does_not_fit_waits(
    trading_codec: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(codec, "PROVEN_TYPES", codec.PROVEN_TYPES | {OpType.FORCED_ORDER})
    env = book_env(7)

    def market_buy(size: int) -> bytes:
        record = forced_order.RECORD.make(
            account=5, owner=owner_of(5), market=BTC, flags=ORDER_FLAG_MARKET, price=10_100,
            size=size,
        )  # fmt: skip
        return request_of(record.encode())

    # 3 lots over 3 makers: 3 operations; then 4 lots over 4 makers: 4, with 3 slots left
    requests = chain_requests([market_buy(3), market_buy(4)])
    filler = [(1, encode_tx(env.order(4, BTC, BUY, 9_000, 1)))]
    sealed = build_block(env.state, 2, env.state.timestamp + 1, requests, filler)
    assert [type(op) for op in sealed.block.operations[:4]] == [
        ForcedOrder, Claim, Claim, CreateOrder
    ]  # fmt: skip
    assert sealed.priority_count == 1 and sealed.record.l2_seqs == (1,)
    assert env.state.pending is None and env.state.accounts[5].get_size(BTC) == 3
    later = build_block(env.state, 3, env.state.timestamp + 1, requests[1:], [])
    assert later.priority_count == 1 and env.state.accounts[5].get_size(BTC) == 7


def test_cancel_alls_are_taken_as_proven_operations_and_a_taker_meets_their_dead_orders() -> None:
    """With the real codec and the real check (no ``trading_codec``): 3's cancel all (signed)
    and 5's forced cancel-all (a request) are sealed in the block, proven types; the next
    block's bid meets 3's dead asks (removed unfilled; the step limit then ends it); the
    rules replay both."""
    env = book_env(2, signatures=True, heavy=2)  # heavy slots first, then light ones
    twin = Env(preset=env.state.preset, signatures=True)
    twin.state = copy.deepcopy(env.state)
    assert {OpType.CANCEL_ALL, OpType.FORCED_CANCEL_ALL} <= codec.PROVEN_TYPES
    forced = request_of(forced_cancel_all.RECORD.make(account=5, owner=owner_of(5)).encode())
    state = env.state
    sealed = build_block(
        state,
        state.block_number + 1,
        state.timestamp + 1,
        chain_requests([forced]),
        [(1, encode_tx(env.signed(CancelAll, 3)))],
    )
    types = [r[0] for r in sealed.records]
    assert types[:2] == [OpType.FORCED_CANCEL_ALL, OpType.CANCEL_ALL]
    assert state.accounts[3].cancel_epoch == 1 and state.accounts[3].open_orders == 0
    process_block(twin.state, sealed.block)
    assert update_state_root(twin.state) == sealed.state_root
    bid = env.order(4, BTC, BUY, 10_001, 1)
    taken = seal(env, [(2, encode_tx(bid))])
    assert [r[0] for r in taken.records[:2]] == [OpType.CREATE_ORDER, OpType.CLAIM]
    assert not state.markets[BTC].book.best_within(SELL, 10_001)  # both dead asks removed
    process_block(twin.state, taken.block)
    assert update_state_root(twin.state) == taken.state_root


def test_claims_take_the_claim_slots_and_the_money_path_the_light_slots_past_them(
    trading_codec: None,
) -> None:
    """Blocks of 2 heavy slots, 2 claim slots and 2 light ones: an order in the second heavy
    slot takes its claim in the first claim slot; the transfer after it leaves the other claim
    slot to a noop and takes the first light slot. An order that comes after the heavy slots
    waits for the next block."""
    preset = PRESET.with_overrides(ops_per_block=6, trading_slots=2, claim_slots=2, market_slots=0)
    env = Env(preset=preset)
    env.open_many(6, 10_000_000)
    for i in range(3):
        env.place(3, BTC, SELL, 10_000 + i, 1)
    first: Transfer = env.signed(Transfer, 6, to=7, amount=5)
    order: CreateOrder = env.order(4, BTC, BUY, 10_001, 3)  # 2 steps, the step limit's
    second: Transfer = env.signed(Transfer, 7, to=8, amount=5)
    txs = [(1, encode_tx(first)), (2, encode_tx(order)), (3, encode_tx(second))]
    sealed = seal(env, txs)
    assert list(sealed.block.operations) == [first, order, Claim(4), Noop(), second, Noop()]
    assert sealed.record.l2_seqs == (1, 2, 3) and env.state.pending is None
    late: CreateOrder = env.order(5, BTC, BUY, 10_002, 1)
    txs = [(4, encode_tx(env.signed(Transfer, 6, to=8, amount=1)))]
    txs += [(5, encode_tx(env.signed(Transfer, 8, to=6, amount=1))), (6, encode_tx(late))]
    sealed = seal(env, txs)
    assert sealed.record.l2_seqs == (4, 5) and sealed.dropped == {}
    assert [type(op) for op in sealed.block.operations] == [Transfer] * 2 + [Noop] * 4
    assert seal(env, [txs[2]]).record.l2_seqs == (6,)
