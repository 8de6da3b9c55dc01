"""The blob polynomial's value at the challenge ``z``: the twin of
``protocol.blob.evaluate_blob`` (EIP-4844's barycentric formula over the 4096th roots of unity
in bit-reversed order).

    p(z) = (z^N - 1) / N * sum_i t_i,    t_i = f_i * w_i / (z - w_i)

Elements past the block's data are zero and contribute nothing, so they cost nothing: each of
the block's elements costs one constraint, ``t_i * (z - w_i) == w_i * f_i`` (``t_i`` hinted;
``f_i`` is a linear combination of record bits, ``w_i`` a constant). ``z^N`` costs
``log2 N = 12`` squarings and the product with the sum one more: ``k + 13`` constraints for
``k`` elements. ``z`` is the circuit's own Fiat–Shamir point (``bind_data``); should it hit a
domain point ``w_i`` (probability 4096/r) the term's constraint has no witness unless
``f_i = 0``: the batch cannot be proven at that ``z``, nothing false can be.

The second evaluation (PROTOCOL 9.9) is the same gadget over ``compute_l1_elements`` (the
records the contract acts on, the others zeroed: at most two products per element), sharing
``z^N``. ``bind_data`` puts it all together: the data commitment, the challenge, both
evaluations folded into one value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from circuits.gadgets.equality import is_zero
from circuits.gadgets.poseidon import hash4, sponge
from circuits.r1cs import Builder, LinearCombination, constant, weighted_sum
from protocol.blob import (
    FIELD_ELEMENTS_PER_BLOB,
    L1_RECORD_TYPES,
    LOG2_N,
    ROOTS_OF_UNITY_BRP,
    BlobError,
)
from protocol.field import R
from protocol.pubdata import CHUNK_BYTES, DOMAIN_PUBDATA

LC = LinearCombination
INVERSE_N = pow(FIELD_ELEMENTS_PER_BLOB, -1, R)


def _term(w: int) -> Callable[[int, int], int]:
    def term(f: int, z: int) -> int:
        return 0 if z == w else f * w * pow(z - w, -1, R) % R

    return term


def compute_power_n(cs: Builder, z: LC) -> LC:
    """``z^N``, N = 4096: 12 squarings."""
    power = z
    for k in range(LOG2_N):
        power = cs.mul(power, power, f"z_pow_2^{k + 1}")
    return power


def evaluate_blob(
    cs: Builder,
    elements: Sequence[LC],
    z: LC,
    power: LC | None = None,
    scope: str = "blob_evaluation",
) -> LC:
    """``p(z)`` of the blob whose first elements are ``elements`` (the rest zero); ``power``
    is ``z^N`` where a previous evaluation at the same ``z`` computed it."""
    if len(elements) > FIELD_ELEMENTS_PER_BLOB:
        raise BlobError(f"{len(elements)} elements exceed a blob")
    with cs.scope(scope):
        if power is None:
            power = compute_power_n(cs, z)
        total = constant(0)
        for i, f in enumerate(elements):
            w = ROOTS_OF_UNITY_BRP[i]
            t = cs.hint(f"term{i}", _term(w), f, z)
            cs.assert_mul(t, z - w, f * w, f"term{i}_times_distance")
            total = total + t
        return cs.mul(power - 1, total * INVERSE_N, "y")


def compute_l1_elements(
    cs: Builder, records: Sequence[Sequence[LC]], is_l1: Sequence[LC]
) -> list[LC]:
    """The elements of the pubdata with every record whose ``is_l1`` is 0 zeroed
    (``protocol.blob.compute_l1_pubdata``): ``records[s]`` the 64 byte wires of slot ``s``,
    ``is_l1[s]`` a boolean (the sum of the L1 types' selectors). An element overlaps at most two
    records; each overlap costs one product ``is_l1 · part``."""
    if len(records) != len(is_l1):
        raise ValueError(f"{len(records)} records, {len(is_l1)} flags")
    data = [(s, byte) for s, record in enumerate(records) for byte in record]
    elements = []
    with cs.scope("l1_masking"):
        for i, start in enumerate(range(0, len(data), CHUNK_BYTES)):
            piece = data[start : start + CHUNK_BYTES]
            element = constant(0)
            for s in sorted({slot for slot, _ in piece}):
                weights = [256 ** (CHUNK_BYTES - 1 - p) for p, (t, _) in enumerate(piece) if t == s]
                part = weighted_sum(weights, [b for t, b in piece if t == s])
                element = element + cs.mul(is_l1[s], part, f"element{i}_slot{s}")
            elements.append(element)
    return elements


def is_l1_type(cs: Builder, type_byte: LC) -> LC:
    """1 where ``type_byte`` is one of ``protocol.blob.L1_RECORD_TYPES`` (the records the
    contract acts on), else 0: ``is_zero`` of the product of ``type_byte - t`` over those types
    (six products and is_zero's two constraints)."""
    types = sorted(L1_RECORD_TYPES)
    with cs.scope("is_l1"):
        product = type_byte - types[0]
        for t in types[1:]:
            product = cs.mul(product, type_byte - t, f"type_minus_{t}")
        return is_zero(cs, product)


def bind_data(
    cs: Builder,
    records: Sequence[Sequence[LC]],
    timestamp: LC,
    old_root: LC,
    new_root: LC,
    data_hash: LC,
) -> tuple[LC, LC]:
    """``(z, e)`` of ``protocol.blob.compute_batch_data``: the data commitment ``c`` (the sponge
    of ``protocol.pubdata.compute_commitment`` over the timestamp and the records' elements),
    the challenge ``z = hash4(c, d, old_root, new_root)`` derived here from it, and the folded
    evaluation ``e = y + z^N · y_l1`` of the records' polynomial and of their L1 records'
    (``records[s]``: slot ``s``'s 64 byte wires, byte 0 its type)."""
    data = [byte for record in records for byte in record]
    elements = [
        weighted_sum([256 ** (CHUNK_BYTES - 1 - p) for p in range(len(piece))], piece)
        for piece in (data[i : i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES))
    ]
    with cs.scope("data_commitment"):
        c = sponge(cs, [timestamp, *elements], DOMAIN_PUBDATA)
    with cs.scope("challenge"):
        z = hash4(cs, c, data_hash, old_root, new_root)
    with cs.scope("blob_evaluation"):
        power = compute_power_n(cs, z)
    y = evaluate_blob(cs, elements, z, power)
    with cs.scope("l1_flags"):
        flags = [is_l1_type(cs, record[0]) for record in records]
    l1_elements = compute_l1_elements(cs, records, flags)
    y_l1 = evaluate_blob(cs, l1_elements, z, power, "l1_evaluation")
    with cs.scope("evaluation"):
        e = y + cs.mul(power, y_l1, "power_times_l1_evaluation")
    return z, e
