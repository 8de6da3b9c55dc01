"""Noop (type 0): an empty slot of the block circuit. Changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from protocol import pubdata
from protocol.events import Event
from protocol.state import State


@dataclass(frozen=True, slots=True)
class Noop:
    @classmethod
    def op_type(cls) -> int:
        return pubdata.OpType.NOOP


def process_noop(state: State, op: Noop) -> tuple[Event, ...]:
    return ()


def compute_noop_record(op: Noop, events: tuple[Event, ...]) -> bytes:
    return pubdata.encode_noop(pubdata.Noop())
