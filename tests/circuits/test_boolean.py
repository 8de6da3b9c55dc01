from __future__ import annotations

import pytest

from circuits.gadgets.boolean import and_, assert_boolean, not_, or_
from circuits.r1cs import Builder
from tests.circuits.harness import Wires, asserting, run_gadget

PAIRS = [(a, b) for a in (0, 1) for b in (0, 1)]


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_logic_matches_python(a: int, b: int) -> None:
    def gadget(cs: Builder, ins: Wires) -> Wires:
        for x in ins:
            assert_boolean(cs, x)
        return [and_(cs, ins[0], ins[1]), or_(cs, ins[0], ins[1]), not_(ins[0])]

    run = run_gadget(gadget, [a, b])
    run.check()
    assert run.outputs == [a & b, a | b, 1 - a]


@pytest.mark.parametrize("value", [2, 3, -1])
def test_a_non_boolean_is_rejected(value: int) -> None:
    run = run_gadget(asserting(lambda cs, ins: assert_boolean(cs, ins[0])), [value])
    assert run.rejection() == "boolean"


def test_a_forged_and_is_rejected() -> None:
    run = run_gadget(lambda cs, ins: [and_(cs, ins[0], ins[1])], [1, 0])
    assert run.with_wire(run.output_wire_of("and"), 1).rejection() == "and"
