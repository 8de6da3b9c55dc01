"""Constraints per gadget, and per toolkit circuit at each preset (counted in setup mode).

Run: ``.venv/bin/python bench/constraints.py`` (prints the Markdown tables of
docs/PERFORMANCE.md, section "Circuits: constraints per gadget").
"""

from __future__ import annotations

from collections.abc import Callable

from bench.common import median_seconds
from circuits.catalog import CIRCUIT_NAMES, build_circuit
from circuits.gadgets import (
    bits,
    boolean,
    compare,
    conditional,
    division,
    equality,
    jubjub,
    poseidon,
    smt,
)
from circuits.gadgets.eddsa import SignatureVar, assert_valid_signature
from circuits.gadgets.jubjub import PointVar
from circuits.r1cs import Builder, LinearCombination
from protocol.params import PRESETS, Preset

Wires = list[LinearCombination]

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
]


def gadget_constraints(inputs: int, gadget: Callable[[Builder, Wires], object]) -> int:
    cs = Builder(witness=False)
    gadget(cs, [cs.private(f"in{i}", None) for i in range(inputs)])
    return cs.num_constraints


def build_and_check_seconds(name: str, preset: Preset) -> tuple[float, float]:
    """Seconds to build a circuit with its witness, and to check the witness."""
    system, witness = build_circuit(name, preset)
    assert witness is not None
    build = median_seconds(lambda: build_circuit(name, preset), repeat=3)
    check = median_seconds(lambda: system.check(witness), repeat=3)
    return build, check


def print_build_times(preset: Preset) -> None:
    print(f"\n| circuit ({preset.name}) | build, witness mode | check |\n|---|---:|---:|")
    for name in CIRCUIT_NAMES:
        build, check = build_and_check_seconds(name, preset)
        print(f"| `{name}` | {build:.3f} s | {check:.3f} s |")


def main() -> None:
    print("| gadget | constraints |\n|---|---:|")
    for label, inputs, gadget in GADGETS:
        print(f"| `{label}` | {gadget_constraints(inputs, gadget):,} |")
    print("\n| circuit | " + " | ".join(PRESETS) + " |\n|---|" + "---:|" * len(PRESETS))
    for name in CIRCUIT_NAMES:
        counts = []
        for preset in PRESETS.values():
            system, _ = build_circuit(name, preset, setup=True)
            counts.append(f"{len(system.constraints):,} ({system.num_wires:,} wires)")
        print(f"| `{name}` | " + " | ".join(counts) + " |")
    print_build_times(PRESETS["devnet"])


if __name__ == "__main__":
    main()
