"""The blob polynomial's value at the challenge ``z``: the twin of
``protocol.blob.evaluate_blob`` (EIP-4844's barycentric formula over the 4096th roots of unity
in bit-reversed order).

    p(z) = (z^N - 1) / N * sum_i t_i,    t_i = f_i * w_i / (z - w_i)

Elements past the block's data are zero and contribute nothing, so they cost nothing: each of
the block's elements costs one constraint, ``t_i * (z - w_i) == w_i * f_i`` (``t_i`` hinted;
``f_i`` is a linear combination of record bits, ``w_i`` a constant). ``z^N`` costs
``log2 N = 12`` squarings and the product with the sum one more: ``k + 13`` constraints for
``k`` elements. ``z`` is the contract's Fiat–Shamir point; should it hit a domain point
``w_i`` (probability 4096/r) the term's constraint has no witness unless ``f_i = 0``: the batch
cannot be proven at that ``z``, nothing false can be.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from circuits.r1cs import Builder, LinearCombination, constant
from protocol.blob import FIELD_ELEMENTS_PER_BLOB, LOG2_N, ROOTS_OF_UNITY_BRP, BlobError
from protocol.field import R

LC = LinearCombination
INVERSE_N = pow(FIELD_ELEMENTS_PER_BLOB, -1, R)


def _term(w: int) -> Callable[[int, int], int]:
    def term(f: int, z: int) -> int:
        return 0 if z == w else f * w * pow(z - w, -1, R) % R

    return term


def evaluate_blob(cs: Builder, elements: Sequence[LC], z: LC) -> LC:
    """``p(z)`` of the blob whose first elements are ``elements`` (the rest zero)."""
    if len(elements) > FIELD_ELEMENTS_PER_BLOB:
        raise BlobError(f"{len(elements)} elements exceed a blob")
    with cs.scope("blob_evaluation"):
        power = z
        for k in range(LOG2_N):
            power = cs.mul(power, power, f"z_pow_2^{k + 1}")
        total = constant(0)
        for i, f in enumerate(elements):
            w = ROOTS_OF_UNITY_BRP[i]
            t = cs.hint(f"term{i}", _term(w), f, z)
            cs.assert_mul(t, z - w, f * w, f"term{i}_times_distance")
            total = total + t
        return cs.mul(power - 1, total * INVERSE_N, "y")
