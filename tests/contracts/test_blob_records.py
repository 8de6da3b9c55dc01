"""Blob.evaluateRecords on the devnet against protocol.blob.evaluate_l1_records: the blob
path's L1 records evaluated as the masked pubdata's polynomial (PROTOCOL 9.9)."""

from __future__ import annotations

import random

import pytest
from web3 import Web3
from web3.contract import Contract

from protocol import blob
from protocol.blob import BlobError
from protocol.field import R
from scripts import chain
from scripts.compile import compile_sources, project_sources
from tests.contracts.support import reverts

pytestmark = pytest.mark.devnet
OPS = 16
L1_TYPES = sorted(blob.L1_RECORD_TYPES)
OTHER_TYPES = [0, 3, 16, 17]


@pytest.fixture
def harness(w3: Web3) -> Contract:
    return chain.deploy(w3, compile_sources(project_sources())["BlobHarness"])


def _pubdata(rng: random.Random, ops: int) -> bytes:
    types = [rng.choice(L1_TYPES + OTHER_TYPES) for _ in range(ops)]
    return b"".join(bytes([t]) + rng.randbytes(63) for t in types)


@pytest.mark.parametrize("seed", range(4))
def test_the_contract_evaluates_the_records_as_the_masked_pubdata(
    harness: Contract, seed: int
) -> None:
    rng = random.Random(seed)
    pubdata = _pubdata(rng, OPS)
    records = blob.get_l1_records(pubdata)
    z = rng.randrange(R)
    expected = blob.evaluate_l1_records(records, OPS, z)
    masked = blob.evaluate_blob(blob.compute_blob_elements(blob.compute_l1_pubdata(pubdata)), z)
    assert expected == masked
    assert harness.functions.evaluateRecords(records, OPS, z).call() == expected
    # the full pubdata's evaluation is the same library's (the calldata path)
    assert harness.functions.evaluate(pubdata, z).call() == blob.evaluate_blob(
        blob.compute_blob_elements(pubdata), z
    )


def test_no_records_evaluate_to_zero(harness: Contract) -> None:
    assert harness.functions.evaluateRecords(b"", OPS, 5).call() == 0


@pytest.mark.parametrize(
    "records",
    [
        b"\x00\x01" + b"\x01" * 64 + b"\x00\x01" + b"\x01" * 64,  # slot repeated
        b"\x00\x02" + b"\x01" * 64 + b"\x00\x01" + b"\x01" * 64,  # slots out of order
        b"\x00\x10" + b"\x01" * 64,  # slot 16 of 16
        b"\x00\x00" + b"\x03" * 64,  # a transfer is no L1 record
        b"\x00\x00" + b"\x01" * 63,  # not a whole entry
    ],
)
def test_malformed_records_are_refused(harness: Contract, records: bytes) -> None:
    with pytest.raises(BlobError):  # the reference refuses them too
        blob.decode_l1_records(records, OPS)
    with reverts("L1RecordsMalformed"):
        harness.functions.evaluateRecords(records, OPS, 5).call()


def test_a_challenge_on_the_domain_is_refused(harness: Contract) -> None:
    with reverts("ChallengeOnDomain"):
        harness.functions.evaluateRecords(b"", OPS, blob.ROOTS_OF_UNITY_BRP[5]).call()
