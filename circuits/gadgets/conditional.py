"""Selection and conditional assertion (native twins: ``t if c else f``, ``options[i]``).

Conditions and index bits must already be boolean-constrained.
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.r1cs import ZERO, Builder, LinearCombination


def select(
    cs: Builder, cond: LinearCombination, if_true: LinearCombination, if_false: LinearCombination
) -> LinearCombination:
    """``if_true if cond else if_false`` = ``if_false + cond * (if_true - if_false)``."""
    return if_false + cs.mul(cond, if_true - if_false, "select")


def mux(
    cs: Builder, index_bits: Sequence[LinearCombination], options: Sequence[LinearCombination]
) -> LinearCombination:
    """``options[index]`` for the little-endian ``index_bits``: ``2^k - 1`` selects at most."""
    if len(options) != 1 << len(index_bits):
        raise ValueError(f"{len(index_bits)} index bits need {1 << len(index_bits)} options")
    layer = list(options)
    with cs.scope("mux"):
        for bit in index_bits:
            layer = [select(cs, bit, layer[i + 1], layer[i]) for i in range(0, len(layer), 2)]
    return layer[0]


def assert_equal_if(
    cs: Builder,
    cond: LinearCombination,
    a: LinearCombination,
    b: LinearCombination,
    name: str = "equal_if",
) -> None:
    """Constrain ``a == b`` when ``cond`` is 1 (nothing when it is 0): ``cond * (a - b) == 0``."""
    cs.assert_mul(cond, a - b, ZERO, name)
