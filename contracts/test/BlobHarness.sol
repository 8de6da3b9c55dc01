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

    /// @notice What the blob path's commitBatch does with its blob: reads blobhash(0) and
    /// checks y = p(z) with the point-evaluation precompile.
    function openBlob(uint256 z, uint256 y, bytes calldata commitment, bytes calldata proof)
        external
    {
        bytes32 versionedHash = Blob.firstBlobHash();
        Blob.checkOpening(versionedHash, z, y, commitment, proof);
        emit Opened(versionedHash, z, y);
    }
}
