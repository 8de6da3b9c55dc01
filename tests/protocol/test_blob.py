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
from protocol.pubdata import compute_commitment


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


# -- the blob path's L1 records ----------------------------------------------------------------

L1_TYPES = sorted(blob.L1_RECORD_TYPES)
OTHER_TYPES = [0, 3, 16, 17, 18]  # noop, transfer, create order, claim, cancel: not L1 records
record_st = st.builds(
    lambda t, rest: bytes([t]) + rest,
    st.sampled_from(L1_TYPES + OTHER_TYPES),
    st.binary(min_size=63, max_size=63),
)


def test_l1_record_types_are_the_priority_requests_and_the_l1_withdrawals() -> None:
    assert {1, 2, 4, 5, 6, 7, 8} == blob.L1_RECORD_TYPES
    assert not blob.L1_RECORD_TYPES & set(OTHER_TYPES)


@given(st.lists(record_st, min_size=1, max_size=20), st.integers(1, R - 1))
def test_l1_records_evaluate_as_the_masked_pubdata(records: list[bytes], z: int) -> None:
    """The contract's evaluation from the slot-indexed records equals the polynomial of the
    pubdata with every other record zeroed (the circuit's second evaluation)."""
    pubdata = b"".join(records)
    l1 = blob.get_l1_records(pubdata)
    masked = blob.compute_l1_pubdata(pubdata)
    assert len(masked) == len(pubdata)
    kept = [r for r in records if r[0] in blob.L1_RECORD_TYPES]
    assert len(l1) == blob.L1_RECORD_BYTES * len(kept)
    assert [r for _, r in blob.decode_l1_records(l1, len(records))] == kept
    elements = blob.compute_blob_elements(masked)
    if pow(z, blob.FIELD_ELEMENTS_PER_BLOB, R) != 1:
        assert blob.evaluate_l1_records(l1, len(records), z) == blob.evaluate_blob(elements, z)


def test_an_l1_record_moved_or_dropped_changes_the_evaluation() -> None:
    deposit, withdraw, transfer = b"\x01" + bytes(range(63)), b"\x04" + b"\x07" * 63, b"\x03" * 64
    pubdata = deposit + transfer + withdraw + transfer
    z = 12345
    l1 = blob.get_l1_records(pubdata)
    y = blob.evaluate_l1_records(l1, 4, z)
    moved = blob.get_l1_records(deposit + transfer + transfer + withdraw)
    dropped = blob.get_l1_records(deposit + transfer + transfer + transfer)
    assert blob.evaluate_l1_records(moved, 4, z) != y
    assert blob.evaluate_l1_records(dropped, 4, z) != y


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (b"\x00\x01" + b"\x01" * 64 + b"\x00\x01" + b"\x01" * 64, "slot 1 after 1"),
        (b"\x00\x02" + b"\x01" * 64 + b"\x00\x01" + b"\x01" * 64, "slot 1 after 2"),
        (b"\x00\x04" + b"\x01" * 64, "slot 4 after -1"),
        (b"\x00\x00" + b"\x03" * 64, "type 3 is not an L1 record"),
        (b"\x00\x00" + b"\x01" * 63, "66-byte entries"),
    ],
)
def test_l1_records_out_of_order_out_of_range_or_of_another_type_are_refused(
    entries: bytes, message: str
) -> None:
    with pytest.raises(BlobError, match=message):
        blob.decode_l1_records(entries, 4)


def test_l1_records_refuse_a_challenge_on_the_domain() -> None:
    with pytest.raises(BlobError, match="point of the domain"):
        blob.evaluate_l1_records(b"", 4, blob.ROOTS_OF_UNITY_BRP[3])


def test_the_data_hash_binds_the_source_and_the_l1_records() -> None:
    h, records = bytes(range(32)), b"\x00\x01" + b"\x01" + bytes(63)
    d = blob.compute_data_hash(h, records)
    assert 0 <= d < R
    assert blob.compute_data_hash(bytes(32), records) != d
    assert blob.compute_data_hash(h, b"") != d
    assert blob.compute_data_hash(h, records[:-1] + b"\x01") != d
    with pytest.raises(BlobError, match="32 bytes"):
        blob.compute_data_hash(b"\x01", records)


def test_the_challenge_binds_the_commitment_the_digest_and_the_roots() -> None:
    z = blob.compute_challenge(7, 8, 1, 2)
    assert 0 <= z < R
    assert z not in {
        blob.compute_challenge(9, 8, 1, 2),
        blob.compute_challenge(7, 9, 1, 2),
        blob.compute_challenge(7, 8, 9, 2),
        blob.compute_challenge(7, 8, 1, 9),
    }


def test_batch_data_folds_both_evaluations_at_the_circuits_challenge() -> None:
    deposit, transfer = b"\x01" + bytes(range(63)), b"\x03" * 64
    pubdata = transfer + deposit + transfer + bytes(64)
    data = blob.compute_batch_data(bytes(range(32)), pubdata, 1_700_000_000, 11, 12)
    d = blob.compute_data_hash(bytes(range(32)), blob.get_l1_records(pubdata))
    c = compute_commitment(1_700_000_000, pubdata)
    z = blob.compute_challenge(c, d, 11, 12)
    y = blob.evaluate_blob(blob.compute_blob_elements(pubdata), z)
    y_l1 = blob.evaluate_l1_records(blob.get_l1_records(pubdata), 4, z)
    assert data == blob.BatchData(d, z, (y + pow(z, 4096, R) * y_l1) % R)
    # another timestamp or record changes c, hence z
    other = blob.compute_batch_data(bytes(range(32)), pubdata, 1_700_000_001, 11, 12)
    assert other.challenge != z
