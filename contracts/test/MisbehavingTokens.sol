// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TestUSDC} from "../TestUSDC.sol";

/// @title FeeOnTransferToken
/// @notice Test only: burns 1% of every transfer, so the receiver gets less than `amount`.
contract FeeOnTransferToken is TestUSDC {
    function _move(address from, address to, uint256 amount) internal override returns (bool) {
        uint256 fee = amount / 100;
        _debit(from, amount);
        totalSupply -= fee;
        balanceOf[to] += amount - fee;
        emit Transfer(from, to, amount - fee);
        emit Transfer(from, address(0), fee);
        return true;
    }
}

/// @title FalseReturningToken
/// @notice Test only: once `refuse` is set, every transfer moves nothing and returns false.
contract FalseReturningToken is TestUSDC {
    bool public refuse;

    /// @notice Switches the misbehaviour on or off.
    /// @param refuse_ Whether transfers return false from now on.
    function setRefuse(bool refuse_) external {
        refuse = refuse_;
    }

    function _move(address from, address to, uint256 amount) internal override returns (bool) {
        return refuse ? false : super._move(from, to, amount);
    }
}

/// @title ReentrantToken
/// @notice Test only: on the first transfer into or out of `target` after `arm`, calls
/// `target` with the armed calldata before moving anything, and records how that nested
/// call ended.
contract ReentrantToken is TestUSDC {
    address public target;
    bytes public payload;
    bool public armed;
    bool public reentered; // whether the nested call succeeded
    bytes public nestedResult; // its return or revert data

    /// @notice Arms the attack on `target_` with the nested call's calldata `payload_`.
    /// @param target_ The contract to re-enter.
    /// @param payload_ The calldata of the nested call.
    function arm(address target_, bytes calldata payload_) external {
        target = target_;
        payload = payload_;
        armed = true;
    }

    function _move(address from, address to, uint256 amount) internal override returns (bool) {
        if (armed && (from == target || to == target)) {
            armed = false;
            (reentered, nestedResult) = target.call(payload);
        }
        return super._move(from, to, amount);
    }
}
