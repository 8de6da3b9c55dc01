// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Counter
/// @notice The smallest useful contract: used by the toolchain tests (compile, deploy, call).
contract Counter {
    /// @notice Current count.
    uint256 public count;

    /// @notice Emitted when the count changes.
    event Incremented(address indexed by, uint256 newCount);

    /// @notice Adds `by` to the count.
    /// @param by Amount to add.
    function increment(uint256 by) external {
        count += by;
        emit Incremented(msg.sender, count);
    }
}
