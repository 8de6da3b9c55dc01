// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Errors} from "./Events.sol";

/// @title Config
/// @notice The rollup's constants (a test checks them against protocol/); the sizes that differ
/// between presets are immutables set once by the constructor from the preset
/// (scripts/deploy.py). Amount widths are those of the record layout (PROTOCOL section 8) and
/// appear as the parameter types: uint48 accounts and sizes, uint64 amounts and shares.
abstract contract Config is Errors {
    /// @notice The preset-dependent parameters, as scripts/deploy.py reads them from a Preset.
    struct Params {
        uint8 accountTreeDepth; // account indices are < 2**accountTreeDepth
        uint8 marketTreeDepth; // market ids are < 2**marketTreeDepth
        uint8 priceBits; // forced-order prices are < 2**priceBits
        uint32 opsPerBlock; // pubdata of a batch = opsPerBlock records of OP_BYTES
        uint64 priorityExpirySeconds; // a priority request must be executed within this
        uint64 maxOpenPriorityRequests; // bound on requests queued and not yet executed
        uint64 minDeposit; // smallest deposit, USDC micro-units
        uint16 forcedTypes; // bit t: the forced trading request of type t is admitted (6..8)
        bool blobData; // pubdata in EIP-4844 blobs (true) or in commitBatch's calldata
    }

    /// @dev The BLS12-381 scalar field order r: every public input is < r.
    uint256 internal constant FIELD_ORDER =
        0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;
    /// @dev The forced trading requests' types as bits: forced cancel-all (6), forced order (7),
    /// forced burn (8); the bits `forcedTypes` may set.
    uint16 internal constant FORCED_TRADING_TYPES = (1 << 6) | (1 << 7) | (1 << 8);
    /// @dev Bytes per pubdata record (section 8).
    uint256 internal constant OP_BYTES = 64;
    /// @dev The reserved accounts nobody owns (protocol/accounts.py): they never exit.
    uint48 internal constant INSURANCE_FUND = 0;
    uint48 internal constant FUNDING_POOL = 2;
    /// @dev Batch timestamps are < 2**TIMESTAMP_BITS (protocol/params.py, every preset).
    uint256 internal constant TIMESTAMP_BITS = 40;
    /// @dev A batch timestamp may run this far ahead of the L1 block's.
    uint256 internal constant BATCH_TIMESTAMP_MAX_DRIFT = 15 minutes;
    /// @dev A batch timestamp may lag the L1 block's by at most this.
    uint256 internal constant BATCH_TIMESTAMP_MAX_AGE = 1 days;

    uint256 internal immutable MAX_ACCOUNTS;
    uint256 internal immutable MAX_MARKETS;
    uint256 internal immutable MAX_PRICE;
    uint256 internal immutable OPS_PER_BLOCK;
    uint64 internal immutable PRIORITY_EXPIRY;
    uint64 internal immutable MAX_OPEN_PRIORITY_REQUESTS;
    uint64 internal immutable MIN_DEPOSIT;
    /// @notice The forced trading requests (forced cancel-all, forced order, forced burn) this
    /// deployment's block circuit proves, as a bitmask over their types (bit 6, 7, 8). A request
    /// of a type not admitted is refused on L1 rather than queued, since one the circuit cannot
    /// prove would stall the operator into desert mode (PROTOCOL 9.2).
    uint16 public immutable admittedForcedTypes;
    /// @notice Where batches post their pubdata (PROTOCOL 9.9): in the EIP-4844 blob of a type-3
    /// commitBatch, opened with the point-evaluation precompile (true), or in its calldata,
    /// evaluated here (false: chains without blobs). Fixed at deployment.
    bool public immutable blobData;

    constructor(Params memory p) {
        if (
            p.accountTreeDepth == 0 || p.accountTreeDepth > 48 || p.marketTreeDepth > 16
                || p.priceBits == 0 || p.priceBits > 32 || p.opsPerBlock == 0
                || p.priorityExpirySeconds == 0 || p.maxOpenPriorityRequests == 0
                || p.minDeposit == 0
        ) revert InvalidParams();
        MAX_ACCOUNTS = 1 << p.accountTreeDepth;
        MAX_MARKETS = 1 << p.marketTreeDepth;
        MAX_PRICE = (1 << p.priceBits) - 1;
        OPS_PER_BLOCK = p.opsPerBlock;
        PRIORITY_EXPIRY = p.priorityExpirySeconds;
        MAX_OPEN_PRIORITY_REQUESTS = p.maxOpenPriorityRequests;
        MIN_DEPOSIT = p.minDeposit;
        if (p.forcedTypes & ~FORCED_TRADING_TYPES != 0) revert InvalidParams();
        admittedForcedTypes = p.forcedTypes;
        blobData = p.blobData;
    }

    /// @notice Whether forced requests of type `opType` are admitted (its bit is set).
    /// @param opType A forced trading request's type (6, 7 or 8).
    function isForcedTypeAdmitted(uint8 opType) public view returns (bool) {
        return opType < 16 && (admittedForcedTypes >> opType) & 1 == 1;
    }

    /// @notice Whether every forced trading request is admitted: the block circuit proves them
    /// all, as it does once the trading operations they act on are all proven.
    function tradingEnabled() external view returns (bool) {
        return admittedForcedTypes == FORCED_TRADING_TYPES;
    }
}
