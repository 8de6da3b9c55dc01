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
}
