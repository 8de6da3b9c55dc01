// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "./interfaces/IERC20.sol";

/// @title TestUSDC
/// @notice A 6-decimal ERC-20 standing in for USDC on the devnet; its deployer may mint.
/// The test tokens under contracts/test/ override `_move` to misbehave.
contract TestUSDC is IERC20 {
    /// @notice The caller is not the minter.
    error NotMinter();
    /// @notice The balance or allowance does not cover the amount.
    error InsufficientFunds();

    /// @notice The token's name.
    string public constant name = "Test USD Coin";
    /// @notice The token's symbol.
    string public constant symbol = "USDC";
    /// @notice Six decimals, as USDC: amounts are micro-units.
    uint8 public constant decimals = 6;

    /// @notice The address allowed to mint (the deployer).
    address public immutable minter;
    /// @notice Tokens in existence.
    uint256 public totalSupply;
    /// @notice Tokens held by each address.
    mapping(address => uint256) public balanceOf;
    /// @notice What each spender may still move for each owner.
    mapping(address => mapping(address => uint256)) public allowance;

    constructor() {
        minter = msg.sender;
    }

    /// @notice Creates `amount` tokens for `to` (minter only).
    /// @param to The receiver.
    /// @param amount Micro-units to create.
    function mint(address to, uint256 amount) external {
        if (msg.sender != minter) revert NotMinter();
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
    }

    /// @notice Moves `amount` from the caller to `to`.
    /// @param to The receiver.
    /// @param amount Micro-units to move.
    /// @return Whether the transfer happened.
    function transfer(address to, uint256 amount) external returns (bool) {
        return _move(msg.sender, to, amount);
    }

    /// @notice Moves `amount` from `from` to `to` against the caller's allowance.
    /// @param from The payer.
    /// @param to The receiver.
    /// @param amount Micro-units to move.
    /// @return Whether the transfer happened.
    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed < amount) revert InsufficientFunds();
        if (allowed != type(uint256).max) allowance[from][msg.sender] = allowed - amount;
        return _move(from, to, amount);
    }

    /// @notice Lets `spender` move up to `amount` of the caller's tokens.
    /// @param spender The spender.
    /// @param amount The new allowance.
    /// @return Always true.
    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    function _move(address from, address to, uint256 amount) internal virtual returns (bool) {
        _debit(from, amount);
        balanceOf[to] += amount;
        emit Transfer(from, to, amount);
        return true;
    }

    function _debit(address from, uint256 amount) internal {
        uint256 balance = balanceOf[from];
        if (balance < amount) revert InsufficientFunds();
        balanceOf[from] = balance - amount;
    }
}
