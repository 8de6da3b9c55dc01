// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Events
/// @notice Every state change of the rollup emits one of these; together they are what an
/// explorer and the sequencer's L1 watcher need (the watcher rebuilds the queue and the batch
/// chain from them alone).
interface Events {
    /// @notice An account index was claimed by its first deposit; `owner` owns it from now on.
    event AccountCreated(uint48 indexed accountIndex, address indexed owner);

    /// @notice A priority request entered the queue. `request` is its bytes as section 8 lays
    /// them out (protocol.pubdata.decode_request reads them); `chainHash` is the queue's keccak
    /// prefix hash after it; it must be executed before `expiresAt` or desert mode can start.
    event PriorityRequestQueued(
        uint64 indexed requestId,
        uint8 indexed opType,
        uint48 indexed accountIndex,
        address owner,
        bytes request,
        bytes32 chainHash,
        uint64 expiresAt
    );

    /// @notice A batch was committed; the fields are its StoredBatchInfo, plus the source hash
    /// (the blob's versioned hash, or keccak256 of the calldata pubdata), the L1 records and the
    /// calldata pubdata (empty on the blob path). Batch 0 (genesis) is announced the same way by
    /// the constructor, with empty data.
    event BatchCommitted(
        uint64 indexed batchNumber,
        uint64 timestamp,
        uint64 priorityRequests,
        uint256 stateRoot,
        uint256 dataHash,
        uint256 challenge,
        uint256 evaluation,
        bytes32 withdrawalsHash,
        bytes32 sourceHash,
        bytes l1Records,
        bytes pubdata
    );

    /// @notice A batch's proof was accepted; `stateRoot` is now the last verified root.
    event BatchVerified(uint64 indexed batchNumber, uint256 stateRoot);

    /// @notice A verified batch's withdrawals were credited and its requests left the queue.
    event BatchExecuted(uint64 indexed batchNumber);

    /// @notice Committed, unverified batches were dropped; `totalBatchesCommitted` is the new tip.
    event BatchesReverted(uint64 totalBatchesCommitted, uint64 reverted);

    /// @notice `amount` was added to `owner`'s pending balance (a withdrawal of `batchNumber`).
    event WithdrawalPending(uint64 indexed batchNumber, address indexed owner, uint64 amount);

    /// @notice `owner`'s pending balance of `amount` was paid out.
    event PendingBalanceWithdrawn(address indexed owner, uint256 amount);

    /// @notice Desert mode began: exits are proven against `stateRoot` of `lastVerifiedBatch`.
    event DesertModeActivated(uint64 lastVerifiedBatch, uint256 stateRoot);

    /// @notice Queued requests `firstRequestId .. firstRequestId + count - 1` were cancelled.
    event PriorityRequestsCancelled(uint64 firstRequestId, uint64 count);

    /// @notice The never-processed deposit `requestId` was refunded to `owner`'s pending balance.
    event DepositRefunded(uint64 indexed requestId, address indexed owner, uint64 amount);

    /// @notice Account `accountIndex` exited with `amount` credited to `owner`.
    event DesertExit(uint48 indexed accountIndex, address indexed owner, uint64 amount);

    /// @notice Governance: the owner changed.
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    /// @notice Governance: `validator` may (or may no longer) commit and revert batches.
    event ValidatorUpdated(address indexed validator, bool active);
}

/// @title Errors
/// @notice The rollup's custom errors.
interface Errors {
    // -- construction --
    error InvalidParams();
    // -- governance --
    error NotOwner();
    error NotValidator();
    error ZeroAddress();
    // -- requests --
    error AccountIndexOutOfRange();
    error NotAccountOwner();
    error AmountOutOfRange();
    error DepositTooSmall();
    error PriorityQueueFull();
    error ForcedRequestPending();
    error InvalidOrder();
    error TradingNotEnabled();
    error InvalidPubkey();
    error TokenTransferFailed();
    // -- batches --
    error BatchInfoMismatch();
    error WrongBatchNumber();
    error TimestampNotMonotonic();
    error TimestampOutOfRange();
    error RootNotInField();
    error WrongPubdataLength();
    error WrongDataPath();
    error TooManyPriorityRequests();
    error PriorityHashMismatch();
    error InvalidProof();
    error BatchNotVerified();
    error BatchAlreadyVerified();
    error WithdrawalsMismatch();
    error NothingToRevert();
    error NothingToWithdraw();
    // -- desert mode --
    error DesertModeActive();
    error DesertModeInactive();
    error NoExpiredPriorityRequest();
    error WrongRequestCount();
    error RequestMismatch();
    error AlreadyExited();
    error ReservedAccount();
    // -- misc --
    error Reentrancy();
}
