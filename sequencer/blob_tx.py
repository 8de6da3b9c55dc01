"""Type-3 (EIP-4844) transactions carrying blobs, signed once and wrapped into the network form.

``eth_account`` signs a blob transaction given its blobs but reloads the trusted setup on every
signing (about 6 s); here the transaction is signed *without* its blobs (the signature covers
only their versioned hashes) and then wrapped as EIP-4844's network form,
``0x03 ‖ rlp([tx_payload_body, blobs, commitments, proofs])``, with ``sequencer.kzg``'s
commitments and blob proofs (the setup loaded once per process).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import rlp
from eth_account import Account
from hexbytes import HexBytes
from web3 import Web3

from protocol.blob import compute_versioned_hash
from sequencer import kzg

BLOB_TX_TYPE = 3
GAS_PER_BLOB = 1 << 17  # EIP-4844's blob gas per blob


@dataclass(frozen=True)
class BlobSidecar:
    """The blobs of a transaction with their commitments, proofs and versioned hashes."""

    blobs: tuple[bytes, ...]
    commitments: tuple[bytes, ...]
    proofs: tuple[bytes, ...]

    @classmethod
    def of(cls, blobs: Sequence[bytes]) -> BlobSidecar:
        commitments = tuple(kzg.compute_commitment(b) for b in blobs)
        proofs = tuple(
            kzg.compute_blob_proof(b, c) for b, c in zip(blobs, commitments, strict=True)
        )
        return cls(tuple(blobs), commitments, proofs)

    @property
    def versioned_hashes(self) -> list[bytes]:
        return [compute_versioned_hash(c) for c in self.commitments]


def wrap_network_form(signed_payload: bytes, sidecar: BlobSidecar) -> bytes:
    """The network form of a type-3 transaction signed without its blobs."""
    if signed_payload[0] != BLOB_TX_TYPE:
        raise ValueError(f"not a type-3 transaction: type {signed_payload[0]}")
    body = rlp.decode(signed_payload[1:])
    wrapped = [body, list(sidecar.blobs), list(sidecar.commitments), list(sidecar.proofs)]
    return bytes([BLOB_TX_TYPE]) + rlp.encode(wrapped)


def sign_blob_transaction(
    tx: dict[str, Any], private_key: str | bytes, sidecar: BlobSidecar
) -> bytes:
    """``tx`` (a type-3 dict without ``blobVersionedHashes``) signed for the sidecar's blobs,
    in the network form ``eth_sendRawTransaction`` takes."""
    tx = {**tx, "type": BLOB_TX_TYPE, "blobVersionedHashes": sidecar.versioned_hashes}
    signed = Account.sign_transaction(tx, private_key)
    return wrap_network_form(bytes(signed.raw_transaction), sidecar)


def send_blob_transaction(
    w3: Web3, tx: dict[str, Any], private_key: str | bytes, sidecar: BlobSidecar
) -> HexBytes:
    """Fills nonce, chain id and fees where ``tx`` lacks them, signs, sends; the tx hash."""
    sender = Account.from_key(private_key).address
    base_fee = int(w3.eth.get_block("latest")["baseFeePerGas"])
    defaults = {
        "chainId": int(w3.eth.chain_id),
        "nonce": w3.eth.get_transaction_count(sender),
        "maxPriorityFeePerGas": 1,
        "maxFeePerGas": 2 * base_fee + 1,
        "maxFeePerBlobGas": 2 * int(w3.eth.blob_base_fee) + 1,
        "value": 0,
        "accessList": [],
    }
    raw = sign_blob_transaction({**defaults, **tx}, private_key, sidecar)
    return w3.eth.send_raw_transaction(raw)
