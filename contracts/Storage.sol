// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Storage
/// @notice The rollup's state. Batches are stored as the keccak256 of their StoredBatchInfo
/// (callers pass the info back and the contract checks it against the hash); the priority
/// queue as a keccak prefix-hash chain, one link per request.
abstract contract Storage {
    /// @notice What L1 keeps of a committed batch (hashed: `keccak256(abi.encode(info))`).
    struct StoredBatchInfo {
        uint64 batchNumber;
        uint64 timestamp; // unix seconds, a public input of the batch's proof
        uint64 priorityRequests; // how many queued requests the batch consumes
        uint256 stateRoot; // the state root after the batch
        uint256 dataHash; // d: the digest of the posted data and the L1 records (PROTOCOL 9.9)
        uint256 challenge; // z, derived by the block circuit from its records and d
        uint256 evaluation; // e = y + z^4096 * yL1, the data's polynomials at z
        bytes32 withdrawalsHash; // keccak256 of the batch's L1-withdrawal records, in order
    }

    /// @notice What the validator posts to commit a batch.
    struct CommitBatchInfo {
        uint64 batchNumber;
        uint64 timestamp;
        uint256 newStateRoot;
        bytes l1Records; // each L1 record as slot (2 bytes) || record (64 bytes), in slot order
        uint256 challenge; // z (the block circuit's, protocol.blob.compute_batch_data)
        bytes pubdata; // calldata path: opsPerBlock records of 64 bytes; blob path: empty
        bytes blobOpening; // blob path: y || KZG commitment || KZG proof (128 bytes); else empty
    }

    /// @notice One link of the priority queue.
    struct PriorityRequest {
        bytes32 chainHash; // keccak256(previous link's chainHash ‖ request bytes)
        uint64 expiresAt; // desert mode may start once this passes with the request unexecuted
    }

    // -- accounts and the priority queue --
    /// @notice The L1 owner of each claimed account index (its first depositor).
    mapping(uint48 accountIndex => address owner) public accountOwners;
    /// @notice Queue links by request id (ids count up from 0 and are never reused).
    mapping(uint64 requestId => PriorityRequest) public priorityRequests;
    /// @notice The oldest request not yet executed (the queue's head).
    uint64 public firstPriorityRequestId;
    /// @notice The id the next request will get.
    uint64 public totalPriorityRequests;
    /// @notice Requests consumed by committed (not reverted) batches.
    uint64 public totalCommittedPriorityRequests;
    /// @notice Requests consumed by verified batches.
    uint64 public totalVerifiedPriorityRequests;
    /// @dev 1 + id of the last forced request of each account (0: none ever).
    mapping(uint48 accountIndex => uint64) internal lastForcedRequest;

    // -- batches --
    /// @notice keccak256(abi.encode(StoredBatchInfo)) of each committed batch.
    mapping(uint64 batchNumber => bytes32) public storedBatchHashes;
    /// @notice The number of the last committed (not reverted) batch.
    uint64 public totalBatchesCommitted;
    /// @notice The number of the last verified batch.
    uint64 public totalBatchesVerified;
    /// @notice The number of the last executed batch.
    uint64 public totalBatchesExecuted;
    /// @notice The state root of the last verified batch (exits prove against it).
    uint256 public lastVerifiedStateRoot;

    // -- payouts and desert mode --
    /// @notice USDC each L1 address can pull with withdrawPendingBalance.
    mapping(address owner => uint256) public pendingBalances;
    /// @notice Set once, by activateDesertMode; never cleared.
    bool public desertMode;
    /// @notice Desert mode: the next queued request cancelOutstandingDeposits looks at.
    uint64 public desertRefundCursor;
    /// @notice Desert mode: accounts that have exited.
    mapping(uint48 accountIndex => bool) public exited;

    /// @dev The re-entrancy lock (EIP-1153 transient storage).
    bool internal transient locked;

    function hashStoredBatchInfo(StoredBatchInfo memory info) internal pure returns (bytes32) {
        return keccak256(abi.encode(info));
    }
}
