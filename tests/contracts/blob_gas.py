"""Gas of the blob path's L1 pieces on a fresh devnet, through contracts/test/BlobHarness.sol
(docs/PERFORMANCE.md, "The blob path's L1 pieces"):

    PYTHONPATH=. .venv/bin/python -m tests.contracts.blob_gas
"""

from __future__ import annotations

import random

from protocol import blob
from scripts import chain, devnet
from scripts.compile import compile_sources, project_sources
from sequencer import kzg
from sequencer.blob_tx import BlobSidecar, send_blob_transaction

ANVIL_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # account 0
OPS = 64


def main() -> None:
    net = devnet.start()
    try:
        w3 = chain.connect(net.rpc_url)
        harness = chain.deploy(w3, compile_sources(project_sources())["BlobHarness"])
        rng = random.Random(1)
        print("| L1 records | openBlob tx | evaluateRecords call | evaluate (full) call |")
        for l1 in (0, 1, 8, 32):
            types = [1] * l1 + [3] * (OPS - l1)  # deposits, then transfers
            pubdata = b"".join(bytes([t]) + rng.randbytes(63) for t in types)
            records = blob.get_l1_records(pubdata)
            b = blob.compute_blob(pubdata)
            commitment = kzg.compute_commitment(b)
            c = blob.compute_data_commitment(pubdata)
            vh = blob.compute_versioned_hash(commitment)
            z = blob.compute_blob_challenge(vh, records, c, 1, 2, 3)
            y, proof = kzg.compute_opening(b, z)
            data = harness.encode_abi("openBlob", args=[records, c, 1, 2, 3, y, commitment, proof])
            tx = {"to": harness.address, "data": data, "gas": 400_000}
            tx_hash = send_blob_transaction(w3, tx, ANVIL_KEY, BlobSidecar.of([b]))
            receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
            assert receipt["status"] == 1 and dict(receipt)["blobGasUsed"] == 131_072
            partial = harness.functions.evaluateRecords(records, OPS, z).estimate_gas()
            full = harness.functions.evaluate(pubdata, z).estimate_gas()
            print(f"| {l1} | {receipt['gasUsed']:,} | {partial:,} | {full:,} |")
    finally:
        net.stop()


if __name__ == "__main__":
    main()
