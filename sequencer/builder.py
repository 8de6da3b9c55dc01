"""The block builder: the next block from the queue and the mempool, applied to the state.

Order (what the contract checks, PROTOCOL section 9): the oldest unconsumed priority requests
first, in queue order, then L2 transactions in arrival order, then noops up to the preset's
slots. Each operation runs through ``protocol.block.process_operation``; an L2 transaction the
rules reject is dropped with its error and leaves the state as it was. A priority request can
never be rejected (the rules consume a refused one with status 0); one the rules cannot process
at all stops the builder, since the queue must be consumed in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from protocol import pubdata
from protocol.block import (
    Block,
    Operation,
    check_block_end,
    compute_record,
    process_block_header,
    process_operation,
)
from protocol.commitment import update_state_root
from protocol.errors import InvalidTransaction
from protocol.events import Event
from protocol.ops.noop import Noop
from protocol.state import State
from sequencer.codec import CodecError, decode_priority_request, decode_tx
from sequencer.store import BlockRecord, QueuedRequest, Store


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

    @property
    def number(self) -> int:
        return self.block.number

    @property
    def pubdata(self) -> bytes:
        return b"".join(self.records)

    @property
    def priority_count(self) -> int:
        return self.record.priority_count


class _Draft:
    """The operations taken so far, with their events."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.ops: list[Operation] = []
        self.events: list[tuple[Event, ...]] = []

    @property
    def full(self) -> bool:
        return len(self.ops) >= self.slots

    def add(self, op: Operation, events: tuple[Event, ...]) -> None:
        self.ops.append(op)
        self.events.append(events)


def build_block(
    state: State,
    number: int,
    timestamp: int,
    requests: Sequence[QueuedRequest],
    txs: Sequence[tuple[int, bytes]],
) -> SealedBlock:
    """Builds block ``number`` and applies it to ``state``; the whole block or nothing."""
    draft = _Draft(state.preset.ops_per_block)
    dropped: dict[int, str] = {}
    included: list[int] = []
    with state.transaction():
        process_block_header(state, number, timestamp)
        taken = _add_requests(state, draft, requests)
        for seq, data in txs:
            if draft.full:
                break
            error = _try_tx(state, draft, data)
            if error is None:
                included.append(seq)
            else:
                dropped[seq] = error
        check_block_end(state)
        while not draft.full:
            draft.add(Noop(), process_operation(state, Noop()))
    records = tuple(compute_record(op, ev) for op, ev in zip(draft.ops, draft.events, strict=True))
    first = requests[0].id if requests else 0
    root = update_state_root(state)
    record = BlockRecord(number, timestamp, first, taken, tuple(included), root)
    return SealedBlock(Block(number, timestamp, tuple(draft.ops)), records, record, dropped, root)


def _add_requests(state: State, draft: _Draft, requests: Sequence[QueuedRequest]) -> int:
    taken = 0
    for request in requests:
        if draft.full:
            break
        try:
            op = decode_priority_request(request.request)
            draft.add(op, process_operation(state, op))
        except (CodecError, pubdata.PubdataError, InvalidTransaction) as e:
            raise BuilderError(f"priority request {request.id} cannot be processed: {e}") from e
        taken += 1
    return taken


def _try_tx(state: State, draft: _Draft, data: bytes) -> str | None:
    """Applies one L2 transaction; the error (state unchanged) if the rules reject it."""
    try:
        op = decode_tx(data)
        draft.add(op, process_operation(state, op))
    except (CodecError, InvalidTransaction) as e:
        return f"{type(e).__name__}: {e}"
    return None


def replay_block(state: State, store: Store, record: BlockRecord) -> SealedBlock:
    """Applies a block the store recorded, from the same requests and transactions; it must
    come out exactly as it was sealed (nothing dropped, the same root)."""
    requests = store.get_requests(record.priority_first, record.priority_count)
    txs = [(seq, store.get_tx(seq)) for seq in record.l2_seqs]
    sealed = build_block(state, record.number, record.timestamp, requests, txs)
    if sealed.dropped or sealed.record != record:
        raise BuilderError(f"replaying block {record.number} does not give what was sealed")
    return sealed
