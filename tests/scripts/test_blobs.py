"""Blobs on the devnet (Anvil, Prague): a type-3 transaction signed without its blobs and
wrapped with ckzg proofs is accepted; its blobs read back through the beacon route and through
Anvil's method, each checked against its versioned hash; and the point-evaluation precompile
accepts ckzg's opening at a challenge and refuses a wrong y, a wrong z, or the proof
of another blob."""

from __future__ import annotations

import pytest
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import Web3Exception

from protocol import blob
from protocol.blob import BlobError
from protocol.field import R
from scripts import chain, devnet
from scripts.blobs import AnvilBlobSource, BeaconBlobSource, get_blob_source, read_blobs
from sequencer import kzg
from sequencer.blob_tx import GAS_PER_BLOB, BlobSidecar, send_blob_transaction

pytestmark = pytest.mark.devnet

ANVIL_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # account 0
POINT_EVALUATION = "0x000000000000000000000000000000000000000A"
BATCH = bytes(range(256)) * 2  # 8 records' worth of bytes
Z = 0x1234567890ABCDEF  # a challenge off the domain


def _send(w3: Web3, blobs: list[bytes]) -> tuple[bytes, int, BlobSidecar]:
    sidecar = BlobSidecar.of(blobs)
    tx = {"to": chain.accounts(w3)[1], "data": b"", "gas": 50_000}
    tx_hash = send_blob_transaction(w3, tx, ANVIL_KEY, sidecar)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1
    assert dict(receipt)["blobGasUsed"] == GAS_PER_BLOB * len(blobs)
    return bytes(tx_hash), int(receipt["blockNumber"]), sidecar


def test_a_blob_transaction_is_accepted_and_read_back(
    w3: Web3, devnet_session: devnet.Devnet
) -> None:
    blobs = [blob.compute_blob(BATCH), blob.compute_blob(BATCH[::-1])]
    tx_hash, block, sidecar = _send(w3, blobs)
    tx = w3.eth.get_transaction(HexBytes(tx_hash))
    assert [bytes(h) for h in tx["blobVersionedHashes"]] == sidecar.versioned_hashes
    hashes = sidecar.versioned_hashes
    for source in (BeaconBlobSource(devnet_session.rpc_url), AnvilBlobSource(w3)):
        assert read_blobs(source, tx_hash, block, hashes) == blobs
        assert read_blobs(source, tx_hash, block, hashes[::-1]) == blobs[::-1]
        with pytest.raises(BlobError, match="no blob served matches"):
            read_blobs(source, tx_hash, block, [blob.compute_versioned_hash(bytes(48))])
    assert isinstance(get_blob_source(w3, devnet_session.rpc_url), BeaconBlobSource)
    assert isinstance(get_blob_source(w3, "http://127.0.0.1:1"), AnvilBlobSource)
    assert blob.get_blob_pubdata(blobs[0], len(BATCH)) == BATCH


def _point_evaluation(w3: Web3, data: bytes) -> bool:
    try:
        w3.eth.call({"to": POINT_EVALUATION, "data": data, "gas": 100_000})
    except (Web3Exception, ValueError):
        return False
    return True


def test_the_precompile_checks_the_opening_at_the_challenge(w3: Web3) -> None:
    opening = kzg.open_blob(BATCH, Z)
    good = kzg.get_point_evaluation_input(opening)
    assert _point_evaluation(w3, good)
    assert opening.y == blob.evaluate_blob(blob.compute_blob_elements(BATCH), opening.z)
    z, y = opening.z.to_bytes(32, "big"), opening.y.to_bytes(32, "big")
    wrong_y = ((opening.y + 1) % R).to_bytes(32, "big")
    wrong_z = ((opening.z + 1) % R).to_bytes(32, "big")
    vh, commitment, proof = opening.versioned_hash, opening.commitment, opening.proof
    assert not _point_evaluation(w3, vh + z + wrong_y + commitment + proof)
    assert not _point_evaluation(w3, vh + wrong_z + y + commitment + proof)
    other = kzg.open_blob(BATCH[::-1], Z)
    other_at_z_proof = kzg.compute_opening(other.blob, opening.z)[1]
    assert not _point_evaluation(w3, vh + z + y + commitment + other_at_z_proof)  # another's proof
    assert not _point_evaluation(  # another blob's commitment under this versioned hash
        w3, vh + z + y + other.commitment + proof
    )
