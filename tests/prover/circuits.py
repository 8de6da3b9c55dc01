"""Small hand-made circuits for the prover's tests (the toolkit's circuits are in test_catalog)."""

from __future__ import annotations

from circuits.r1cs import Builder, ConstraintSystem


def toy(
    num_public: int = 2, y: int = 7, witness: bool = True
) -> tuple[ConstraintSystem, list[int]]:
    """Public inputs ``x_i = i + 2``; private ``y``; constraints ``y*y`` and ``x_i * y``."""
    b = Builder(witness=witness)
    xs = [b.public(f"x{i}", i + 2 if witness else None) for i in range(num_public)]
    wire = b.private("y", y if witness else None)
    b.mul(wire, wire, "y_squared")
    for i, x in enumerate(xs):
        b.mul(x, wire, f"x{i}_times_y")
    cs, w = b.finalize()
    return cs, w or []


def chain(length: int, x: int = 3) -> tuple[ConstraintSystem, list[int]]:
    """``out = x^(length+1)`` by repeated multiplication; ``out`` public."""
    b = Builder(witness=True)
    out = b.public("out", pow(x, length + 1))
    base = b.private("x", x)
    acc = base
    for i in range(length):
        acc = b.mul(acc, base, f"step{i}")
    b.assert_equal(out, acc, "out_matches")
    cs, w = b.finalize()
    assert w is not None
    return cs, w
