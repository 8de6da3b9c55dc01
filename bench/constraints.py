"""Constraints per gadget, and per toolkit circuit at each preset (counted in setup mode).

The mainnet block (1,024 slots, tens of millions of constraints) is not built whole: it is
counted from blocks of two and three slots (the first two slots cost a little more than the
rest, every further slot of a kind, heavy, claim or light, the same) plus the data binding (the
commitment's sponge, the challenge, the two blob evaluations: PROTOCOL 9.9), whose size
depends on the record count (``counted_block_cost``); the count is checked against a whole
build at the smaller presets, here and in the tests.

Run: ``.venv/bin/python bench/constraints.py [--quick]`` (prints the Markdown tables of
docs/PERFORMANCE.md, section "Circuits: constraints per gadget"; ``--quick``, what the tests
run: the minimal preset only).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from functools import cache

from bench.common import median_seconds
from circuits.block import build_block_circuit
from circuits.catalog import CIRCUIT_NAMES, build_circuit
from circuits.gadgets import (
    bits,
    book_reads,
    boolean,
    compare,
    conditional,
    division,
    equality,
    jubjub,
    poseidon,
    smt,
)
from circuits.gadgets.blob import bind_data
from circuits.gadgets.book_tree import BookNodeVars, OrderVars
from circuits.gadgets.eddsa import SignatureVar, assert_valid_signature
from circuits.gadgets.jubjub import PointVar
from circuits.r1cs import Builder, LinearCombination
from protocol.params import DEVNET, MINIMAL, PRESETS, Preset
from protocol.pubdata import OP_BYTES

Wires = list[LinearCombination]
Cost = tuple[int, int]  # constraints, wires
WHOLE_BUILD_MAX_SLOTS = 64  # above this a block is counted, not built


def book_read_inputs(preset: Preset) -> int:
    """A read-only book path's inputs: root, key, the leaf's 5 order fields, 3 per sibling
    (3 siblings a level of the 4-ary tree)."""
    return 2 + 5 + 3 * 3 * preset.order_tree_levels


def book_read(cs: Builder, w: Wires, preset: Preset) -> book_reads.BookRead:
    siblings = [BookNodeVars(*w[i : i + 3]) for i in range(7, len(w), 3)]
    return book_reads.read_book(cs, w[0], w[1], OrderVars(*w[2:7]), siblings, preset)


def book_read_gadgets(preset: Preset) -> list[tuple[str, int, Callable[[Builder, Wires], object]]]:
    """Pre-execution's reads at ``preset``'s order-tree depth (the path included)."""
    depth, n = preset.order_tree_depth, book_read_inputs(preset)
    return [
        (
            f"book_reads.read_book (read-only path, depth {depth})",
            n,
            lambda cs, w: book_read(cs, w, preset),
        ),
        (
            f"book_reads.compute_best_order (with its path, depth {depth})",
            n,
            lambda cs, w: book_reads.compute_best_order(cs, book_read(cs, w, preset), True),
        ),
        (
            f"book_reads.compute_impact (with its path, depth {depth})",
            n + 1,
            lambda cs, w: book_reads.compute_impact(
                cs, book_read(cs, w[1:], preset), True, w[0], preset
            ),
        ),
    ]


GADGETS: list[tuple[str, int, Callable[[Builder, Wires], object]]] = [
    ("boolean.assert_boolean", 1, lambda cs, w: boolean.assert_boolean(cs, w[0])),
    ("boolean.and_ / or_", 2, lambda cs, w: boolean.and_(cs, w[0], w[1])),
    ("equality.is_zero / is_equal", 1, lambda cs, w: equality.is_zero(cs, w[0])),
    ("bits.to_bits (64 bits)", 1, lambda cs, w: bits.to_bits(cs, w[0], 64)),
    ("bits.to_bits_canonical (255 bits, < r)", 1, lambda cs, w: bits.to_bits_canonical(cs, w[0])),
    ("bits.assert_range (64 bits)", 1, lambda cs, w: bits.assert_range(cs, w[0], 64)),
    ("bits.assert_signed_range (64 bits)", 1, lambda cs, w: bits.assert_signed_range(cs, w[0], 64)),
    ("compare.less_than (64 bits)", 2, lambda cs, w: compare.less_than(cs, w[0], w[1], 64)),
    (
        "compare.signed_less_than (64 bits)",
        2,
        lambda cs, w: compare.signed_less_than(cs, w[0], w[1], 64),
    ),
    (
        "compare.assert_less_than (64 bits)",
        2,
        lambda cs, w: compare.assert_less_than(cs, w[0], w[1], 64),
    ),
    ("conditional.select", 3, lambda cs, w: conditional.select(cs, w[0], w[1], w[2])),
    ("conditional.mux (3 bits, 8 options)", 11, lambda cs, w: conditional.mux(cs, w[:3], w[3:])),
    (
        "conditional.assert_equal_if",
        3,
        lambda cs, w: conditional.assert_equal_if(cs, w[0], w[1], w[2]),
    ),
    (
        "division.div_rem (64-bit q, 64-bit divisor)",
        2,
        lambda cs, w: division.div_rem(cs, w[0], w[1], 64, 64),
    ),
    ("poseidon.permute (width 3)", 3, lambda cs, w: poseidon.permute(cs, w)),
    ("poseidon.permute (width 5)", 5, lambda cs, w: poseidon.permute(cs, w)),
    ("poseidon.hash2", 2, lambda cs, w: poseidon.hash2(cs, w[0], w[1])),
    ("poseidon.hash4", 4, lambda cs, w: poseidon.hash4(cs, *w)),
    ("poseidon.sponge (5 inputs)", 5, lambda cs, w: poseidon.sponge(cs, w, 1)),
    ("smt.compute_root (depth 10)", 12, lambda cs, w: smt.compute_root(cs, w[0], w[1], w[2:])),
    ("smt.update_leaf (depth 10)", 13, lambda cs, w: smt.update_leaf(cs, w[0], w[3:], w[1], w[2])),
    ("jubjub.assert_on_curve", 2, lambda cs, w: jubjub.assert_on_curve(cs, PointVar(*w))),
    ("jubjub.add", 4, lambda cs, w: jubjub.add(cs, PointVar(*w[:2]), PointVar(*w[2:]))),
    ("jubjub.double", 2, lambda cs, w: jubjub.double(cs, PointVar(*w))),
    ("jubjub.assert_in_subgroup", 2, lambda cs, w: jubjub.assert_in_subgroup(cs, PointVar(*w))),
    (
        "jubjub.scalar_mul (255-bit scalar)",
        257,
        lambda cs, w: jubjub.scalar_mul(cs, w[2:], PointVar(*w[:2])),
    ),
    ("jubjub.base_mul (252-bit scalar)", 252, lambda cs, w: jubjub.base_mul(cs, w)),
    (
        "eddsa.assert_valid_signature",
        6,
        lambda cs, w: assert_valid_signature(
            cs, PointVar(w[0], w[1]), w[2], SignatureVar(PointVar(w[3], w[4]), w[5])
        ),
    ),
    *book_read_gadgets(MINIMAL),
    *book_read_gadgets(DEVNET),
    (
        "book_reads.compute_mark (devnet widths)",
        5,
        lambda cs, w: book_reads.compute_mark(cs, w[0], (w[1], w[2]), (w[3], w[4]), DEVNET),
    ),
    (
        "book_reads.compute_premium (devnet widths)",
        5,
        lambda cs, w: book_reads.compute_premium(cs, w[0], (w[1], w[2]), (w[3], w[4]), DEVNET),
    ),
]


def gadget_constraints(inputs: int, gadget: Callable[[Builder, Wires], object]) -> int:
    cs = Builder(witness=False)
    gadget(cs, [cs.private(f"in{i}", None) for i in range(inputs)])
    return cs.num_constraints


@cache
def built_cost(name: str, preset: Preset) -> Cost:
    """Constraints and wires of the circuit built whole (setup mode); each circuit is built
    once a process (the counts, the per-slot counts and the checks share the small blocks)."""
    system, _ = build_circuit(name, preset, setup=True)
    return len(system.constraints), system.num_wires


@cache
def data_cost(slots: int) -> Cost:
    """What binding ``slots`` records to the posted data adds (``circuits.gadgets.blob``'s
    ``bind_data``: the commitment sponge, the challenge, both evaluations; the records' bytes
    are wires the slots already have, the digest ``d`` its own input)."""
    cs = Builder(witness=False)
    records = [[cs.private(f"r{s}_{k}", None) for k in range(OP_BYTES)] for s in range(slots)]
    ts, old, new, d = (cs.private(name, None) for name in ("ts", "old", "new", "d"))
    with cs.scope("data"):
        z, e = bind_data(cs, records, ts, old, new, d)
    cs.expose("z", z)
    cs.expose("e", e)
    system, _ = cs.finalize()
    return len(system.constraints), system.num_wires - 1 - slots * OP_BYTES - 4


def counted_block_cost(preset: Preset) -> Cost:
    """The block's constraints and wires (at least 2 operation slots, the first 2 or more of
    them heavy) from blocks of two and three slots: the first two (heavy) slots, the header and
    the state roots, then each further heavy slot at what a third heavy one costs, each claim
    slot at what a third, claim, one costs, each light slot at what a third, light, one costs
    and each market slot at what a third, market, one costs, then the data binding at ``n``
    records."""
    n, heavy, markets = preset.ops_per_block, preset.trading_slots, preset.market_slots
    if not 2 <= heavy <= n - markets:
        raise ValueError(f"counted blocks need 2 to {n - markets} heavy slots, not {heavy}")
    claims = preset.matching_slots - heavy
    two = _two_slots(preset)
    heavy_slot, claim_slot, light_slot, market_slot = _slot_costs(preset, two)
    data = data_cost(n)

    def total(i: int) -> int:  # 0: constraints, 1: wires
        slots = (heavy - 2) * heavy_slot[i] + claims * claim_slot[i]
        slots += (n - markets - heavy - claims) * light_slot[i]
        return two[i] + slots + markets * market_slot[i] + data[i]

    return total(0), total(1)


def _two_slots(preset: Preset) -> Cost:
    """A block of two heavy slots without its data binding."""
    two = replace(preset, ops_per_block=2, trading_slots=2, claim_slots=0, market_slots=0)
    return _without_data(built_cost("block", two), 2)


def slot_costs(preset: Preset) -> tuple[Cost, Cost, Cost, Cost]:
    """What a third slot adds to a block of two heavy ones: a heavy slot's cost, a claim
    slot's, a light one's, a market slot's."""
    return _slot_costs(preset, _two_slots(preset))


def _slot_costs(preset: Preset, two: Cost) -> tuple[Cost, Cost, Cost, Cost]:
    costs = []
    for heavy, claims, markets in ((3, 0, 0), (2, 1, 0), (2, 0, 0), (2, 0, 1)):
        three = replace(
            preset, ops_per_block=3, trading_slots=heavy, claim_slots=claims, market_slots=markets
        )
        c, w = _without_data(built_cost("block", three), 3)
        costs.append((c - two[0], w - two[1]))
    return costs[0], costs[1], costs[2], costs[3]


def _without_data(cost: Cost, slots: int) -> Cost:
    data = data_cost(slots)
    return cost[0] - data[0], cost[1] - data[1]


def circuit_cost(name: str, preset: Preset) -> tuple[Cost, bool]:
    """The circuit's cost, and whether it was counted (a large block) rather than built."""
    if name == "block" and preset.ops_per_block > WHOLE_BUILD_MAX_SLOTS:
        return counted_block_cost(preset), True
    return built_cost(name, preset), False


def build_and_check_seconds(name: str, preset: Preset, repeat: int = 3) -> tuple[float, float]:
    """Seconds to build a circuit with its witness, and to check the witness (with ``repeat``
    1, the one build is the figure; otherwise the median of ``repeat`` more)."""
    start = time.perf_counter()
    system, witness = build_circuit(name, preset)
    first = time.perf_counter() - start
    assert witness is not None
    if repeat == 1:
        build = first
    else:
        build = median_seconds(lambda: build_circuit(name, preset), repeat, warmup=0)
    check = median_seconds(lambda: system.check(witness), repeat, warmup=0)
    return build, check


def print_build_times(preset: Preset, repeat: int = 3) -> None:
    print(f"\n| circuit ({preset.name}) | build, witness mode | check |\n|---|---:|---:|")
    for name in CIRCUIT_NAMES:
        build, check = build_and_check_seconds(name, preset, repeat)
        print(f"| `{name}` | {build:.3f} s | {check:.3f} s |")


def count_heavy_slot_scopes(preset: Preset) -> Counter[str]:
    """A heavy slot's constraints by their scope under the slot (its operations, the step
    unit, the book unit, ...): slot 0 of a one-slot block."""
    one = replace(preset, ops_per_block=1, trading_slots=1, claim_slots=0, market_slots=0)
    return _count_scopes(one, 0)


def count_claim_slot_scopes(preset: Preset) -> Counter[str]:
    """A claim slot's constraints by their scope under the slot: slot 1 of a block of a heavy
    slot and a claim slot (``root_follows_last_slot``, which every slot after the first has,
    included)."""
    two = replace(preset, ops_per_block=2, trading_slots=1, claim_slots=1, market_slots=0)
    return _count_scopes(two, 1)


def _count_scopes(preset: Preset, slot: int) -> Counter[str]:
    system, _ = build_block_circuit(preset, 1)
    prefix = f"slot{slot}/"
    return Counter(c.name.split("/")[1] for c in system.constraints if c.name.startswith(prefix))


def print_heavy_slot_scopes(preset: Preset) -> None:
    for kind, scopes in (
        ("heavy", count_heavy_slot_scopes(preset)),
        ("claim", count_claim_slot_scopes(preset)),
    ):
        print(f"\n| {kind} slot at {preset.name}, by scope | constraints |\n|---|---:|")
        for scope, n in scopes.most_common():
            print(f"| `{scope}` | {n:,} |")
        print(f"| **the slot** | **{sum(scopes.values()):,}** |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the minimal preset only")
    quick = parser.parse_args().quick
    presets = [PRESETS["minimal"]] if quick else list(PRESETS.values())
    print("| gadget | constraints |\n|---|---:|")
    for label, inputs, gadget in GADGETS:
        print(f"| `{label}` | {gadget_constraints(inputs, gadget):,} |")
    print(
        "\n| circuit | "
        + " | ".join(p.name for p in presets)
        + " |\n|---|"
        + "---:|" * len(presets)
    )
    for name in CIRCUIT_NAMES:
        counts = []
        for preset in presets:
            (constraints, wires), was_counted = circuit_cost(name, preset)
            how = ", counted per slot" if was_counted else ""
            counts.append(f"{constraints:,} ({wires:,} wires{how})")
        print(f"| `{name}` | " + " | ".join(counts) + " |", flush=True)
    for preset in presets[:2]:
        counted, built = counted_block_cost(preset), built_cost("block", preset)
        assert counted == built, f"block at {preset.name}: counted {counted}, built {built}"
        print(f"\nblock at {preset.name}: counted per slot == built whole ({built[0]:,})")
        (heavy, _), (claim, _), (light, _), (market, _) = slot_costs(preset)
        print(
            f"a heavy slot at {preset.name}: {heavy:,} constraints; a claim slot: {claim:,}; "
            f"a light one: {light:,}; a market slot: {market:,}"
        )
        print_heavy_slot_scopes(preset)
    if quick:
        print_build_times(PRESETS["minimal"], repeat=1)
    else:
        print_build_times(PRESETS["devnet"])


if __name__ == "__main__":
    main()
