"""The trace's shortcuts give what the whole computation does: a replay from the last one (only
the steps whose inputs changed, or that either replay replaces, recomputed) is the witness of a
whole replay, and ``unsatisfied`` checking again only the constraints that read a changed wire
names the constraints a check of all of them names, whatever was replayed or checked before."""

from __future__ import annotations

import random

from circuits.gadgets import poseidon
from circuits.r1cs import constant
from protocol.field import R
from tests.circuits.test_necessity import CASES
from tests.circuits.tracing import Trace, TracingBuilder, unsatisfied, unsatisfied_whole
from tests.circuits.violations import (
    TwoSlots,
    block_inputs,
    get_trace,
    get_two_slot_trace,
    replay_two,
    two_slot_inputs,
)


def small_trace() -> Trace:
    """x * y = p; h = Poseidon(p, z); a hint q = 1 / x, with q * x = 1; z exposed."""
    cs = TracingBuilder()
    x, y, z = (cs.private(n, v) for n, v in (("x", 3), ("y", 5), ("z", 7)))
    p = cs.mul(x, y, "p")
    cs.expose("h", poseidon.hash2(cs, p, z))
    (q,) = cs.hints("q", 1, lambda v: [pow(v, -1, R)], x)
    cs.assert_equal(cs.mul(q, x, "qx"), constant(1), "inverse")
    return cs.trace()


def test_a_replay_from_the_last_is_the_whole_replay_and_checks_alike() -> None:
    trace = small_trace()
    system = trace.system
    assert unsatisfied(system, trace.witness) == set() == unsatisfied_whole(system, trace.witness)
    changes: list[dict[str, object]] = [
        {"inputs": {"x": 4}},
        {"inputs": {"x": 4}, "hints": {"q": lambda v: [2]}},  # the inverse now wrong
        {"inputs": {"z": 9}, "hints": {"q": lambda v: [2]}},  # back to x = 3: still wrong
        {"inputs": {"z": 9}},  # the hint's own again: nothing broken
        {"wires": {"p": lambda v: v + 1}},  # a product set freely: p's constraint broken
        {},
    ]
    for change in changes:
        witness = trace.replay(**change)  # type: ignore[arg-type]
        assert witness == trace.replay_whole(**change)  # type: ignore[arg-type]
        assert unsatisfied(system, witness) == unsatisfied_whole(system, witness)
    assert unsatisfied(system, trace.replay(wires={"p": lambda v: v + 1})) == {"p"}
    assert unsatisfied(system, trace.replay(hints={"q": lambda v: [2]})) == {"inverse"}
    assert unsatisfied(system, trace.replay()) == set()


def test_the_necessity_cases_replay_and_check_as_whole() -> None:
    """A few cases of each block (a claim's are two-slot ones), in a random order: each case's
    replay from the one before, and each check against the one before, as the whole
    computation has them."""
    rng = random.Random(7)
    claims = [n for n in sorted(CASES) if n.startswith("claim/")]
    names = rng.sample(sorted(set(CASES) - set(claims)), 4) + rng.sample(claims, 2)
    rng.shuffle(names)
    for name in names:
        v = CASES[name]()
        if isinstance(v, TwoSlots):
            trace = get_two_slot_trace()
            inputs = two_slot_inputs(v.witness) | v.inputs
            settled = replay_two(v)
        else:
            trace = get_trace()
            inputs = block_inputs(v.witness) | v.inputs
            settled = trace.replay_whole(inputs, v.hints, v.wires)
        witness = trace.replay(inputs, v.hints, v.wires)
        assert witness == trace.replay_whole(inputs, v.hints, v.wires), name
        for w in (witness, settled):
            assert unsatisfied(trace.system, w) == unsatisfied_whole(trace.system, w), name
