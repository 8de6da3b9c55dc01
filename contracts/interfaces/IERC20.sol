// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IERC20
/// @notice The part of ERC-20 the rollup uses. Return values are not trusted: the rollup reads
/// them through a wrapper that accepts tokens returning nothing, and measures balances.
interface IERC20 {
    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    /// @notice Token balance of `account`.
    function balanceOf(address account) external view returns (uint256);

    /// @notice Moves `amount` from the caller to `to`.
    function transfer(address to, uint256 amount) external returns (bool);

    /// @notice Moves `amount` from `from` to `to` using the caller's allowance.
    function transferFrom(address from, address to, uint256 amount) external returns (bool);

    /// @notice Lets `spender` move up to `amount` of the caller's tokens.
    function approve(address spender, uint256 amount) external returns (bool);

    /// @notice How much `spender` may still move from `owner`.
    function allowance(address owner, address spender) external view returns (uint256);
}
