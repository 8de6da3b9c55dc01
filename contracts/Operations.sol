// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Operations
/// @notice The pubdata records of PROTOCOL section 8, one section per operation, mirroring
/// protocol/pubdata.py. Records are 64 bytes, big-endian, zero-padded at the end; byte 0 is the
/// type, bytes 1..6 the account index, bytes 7..26 the owner's L1 address. A priority request
/// is its record's prefix up to, not including, the first result field; L1 writes requests and
/// reads back only what it pays out (withdrawals) or refunds (deposits).
library Operations {
    // -- types (section 8) ---------------------------------------------------------------------
    // 0 noop and 3 transfer are L2-only: L1 never writes or reads them, nor types 16.. (trading).
    uint8 internal constant DEPOSIT = 1;
    uint8 internal constant REGISTER_KEY = 2;
    uint8 internal constant WITHDRAW = 4;
    uint8 internal constant FORCED_WITHDRAW = 5;
    uint8 internal constant FORCED_CANCEL_ALL = 6;
    uint8 internal constant FORCED_ORDER = 7;
    uint8 internal constant FORCED_BURN = 8;

    /// @dev Offsets shared by every record that carries an owner.
    uint256 internal constant OWNER_OFFSET = 7;
    uint256 internal constant AFTER_OWNER = 27;

    /// @notice Length of the L1 request of a priority operation type; 0 for any other type.
    function requestBytes(uint8 opType) internal pure returns (uint256) {
        if (opType == DEPOSIT || opType == FORCED_WITHDRAW || opType == FORCED_BURN) return 35;
        if (opType == REGISTER_KEY) return 59;
        if (opType == FORCED_CANCEL_ALL) return 27;
        if (opType == FORCED_ORDER) return 40;
        return 0;
    }

    /// @dev The owner field (bytes 7..26) of the record or request at `offset` of `data`.
    function readOwner(bytes calldata data, uint256 offset) internal pure returns (address) {
        return address(bytes20(data[offset + OWNER_OFFSET:offset + AFTER_OWNER]));
    }

    /// @dev The u64 at bytes `at .. at+7` of the record at `offset` of `data`.
    function readU64(bytes calldata data, uint256 offset, uint256 at)
        internal
        pure
        returns (uint64)
    {
        return uint64(bytes8(data[offset + at:offset + at + 8]));
    }

    // -- 1 deposit: type | account 1..6 | owner 7..26 | amount u64 27..34 ------------------------
    // The whole record is the request (no result field).

    function writeDepositRequest(uint48 accountIndex, address owner, uint64 amount)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(DEPOSIT, accountIndex, owner, amount);
    }

    /// @dev The (owner, amount) of a deposit request (a refund in desert mode).
    function readDepositRequest(bytes calldata request)
        internal
        pure
        returns (address owner, uint64 amount)
    {
        return (readOwner(request, 0), readU64(request, 0, 27));
    }

    // -- 2 register L2 key: type | account | owner | pubkey 27..58 || status 59 -----------------

    function writeRegisterKeyRequest(uint48 accountIndex, address owner, bytes32 pubkey)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(REGISTER_KEY, accountIndex, owner, pubkey);
    }

    // -- 4 withdraw: type | account | owner (L1 receiver) | amount u64 27..34 --------------------

    /// @dev The amount a withdraw record at `offset` pays to its owner.
    function readWithdrawAmount(bytes calldata data, uint256 offset)
        internal
        pure
        returns (uint64)
    {
        return readU64(data, offset, 27);
    }

    // -- 5 forced withdraw: type | account | owner | requested u64 27..34 || withdrawn 35..42 ----

    function writeForcedWithdrawRequest(uint48 accountIndex, address owner, uint64 requested)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(FORCED_WITHDRAW, accountIndex, owner, requested);
    }

    /// @dev The amount a forced-withdraw record at `offset` pays to its owner (`withdrawn`).
    function readForcedWithdrawAmount(bytes calldata data, uint256 offset)
        internal
        pure
        returns (uint64)
    {
        return readU64(data, offset, 35);
    }

    // -- 6 forced cancel-all: type | account | owner || status 27 --------------------------------

    function writeForcedCancelAllRequest(uint48 accountIndex, address owner)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(FORCED_CANCEL_ALL, accountIndex, owner);
    }

    // -- 7 forced order: type | account | owner | market u16 27..28 | flags 29 | price u32 30..33
    //    | size u48 34..39 || status 40 ------------------------------------------------------------

    /// @dev Flag bits of a forced order; any other bit is invalid.
    uint8 internal constant ORDER_FLAG_ASK = 0x01; // sell; otherwise buy
    uint8 internal constant ORDER_FLAG_MARKET = 0x02; // IOC with `price` as worst price; else limit
    uint8 internal constant ORDER_FLAGS_MASK = ORDER_FLAG_ASK | ORDER_FLAG_MARKET;

    function writeForcedOrderRequest(
        uint48 accountIndex,
        address owner,
        uint16 market,
        uint8 flags,
        uint32 price,
        uint48 size
    ) internal pure returns (bytes memory) {
        return abi.encodePacked(FORCED_ORDER, accountIndex, owner, market, flags, price, size);
    }

    // -- 8 forced pool-share burn: type | account | owner | shares u64 27..34
    //    || collateral out u64 35..42 | status 43 -------------------------------------------------

    function writeForcedBurnRequest(uint48 accountIndex, address owner, uint64 shares)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(FORCED_BURN, accountIndex, owner, shares);
    }
}
