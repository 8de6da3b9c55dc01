"""KZG commitments and openings of a batch's blob, with ``ckzg`` and the Ethereum trusted
setup that ``eth_account`` ships (the same as Anvil's; nothing is downloaded). The setup is
loaded once per process (about 2 s), on first use.

``open_blob`` gives everything ``commitBatch`` needs on the blob path: the blob, its KZG
commitment and versioned hash, ``y = p(z)`` at the block circuit's challenge ``z`` and the proof
of that opening; ``get_point_evaluation_input`` lays them out for the precompile at 0x0a.
``compute_source_hash`` is what the contract digests of the posted data on either path.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ckzg
import eth_account

from protocol.blob import (
    BlobError,
    DataAvailability,
    compute_blob,
    compute_calldata_hash,
    compute_versioned_hash,
)

TRUSTED_SETUP = (
    Path(eth_account.__file__).parent / "typed_transactions/blob_transactions/kzg_trusted_setup.txt"
)
PRECOMPUTE = 0  # ckzg's fixed-base table size for cell proofs; blob openings need none


@functools.cache
def get_trusted_setup() -> Any:
    """The loaded setup (ckzg's handle), once per process."""
    return ckzg.load_trusted_setup(str(TRUSTED_SETUP), PRECOMPUTE)


@dataclass(frozen=True)
class BlobOpening:
    """A blob, its commitment and versioned hash, and its opening ``y = p(z)`` with ``proof``."""

    blob: bytes
    commitment: bytes
    versioned_hash: bytes
    z: int
    y: int
    proof: bytes


def compute_commitment(blob: bytes) -> bytes:
    return bytes(ckzg.blob_to_kzg_commitment(blob, get_trusted_setup()))


def compute_opening(blob: bytes, z: int) -> tuple[int, bytes]:
    """``(y, proof)`` of ``p(z) = y`` for the blob polynomial."""
    proof, y = ckzg.compute_kzg_proof(blob, z.to_bytes(32, "big"), get_trusted_setup())
    return int.from_bytes(y, "big"), bytes(proof)


def compute_blob_proof(blob: bytes, commitment: bytes) -> bytes:
    """The blob proof of the 4844 network form (``compute_blob_kzg_proof``)."""
    return bytes(ckzg.compute_blob_kzg_proof(blob, commitment, get_trusted_setup()))


def is_valid_opening(commitment: bytes, z: int, y: int, proof: bytes) -> bool:
    z_bytes, y_bytes = z.to_bytes(32, "big"), y.to_bytes(32, "big")
    return bool(ckzg.verify_kzg_proof(commitment, z_bytes, y_bytes, proof, get_trusted_setup()))


def open_blob(pubdata: bytes, z: int) -> BlobOpening:
    """The blob of ``pubdata`` opened at ``z`` (the block circuit's challenge for the batch,
    ``protocol.blob.compute_batch_data``)."""
    blob = compute_blob(pubdata)
    commitment = compute_commitment(blob)
    y, proof = compute_opening(blob, z)
    return BlobOpening(blob, commitment, compute_versioned_hash(commitment), z, y, proof)


def get_point_evaluation_input(opening: BlobOpening) -> bytes:
    """The precompile's 192-byte input: versioned hash ‖ z ‖ y ‖ commitment ‖ proof."""
    z, y = opening.z.to_bytes(32, "big"), opening.y.to_bytes(32, "big")
    return opening.versioned_hash + z + y + opening.commitment + opening.proof


def check_blob(blob: bytes, versioned_hash: bytes) -> None:
    """Raises BlobError unless ``blob`` is the blob of ``versioned_hash``."""
    if compute_versioned_hash(compute_commitment(blob)) != versioned_hash:
        raise BlobError(f"the blob does not match versioned hash 0x{versioned_hash.hex()}")


def compute_source_hash(mode: DataAvailability, pubdata: bytes) -> bytes:
    """What the contract digests of the posted data (``protocol.blob.compute_data_hash``): the
    blob's versioned hash, or keccak256 of the pubdata posted as calldata."""
    if mode is DataAvailability.BLOBS:
        return compute_versioned_hash(compute_commitment(compute_blob(pubdata)))
    return compute_calldata_hash(pubdata)
