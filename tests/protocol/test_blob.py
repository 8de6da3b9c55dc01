"""The blob layout and the barycentric evaluation of protocol.blob (the KZG side, against
``ckzg``, is tests/sequencer/test_kzg.py)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol import blob
from protocol.blob import BlobError
from protocol.field import R


def test_roots_are_the_bit_reversed_4096th_roots_of_unity() -> None:
    roots = blob.ROOTS_OF_UNITY_BRP
    assert roots[0] == 1 and pow(roots[1], 2, R) == 1 and roots[1] == R - 1  # w^2048 = -1
    assert len(set(roots)) == 4096 and all(pow(w, 4096, R) == 1 for w in roots[:16])
    assert pow(roots[blob.reverse_bits(1)], 2048, R) == R - 1  # w^1 is primitive


@given(st.binary(max_size=400))
def test_blob_round_trips_pubdata(data: bytes) -> None:
    b = blob.compute_blob(data)
    assert len(b) == blob.BYTES_PER_BLOB
    assert all(b[i] == 0 for i in range(0, len(b), 32))  # every element < 2^248 < r
    assert blob.get_blob_pubdata(b, len(data)) == data


def test_a_blob_with_more_data_or_a_high_byte_is_refused() -> None:
    b = blob.compute_blob(b"\x05" * 40)
    with pytest.raises(BlobError, match="data after byte 39"):
        blob.get_blob_pubdata(b, 39)
    with pytest.raises(BlobError, match="non-zero first byte"):
        blob.get_blob_pubdata(b"\x01" + b[1:], 40)
    with pytest.raises(BlobError, match="exceed one blob"):
        blob.compute_blob(bytes(blob.BLOB_DATA_BYTES + 1))


def test_evaluation_at_a_domain_point_is_the_element() -> None:
    elements = [3, 0, 9]
    for i, f in enumerate(elements):
        assert blob.evaluate_blob(elements, blob.ROOTS_OF_UNITY_BRP[i]) == f
    assert blob.evaluate_blob(elements, blob.ROOTS_OF_UNITY_BRP[7]) == 0


def test_barycentric_equals_the_interpolated_polynomial_on_a_small_blob() -> None:
    """One non-zero element c at w_0 = 1 is c times a Lagrange basis polynomial,
    c (z^N - 1) / (N (z - 1)); and the evaluation is linear in the elements."""
    rng = random.Random(4844)
    z = rng.randrange(R)
    c = rng.randrange(R)
    n = blob.FIELD_ELEMENTS_PER_BLOB
    expected = c * (pow(z, n, R) - 1) * pow(n * (z - 1), -1, R) % R
    assert blob.evaluate_blob([c], z) == expected
    a = [rng.randrange(R) for _ in range(5)]
    b = [rng.randrange(R) for _ in range(5)]
    total = [(x + y) % R for x, y in zip(a, b, strict=True)]
    assert blob.evaluate_blob(total, z) == (blob.evaluate_blob(a, z) + blob.evaluate_blob(b, z)) % R


def test_challenge_binds_every_input() -> None:
    h = bytes(range(32))
    z = blob.compute_challenge(h, 1, 2, 3)
    assert 0 <= z < R
    others = [
        blob.compute_challenge(bytes(32), 1, 2, 3),
        blob.compute_challenge(h, 9, 2, 3),
        blob.compute_challenge(h, 1, 9, 3),
        blob.compute_challenge(h, 1, 2, 9),
    ]
    assert z not in others
    with pytest.raises(BlobError, match="32 bytes"):
        blob.compute_challenge(b"\x01", 1, 2, 3)
