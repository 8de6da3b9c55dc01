// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Errors, Events} from "./Events.sol";

/// @title Governance
/// @notice Minimal governance: an owner who manages the validator set (the addresses that may
/// commit and revert batches). The owner cannot touch funds, parameters or code: there is no
/// upgrade path (PROTOCOL section 9).
abstract contract Governance is Events, Errors {
    /// @notice The governor.
    address public owner;
    /// @notice Whether an address may commit and revert batches.
    mapping(address => bool) public validators;

    constructor(address owner_, address[] memory validators_) {
        if (owner_ == address(0)) revert ZeroAddress();
        owner = owner_;
        emit OwnershipTransferred(address(0), owner_);
        for (uint256 i = 0; i < validators_.length; ++i) {
            _setValidator(validators_[i], true);
        }
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner();
        _;
    }

    modifier onlyValidator() {
        if (!validators[msg.sender]) revert NotValidator();
        _;
    }

    /// @notice Hands governance to `newOwner`.
    /// @param newOwner The new governor (not the zero address).
    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// @notice Adds `validator` to, or removes it from, the validator set.
    /// @param validator The address.
    /// @param active Whether it may commit and revert batches.
    function setValidator(address validator, bool active) external onlyOwner {
        _setValidator(validator, active);
    }

    function _setValidator(address validator, bool active) private {
        if (validator == address(0)) revert ZeroAddress();
        validators[validator] = active;
        emit ValidatorUpdated(validator, active);
    }
}
