"""Blocks: ``process_block(state, block)`` runs ``process_<op>`` for each operation in order.

A block is its number, its timestamp and its operations. Processing first sets the clock
(``process_block_header``: the number follows the last, time never goes back), then applies
each operation inside its own savepoint (``process_operation``), and finally requires that no
taker is left matching and credits the fees and funding the block settled
(``process_block_end``). Any invalid operation makes the whole block invalid (``InvalidBlock``)
and leaves the state as it was. The sequencer calls the same three steps one at a time, so it
can drop a rejected transaction and go on (``process_operation`` rolls back only that one).

While a taker is still matching (``state.pending``), only claims may follow.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.errors import (
    InvalidBlock,
    InvalidTransaction,
    MalformedTransaction,
    PendingTaker,
    TooManySteps,
)
from protocol.events import Event
from protocol.ops.claim import Claim
from protocol.ops.registry import HANDLERS, Operation
from protocol.state import State

CONTINUATIONS: tuple[type, ...] = (Claim,)  # operation types allowed while a taker is pending


@dataclass(frozen=True, slots=True)
class Block:
    number: int
    timestamp: int
    operations: tuple[Operation, ...]


@dataclass(frozen=True, slots=True)
class BlockResult:
    """Per operation: its events and its 64-byte pubdata record."""

    events: tuple[tuple[Event, ...], ...]
    records: tuple[bytes, ...]


def process_operation(state: State, op: Operation) -> tuple[Event, ...]:
    """Applies one operation completely, or raises InvalidTransaction leaving the state as it
    was."""
    handler = HANDLERS.get(type(op))
    if handler is None:
        raise MalformedTransaction(f"unknown operation {type(op).__name__}")
    with state.transaction():
        if state.pending is not None and not isinstance(op, CONTINUATIONS):
            raise PendingTaker("a taker is still matching: only a claim may follow")
        return handler[0](state, op)


def process_operation_with_claims(
    state: State, op: Operation, limit: int | None = None
) -> list[tuple[Operation, tuple[Event, ...]]]:
    """Runs ``op`` and then the claims its taker needs (what the sequencer inserts); returns
    every operation applied with its events, in block order. With ``limit``, raises
    TooManySteps (the state as it was) when they would be more than ``limit`` operations."""
    with state.transaction():
        done: list[tuple[Operation, tuple[Event, ...]]] = [(op, process_operation(state, op))]
        while state.pending is not None:
            if limit is not None and len(done) >= limit:
                raise TooManySteps(f"the taker needs more than {limit} operations with claims")
            claim = Claim(state.pending.account)
            done.append((claim, process_operation(state, claim)))
    return done


def compute_record(op: Operation, events: tuple[Event, ...]) -> bytes:
    """The operation's pubdata record, from the operation and the events it produced."""
    return HANDLERS[type(op)][1](op, events)


def process_block_header(state: State, number: int, timestamp: int) -> None:
    """Starts block ``number`` at ``timestamp``; raises InvalidBlock if out of sequence."""
    if number != state.block_number + 1:
        raise InvalidBlock(f"block {number} does not follow block {state.block_number}")
    if (
        type(timestamp) is not int
        or not state.timestamp <= timestamp < 1 << state.preset.timestamp_bits
    ):
        raise InvalidBlock(f"timestamp {timestamp!r} before {state.timestamp} or out of range")
    state.set_clock(timestamp, number)


def process_block_end(state: State) -> None:
    """Ends the block: no taker may still be matching; the fees and funding the block's fills
    settled go to the fee account and the funding pool, one write each (PROTOCOL 7.2)."""
    if state.pending is not None:
        raise InvalidBlock("the block ends while a taker is still matching")
    state.credit_accrued()


def process_block(state: State, block: Block) -> BlockResult:
    """Applies a whole block or nothing (InvalidBlock names the first invalid operation)."""
    if len(block.operations) > state.preset.ops_per_block:
        raise InvalidBlock(
            f"{len(block.operations)} operations exceed {state.preset.ops_per_block}"
        )
    events: list[tuple[Event, ...]] = []
    with state.transaction():
        process_block_header(state, block.number, block.timestamp)
        for position, op in enumerate(block.operations):
            try:
                events.append(process_operation(state, op))
            except InvalidTransaction as error:
                raise InvalidBlock(
                    f"operation {position} ({type(op).__name__}): {error}"
                ) from error
        process_block_end(state)
        pairs = zip(block.operations, events, strict=True)
        records = tuple(compute_record(op, ev) for op, ev in pairs)  # inside: all or nothing
    return BlockResult(tuple(events), records)
