"""Reading a batch's blobs back from L1, behind one small interface (``BlobSource``), each blob
checked against its versioned hash before anyone uses it.

Two sources: ``BeaconBlobSource`` reads the beacon API's route ``GET
/eth/v1/beacon/blobs/{block_id}`` (Anvil serves it on its RPC port, with the execution block
number as the block id; a real beacon node serves the same route by slot), and
``AnvilBlobSource`` asks the node with ``anvil_getBlobsByTransactionHash``. ``get_blob_source``
picks the beacon route where it answers, else Anvil's method.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Protocol

from web3 import Web3

from protocol.blob import BYTES_PER_BLOB, BlobError, compute_versioned_hash
from sequencer.kzg import compute_commitment

BEACON_BLOBS = "/eth/v1/beacon/blobs/{block}"
TIMEOUT_S = 10.0


class BlobSource(Protocol):
    """Where the blobs of a transaction can be read."""

    def get_blobs(self, tx_hash: bytes, block_number: int) -> list[bytes]:
        """Every blob of block ``block_number`` (beacon) or of ``tx_hash`` (Anvil)."""
        ...


def _hex_bytes(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


class BeaconBlobSource:
    """The beacon API's blobs route at ``base_url``."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def get_blobs(self, tx_hash: bytes, block_number: int) -> list[bytes]:
        url = self.base_url + BEACON_BLOBS.format(block=block_number)
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
                body = json.load(response)
        except (urllib.error.URLError, json.JSONDecodeError) as e:
            raise BlobError(f"the beacon route {url} gave no blobs: {e}") from e
        return [_hex_bytes(b) for b in body["data"]]


class AnvilBlobSource:
    """Anvil's ``anvil_getBlobsByTransactionHash``."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3

    def get_blobs(self, tx_hash: bytes, block_number: int) -> list[bytes]:
        reply = self.w3.provider.make_request(
            "anvil_getBlobsByTransactionHash",  # type: ignore[arg-type]
            ["0x" + tx_hash.hex()],
        )
        if "result" not in reply or reply["result"] is None:
            raise BlobError(f"the node has no blobs of transaction 0x{tx_hash.hex()}")
        return [_hex_bytes(b) for b in reply["result"]]


def get_blob_source(w3: Web3, rpc_url: str) -> BlobSource:
    """The beacon route at ``rpc_url`` where it answers, else Anvil's method."""
    beacon = BeaconBlobSource(rpc_url)
    try:
        beacon.get_blobs(b"", 0)
    except (BlobError, KeyError):
        return AnvilBlobSource(w3)
    return beacon


def read_blobs(
    source: BlobSource, tx_hash: bytes, block_number: int, versioned_hashes: Sequence[bytes]
) -> list[bytes]:
    """The blobs of ``versioned_hashes``, in that order, each checked against its hash (a
    source that serves every blob of a block gives more; the ones asked for must be there)."""
    wanted = set(versioned_hashes)
    by_hash: dict[bytes, bytes] = {}
    for blob in source.get_blobs(tx_hash, block_number):
        if len(blob) != BYTES_PER_BLOB:
            raise BlobError(f"a blob served is {len(blob)} bytes, not {BYTES_PER_BLOB}")
        versioned_hash = compute_versioned_hash(compute_commitment(blob))
        if versioned_hash in wanted:
            by_hash[versioned_hash] = blob
    missing = [h for h in versioned_hashes if h not in by_hash]
    if missing:
        raise BlobError(f"no blob served matches versioned hash 0x{missing[0].hex()}")
    return [by_hash[h] for h in versioned_hashes]
