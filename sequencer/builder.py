"""The block builder: the next block from the queue and the mempool, applied to the state.

Order (what the contract checks, PROTOCOL section 9): the oldest unconsumed priority requests,
in queue order, then the operator's own operations: the trigger orders due
(``sequencer.triggers``: fired or, dead, removed, each with its claims, while they fit), then
the open deleverage rounds, the liquidations of the accounts the last marks left in partial
liquidation, the takeovers and the new rounds (``sequencer.liquidator``; all deterministic, so
a replay makes them again); then L2
transactions in arrival order, then noops up to the operation slots
(``Preset.operation_slots``); then, in the market slots that close the block, the
pre-executions of the markets whose turn it is (``get_pre_executed_markets``: all of them where
they fit, else in turn), when the operator gives index prices (``sequencer.price_feed``), and
noops up to the preset's slots. Each operation runs through ``protocol.block.process_operation``
and gets its record at once; an order's taker gets its claims right after it
(``process_operation_with_claims``: one matching step each), all in the same block. A
transaction whose claims would not fit in the slots left waits for the next block (nothing after
it is taken, so arrival order holds); the rules' step limit bounds an order and its claims by
the heavy slots of an empty block, so no block ever ends with a pending taker. A trading
operation and its claims go only into the block's first ``trading_slots`` (the heavy slots,
PROTOCOL 8.C), its claims into those and the ``claim_slots`` after them (claim slots prove
nothing else: a money-path operation that comes to one leaves the claim slots to noops and
takes the light slot after them); one that comes after them waits likewise. An L2 transaction
that fails in any way (the codec refuses it, the rules reject it, or anything else goes wrong
with it) is dropped with the reason and leaves the state as it was: one transaction can never
stop the builder. A priority request can never be rejected (the rules consume a refused one
with status 0; a forced order's claims that do not fit leave it for the next block); one the
rules cannot process at all stops the builder, since the queue must be consumed in order.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from circuits.ops.slot import LIGHT_TYPES, PROVEN_TYPES
from protocol import pubdata
from protocol.block import (
    Block,
    Operation,
    compute_record,
    process_block_end,
    process_block_header,
    process_operation,
    process_operation_with_claims,
)
from protocol.commitment import update_state_root
from protocol.errors import InvalidTransaction, TooManySteps
from protocol.events import Event
from protocol.ops.noop import Noop
from protocol.ops.pre_execution import PreExecution
from protocol.params import Preset
from protocol.state import State
from sequencer.codec import CodecError, decode_priority_request, decode_tx
from sequencer.liquidator import PASSES, Pass
from sequencer.price_feed import SignedPrice
from sequencer.store import BlockRecord, QueuedRequest, Store
from sequencer.triggers import get_due_triggers
from sequencer.witness import UnprovableOperationError, check_outcome, check_provable

log = logging.getLogger("zkperp.builder")


class BuilderError(RuntimeError):
    """The block cannot be built (a priority request the rules cannot process), or a recorded
    block does not replay to what was sealed."""


@dataclass(frozen=True)
class SealedBlock:
    """A block applied to the state: its operations, their records, what was dropped."""

    block: Block
    records: tuple[bytes, ...]
    record: BlockRecord  # what the store keeps to replay it
    dropped: dict[int, str]  # L2 sequence number -> the rules' error
    state_root: int
    events: tuple[Event, ...] = ()  # what its operations did, in order (trades for the API)

    @property
    def number(self) -> int:
        return self.block.number

    @property
    def pubdata(self) -> bytes:
        return b"".join(self.records)

    @property
    def priority_count(self) -> int:
        return self.record.priority_count


class _Wait(Exception):
    """The operation with its claims fits in a block, but not in the slots left in this one."""


class _Draft:
    """The operations taken so far, with their records, in a block of ``slots`` slots whose
    first ``heavy`` prove trading, up to ``matching`` claims too (claim slots: claims and
    noops only), the rest only the money path (``LIGHT_TYPES``)."""

    def __init__(self, slots: int, heavy: int, matching: int) -> None:
        self.slots, self.heavy, self.matching = slots, heavy, matching
        self.ops: list[Operation] = []
        self.records: list[bytes] = []
        self.events: list[Event] = []

    @property
    def full(self) -> bool:
        return len(self.ops) >= self.slots

    def apply(self, state: State, op: Operation) -> None:
        """Applies ``op`` and computes its record, both or neither (the state as it was)."""
        with state.transaction():
            events = process_operation(state, op)
            record = compute_record(op, events)
        self.ops.append(op)
        self.records.append(record)
        self.events.extend(events)

    def apply_with_claims(self, state: State, op: Operation, capacity: int) -> None:
        """Applies ``op`` and the claims its taker needs, with their records, all or none.
        ``capacity``: the slots any block has for requests and transactions, the last ones.
        Raises (the state as it was) TooManySteps if they need more slots of their kind than
        any block has for them, _Wait if more than this block has left. A trading operation
        needs a heavy slot, the first ones, and its claims heavy or claim slots after it."""
        end = self.slots
        trading = op.op_type() not in LIGHT_TYPES
        if trading:
            end = self.matching
            if self.heavy - (self.slots - capacity) < 1:
                raise TooManySteps(f"no block has a heavy slot left for {type(op).__name__}")
            capacity = self.matching - (self.slots - capacity)
        else:
            self._skip_claim_slots(state)
        with state.transaction():
            check_provable(state, op)
            done = process_operation_with_claims(state, op, capacity)
            for step, events in done:
                if step.op_type() not in PROVEN_TYPES:  # a claim of a liquidation, say
                    raise UnprovableOperationError(f"{type(step).__name__} is not proven yet")
                check_outcome(step, events)
            if len(done) > end - len(self.ops) or (trading and len(self.ops) >= self.heavy):
                raise _Wait
            records = [compute_record(o, events) for o, events in done]
        self.ops.extend(o for o, _ in done)
        self.records.extend(records)
        self.events.extend(e for _, events in done for e in events)

    def _skip_claim_slots(self, state: State) -> None:
        """Noops in the claim slots from here: what comes next is no claim (a taker's claims
        come with its order), and a claim slot proves nothing else."""
        while self.heavy <= len(self.ops) < self.matching:
            self.apply(state, Noop())


# the operator's own operations, pass by pass: stop-losses fire before liquidations look
OPERATOR_PASSES: tuple[Pass, ...] = (get_due_triggers, *PASSES)


def build_block(
    state: State,
    number: int,
    timestamp: int,
    requests: Sequence[QueuedRequest],
    txs: Sequence[tuple[int, bytes]],
    index_prices: Sequence[SignedPrice] = (),
) -> SealedBlock:
    """Builds block ``number`` and applies it to ``state``; the whole block or nothing.
    ``index_prices``: the oracle's signed prices, one per market (market 0, 1, ...), or none."""
    preset = state.preset
    draft = _Draft(preset.operation_slots, preset.trading_slots, preset.matching_slots)
    dropped: dict[int, str] = {}
    included: list[int] = []
    with state.transaction():
        process_block_header(state, number, timestamp)
        capacity = draft.slots  # what a block has for requests and txs
        taken = _add_requests(state, draft, requests, capacity)
        _add_passes(state, draft, capacity)
        for seq, data in txs:
            if draft.full:
                break
            error = _try_tx(state, draft, data, capacity)
            if error is _WAIT:
                break
            if error is None:
                included.append(seq)
            else:
                dropped[seq] = error
        while not draft.full:
            draft.apply(state, Noop())
        _add_pre_executions(state, draft, number, index_prices)
        process_block_end(state)
        while len(draft.ops) < preset.ops_per_block:
            draft.apply(state, Noop())
    records = tuple(draft.records)
    first = requests[0].id if requests else 0
    root = update_state_root(state)
    prices = tuple(index_prices)
    record = BlockRecord(number, timestamp, first, taken, tuple(included), root, prices)
    block = Block(number, timestamp, tuple(draft.ops))
    return SealedBlock(block, records, record, dropped, root, tuple(draft.events))


def get_pre_executed_markets(preset: Preset, markets: int, number: int) -> list[int]:
    """The markets block ``number`` pre-executes: every one where the market slots hold them
    all, else ``market_slots`` of them in turn (block 1 from market 0, block 2 from the next)."""
    count = min(preset.market_slots, markets)
    start = (number - 1) * count % markets if count else 0
    return sorted((start + i) % markets for i in range(count))


def _add_pre_executions(
    state: State, draft: _Draft, number: int, index_prices: Sequence[SignedPrice]
) -> None:
    """The pre-executions of the markets whose turn it is, in the market slots that close the
    block, at the oracle's signed prices. One the rules refuse (a price out of range, not the
    oracle's, stale, moved too far; a funding index that would overflow) is left out, with a
    warning: the market keeps its index and mark for a block, and the operator never stops on
    its feed."""
    if not index_prices:
        return
    if len(index_prices) != len(state.markets):
        raise BuilderError(f"{len(index_prices)} index prices for {len(state.markets)} markets")
    for market in get_pre_executed_markets(state.preset, len(state.markets), number):
        try:
            price, at, signature = index_prices[market]
            draft.apply(state, PreExecution(market, price, at, signature))
        except InvalidTransaction as e:
            log.warning("block %d: no pre-execution of market %d: %s", number, market, e)


def _add_passes(state: State, draft: _Draft, capacity: int) -> None:
    """The operator's own operations (``OPERATOR_PASSES``: the trigger orders due, then the
    liquidator's passes), each with its claims, while the block has room for them. One that fails in
    any way is left out with a warning (the state as it was), one that does not fit ends its
    pass for this block, and a pass whose operations the block circuit does not prove yet is
    skipped: the operator never stops on them."""
    for find in OPERATOR_PASSES:
        for op in find(state):
            if draft.full:
                return
            if op.op_type() not in PROVEN_TYPES:
                break
            try:
                draft.apply_with_claims(state, op, capacity)
            except _Wait:
                break
            except Exception as e:  # any failure is only this operation's
                log.warning("block %d: %s left out: %s", state.block_number, op, e)


# what makes a queued request impossible to include: the operator stops (BuilderError)
REQUEST_ERRORS = (CodecError, pubdata.PubdataError, InvalidTransaction, UnprovableOperationError)


def _add_requests(
    state: State, draft: _Draft, requests: Sequence[QueuedRequest], capacity: int
) -> int:
    """Applies the requests in queue order while they fit (a forced order with its claims);
    returns how many."""
    taken = 0
    for request in requests:
        if draft.full:
            break
        try:
            draft.apply_with_claims(state, decode_priority_request(request.request), capacity)
        except _Wait:
            break
        except (
            CodecError,
            pubdata.PubdataError,
            InvalidTransaction,
            UnprovableOperationError,
        ) as e:
            raise BuilderError(f"priority request {request.id} cannot be processed: {e}") from e
        taken += 1
    return taken


_WAIT = "wait"  # _try_tx: the transaction does not fit in this block; it waits for the next


def _try_tx(state: State, draft: _Draft, data: bytes, capacity: int) -> str | None:
    """Applies one L2 transaction with its claims; if anything about it fails, the reason
    (state unchanged), or ``_WAIT`` if it needs more slots than are left but fits in a block.

    Every exception counts, not only the codec's and the rules' own: a transaction that makes
    anything else raise (a value no check foresaw) is still only that transaction's failure,
    while a crash would stop the operator on every restart, with honest transactions queued
    behind it."""
    try:
        draft.apply_with_claims(state, decode_tx(data), capacity)
    except _Wait:
        return _WAIT
    except Exception as e:
        return f"{type(e).__name__}: {e}"
    return None


def replay_block(state: State, store: Store, record: BlockRecord) -> SealedBlock:
    """Applies a block the store recorded, from the same requests and transactions; it must
    come out exactly as it was sealed (nothing dropped, the same root)."""
    requests = store.get_requests(record.priority_first, record.priority_count)
    txs = [(seq, store.get_tx(seq)) for seq in record.l2_seqs]
    sealed = build_block(state, record.number, record.timestamp, requests, txs, record.index_prices)
    if sealed.dropped or sealed.record != record:
        raise BuilderError(f"replaying block {record.number} does not give what was sealed")
    return sealed
