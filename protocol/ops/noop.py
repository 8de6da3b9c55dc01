"""Noop (type 0): an empty slot of the block circuit. Changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from protocol.events import Event
from protocol.ops.descriptor import Descriptor, get_no_accounts
from protocol.pubdata import Layout, OpType, Origin
from protocol.state import State


@dataclass(frozen=True, slots=True)
class Noop:
    @classmethod
    def op_type(cls) -> int:
        return OpType.NOOP


RECORD = Layout(OpType.NOOP, ())


def process_noop(state: State, op: Noop) -> tuple[Event, ...]:
    return ()


def compute_noop_record(op: Noop, events: tuple[Event, ...]) -> bytes:
    return RECORD.encode(())


DESCRIPTOR = Descriptor(
    Noop, RECORD, Origin.SEQUENCER, process_noop, compute_noop_record, get_no_accounts
)
