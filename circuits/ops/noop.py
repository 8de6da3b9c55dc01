"""Noop (type 0): the twin of ``protocol/ops/noop.py``. Pads the slots a block leaves unused and
changes nothing; its record is all zeros, so its account A is account 0."""

from __future__ import annotations

from circuits.ops.common import Effect, OpCircuit, SlotVars
from circuits.r1cs import Builder, LinearCombination
from protocol.ops.noop import Noop


def define_noop(cs: Builder, slot: SlotVars, on: LinearCombination) -> Effect:
    return Effect()


def get_noop_accounts(op: Noop) -> tuple[int, int]:
    return 0, 0


CIRCUIT = OpCircuit(Noop, "noop", (), define_noop, get_noop_accounts)
