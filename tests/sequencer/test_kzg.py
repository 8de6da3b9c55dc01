"""sequencer.kzg against ckzg and protocol.blob: the pure barycentric evaluation equals the
``y`` of ckzg's opening, and openings of another point, value or blob do not verify."""

from __future__ import annotations

import random

import pytest

from protocol import blob
from protocol.blob import BlobError
from protocol.field import R
from sequencer import kzg


def _pubdata(rng: random.Random, n: int) -> bytes:
    return bytes(rng.randrange(256) for _ in range(n))


@pytest.mark.parametrize("size", [0, 64, 256, 1000, 4096 * 31])
def test_pure_evaluation_equals_ckzg_y(size: int) -> None:
    rng = random.Random(size)
    data = _pubdata(rng, size)
    b = blob.compute_blob(data)
    z = rng.randrange(R)
    y, proof = kzg.compute_opening(b, z)
    assert y == blob.evaluate_blob(blob.compute_blob_elements(data), z)
    assert kzg.is_valid_opening(kzg.compute_commitment(b), z, y, proof)


def test_an_opening_of_another_value_point_or_blob_does_not_verify() -> None:
    rng = random.Random(7)
    opening = kzg.open_blob(_pubdata(rng, 640), 12345)
    assert opening.z == 12345
    assert kzg.is_valid_opening(opening.commitment, opening.z, opening.y, opening.proof)
    assert not kzg.is_valid_opening(opening.commitment, opening.z, opening.y + 1, opening.proof)
    assert not kzg.is_valid_opening(opening.commitment, opening.z + 1, opening.y, opening.proof)
    other = kzg.open_blob(_pubdata(rng, 640), 12345)
    assert not kzg.is_valid_opening(other.commitment, opening.z, opening.y, opening.proof)


def test_versioned_hash_and_precompile_input() -> None:
    opening = kzg.open_blob(b"\x01" * 64, 3)
    assert opening.versioned_hash[0] == 1 and len(opening.versioned_hash) == 32
    data = kzg.get_point_evaluation_input(opening)
    assert len(data) == 192 and data[:32] == opening.versioned_hash
    kzg.check_blob(opening.blob, opening.versioned_hash)
    with pytest.raises(BlobError, match="does not match versioned hash"):
        kzg.check_blob(blob.compute_blob(b"\x02" * 64), opening.versioned_hash)


def test_the_source_hash_is_the_versioned_hash_or_the_calldatas_keccak() -> None:
    data = b"\x01" * 64
    mode = blob.DataAvailability
    assert kzg.compute_source_hash(mode.BLOBS, data) == kzg.open_blob(data, 3).versioned_hash
    assert kzg.compute_source_hash(mode.CALLDATA, data) == blob.compute_calldata_hash(data)
