"""Noop (type 0): the twin of ``protocol/ops/noop.py``. Pads the slots a block leaves unused and
changes nothing; its record is all zeros, so its account A is account 0."""

from __future__ import annotations

from circuits.ops.common import Effect, OpCircuit, SlotVars
from circuits.r1cs import Builder, LinearCombination
from protocol.ops import noop


def define_noop(cs: Builder, slot: SlotVars, on: LinearCombination) -> Effect:
    return Effect()


CIRCUIT = OpCircuit(noop.DESCRIPTOR, define_noop)
