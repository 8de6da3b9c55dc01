"""Blob.evaluateRecords on the devnet against protocol.blob.evaluate_l1_records: the blob
path's L1 records evaluated as the masked pubdata's polynomial (PROTOCOL 9.9)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from protocol import blob
from protocol.blob import BlobError
from protocol.field import R
from scripts import chain
from scripts.compile import compile_sources, project_sources
from sequencer import kzg
from sequencer.blob_tx import BlobSidecar, send_blob_transaction
from tests.contracts.support import reverts, selector

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


# -- the blob path's opening: blobhash(0), the challenge, the point-evaluation precompile -------

ANVIL_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # account 0
Z = 0x1234567890ABCDEF  # any challenge off the domain (the circuit's, on the real path)


def _open(w3: Web3, harness: Contract, pubdata: bytes, blob_data: bytes) -> TxReceipt:
    """Sends openBlob for ``pubdata``'s opening at Z as a type-3 transaction carrying the blob
    of ``blob_data``."""
    opening = kzg.open_blob(pubdata, Z)
    args = [Z, opening.y, opening.commitment, opening.proof]
    tx = {"to": harness.address, "data": harness.encode_abi("openBlob", args=args)}
    sidecar = BlobSidecar.of([blob.compute_blob(blob_data)])
    tx_hash = send_blob_transaction(w3, {**tx, "gas": 300_000}, ANVIL_KEY, sidecar)
    return w3.eth.wait_for_transaction_receipt(tx_hash)


def test_the_contract_opens_the_transactions_blob_at_the_challenge(
    w3: Web3, harness: Contract
) -> None:
    pubdata = _pubdata(random.Random(7), OPS)
    receipt = _open(w3, harness, pubdata, pubdata)
    assert receipt["status"] == 1
    (event,) = harness.events.Opened().process_receipt(receipt)
    vh = blob.compute_versioned_hash(kzg.compute_commitment(blob.compute_blob(pubdata)))
    assert bytes(event["args"]["versionedHash"]) == vh and event["args"]["z"] == Z
    assert event["args"]["y"] == blob.evaluate_blob(blob.compute_blob_elements(pubdata), Z)


def _call_error(
    w3: Web3, harness: Contract, pubdata: bytes, carried: bytes | None, **cheat: Any
) -> str:
    """The custom error (``name()``) with which openBlob refuses, called with the versioned
    hash of ``carried``'s blob (none for None) as the transaction's blob; "" if it passes."""
    opening = kzg.open_blob(pubdata, Z)
    args = {"z": Z, "y": opening.y, "proof": opening.proof, "commitment": opening.commitment}
    args |= cheat
    data = harness.encode_abi(
        "openBlob", args=[args["z"], args["y"], args["commitment"], args["proof"]]
    )
    call: dict[str, Any] = {"to": harness.address, "data": data, "gas": hex(300_000)}
    if carried is not None:
        vh = blob.compute_versioned_hash(kzg.compute_commitment(blob.compute_blob(carried)))
        call |= {"blobVersionedHashes": ["0x" + vh.hex()], "maxFeePerBlobGas": hex(10**9)}
    answer = w3.provider.make_request("eth_call", [call, "latest"])  # type: ignore[arg-type]
    if "error" not in answer:
        return ""
    found = str(answer["error"].get("data", ""))
    names = ("OpeningInvalid", "NoBlob")
    return next((n for n in names if found.startswith(selector(f"{n}()"))), found)


def test_a_wrong_y_z_proof_or_blob_is_refused(w3: Web3, harness: Contract) -> None:
    rng = random.Random(8)
    pubdata, other = _pubdata(rng, OPS), _pubdata(rng, OPS)
    other_blob = blob.compute_blob(other)
    assert _call_error(w3, harness, pubdata, pubdata) == ""
    cases: dict[str, tuple[bytes | None, dict[str, Any]]] = {
        "wrong y": (pubdata, {"y": 5}),
        "wrong z": (pubdata, {"z": Z + 1}),
        "another blob's proof": (pubdata, {"proof": kzg.compute_opening(other_blob, 424242)[1]}),
        "another blob's commitment": (pubdata, {"commitment": kzg.compute_commitment(other_blob)}),
        "a blob other than the proven data": (other, {}),
    }
    for name, (carried, cheat) in cases.items():
        assert _call_error(w3, harness, pubdata, carried, **cheat) == "OpeningInvalid", name
    assert _call_error(w3, harness, pubdata, None) == "NoBlob"
    # and as a mined type-3 transaction: reverted, the precompile's failure bounded to 50,000 gas
    receipt = _open(w3, harness, pubdata, other)
    assert receipt["status"] == 0 and receipt["gasUsed"] < 150_000
