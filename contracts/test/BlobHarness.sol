// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Blob} from "../Blob.sol";

/// @notice Exposes the Blob library to the tests (never deployed as part of a rollup).
contract BlobHarness {
    function evaluate(bytes calldata data, uint256 z) external view returns (uint256) {
        return Blob.evaluate(data, z);
    }

    function evaluateRecords(bytes calldata records, uint256 opsPerBlock, uint256 z)
        external
        view
        returns (uint256)
    {
        return Blob.evaluateRecords(records, opsPerBlock, z);
    }

    event Opened(bytes32 versionedHash, uint256 z, uint256 y);

    /// @notice What the blob path's commitBatch does with its blob: derives z from blobhash(0),
    /// the L1 records, the data commitment, the roots and the timestamp, and checks y = p(z).
    function openBlob(
        bytes calldata l1Records,
        uint256 dataCommitment,
        uint256 oldRoot,
        uint256 newRoot,
        uint64 timestamp,
        uint256 y,
        bytes calldata commitment,
        bytes calldata proof
    ) external {
        bytes32 versionedHash = Blob.firstBlobHash();
        uint256 z = Blob.blobChallenge(
            versionedHash, l1Records, dataCommitment, oldRoot, newRoot, timestamp
        );
        Blob.checkOpening(versionedHash, z, y, commitment, proof);
        emit Opened(versionedHash, z, y);
    }
}
