"""Running one gadget as a tiny circuit: private inputs in, outputs exposed as public inputs.

``run_gadget`` builds the circuit in setup mode and in witness mode and asserts the two systems
are identical, so every gadget test also checks that the gadget's shape never depends on values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pytest

from circuits.r1cs import (
    Builder,
    ConstraintSystem,
    HintFn,
    LinearCombination,
    UnsatisfiedConstraintError,
)

Gadget = Callable[[Builder, list[LinearCombination]], Sequence[LinearCombination]]
Assertion = Callable[[Builder, list[LinearCombination]], None]
Wires = list[LinearCombination]


def asserting(assertion: Assertion) -> Gadget:
    """A gadget that only constrains: it runs ``assertion`` and outputs its inputs."""

    def gadget(cs: Builder, ins: Wires) -> Wires:
        assertion(cs, ins)
        return ins

    return gadget


@dataclass
class Run:
    system: ConstraintSystem
    witness: list[int]

    @property
    def outputs(self) -> list[int]:
        return self.system.public_inputs(self.witness)

    def check(self) -> None:
        self.system.check(self.witness)

    def rejection(self) -> str:
        """The name of the first constraint the witness breaks (fails if none)."""
        with pytest.raises(UnsatisfiedConstraintError) as err:
            self.check()
        return err.value.name

    def with_wire(self, index: int, value: int) -> Run:
        witness = list(self.witness)
        witness[index] = value
        return Run(self.system, witness)

    def output_wire_of(self, constraint_name: str) -> int:
        """The wire a product constraint defines (its ``c`` is that single wire)."""
        con = next(c for c in self.system.constraints if c.name == constraint_name)
        (wire,) = con.c
        return wire


def _build(
    gadget: Gadget,
    inputs: Sequence[int | None],
    witness: bool,
    overrides: Mapping[str, HintFn] | None,
) -> tuple[ConstraintSystem, list[int] | None]:
    cs = Builder(witness=witness, hint_overrides=overrides)
    wires = [cs.private(f"in{i}", v) for i, v in enumerate(inputs)]
    for i, out in enumerate(gadget(cs, wires)):
        cs.expose(f"out{i}", out)
    return cs.finalize()


def run_gadget(
    gadget: Gadget, inputs: Sequence[int], overrides: Mapping[str, HintFn] | None = None
) -> Run:
    shape, _ = _build(gadget, [None] * len(inputs), False, None)
    system, witness = _build(gadget, inputs, True, overrides)
    assert system == shape, "the gadget's shape depends on witness values"
    assert witness is not None
    return Run(system, witness)
