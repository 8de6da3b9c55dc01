// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Blob} from "./Blob.sol";
import {Config} from "./Config.sol";
import {Governance} from "./Governance.sol";
import {Operations} from "./Operations.sol";
import {Storage} from "./Storage.sol";
import {IERC20} from "./interfaces/IERC20.sol";
import {IVerifier} from "./interfaces/IVerifier.sol";

/// @title Rollup
/// @notice The zkperp L1 contract: USDC custody, the priority queue, forced requests, the batch
/// lifecycle (commit -> verify -> execute) and the escape hatch (desert mode). Not upgradeable.
/// PROTOCOL section 9 describes the behaviour this code implements.
contract Rollup is Config, Storage, Governance {
    /// @notice The collateral token (6-decimal USDC).
    IERC20 public immutable token;
    /// @notice Groth16 verifier of the block circuit: inputs (old root, new root, timestamp,
    /// d, z, e): the digest of the posted data, the circuit's challenge and the data's folded
    /// evaluation there (PROTOCOL 9.9, 10).
    IVerifier public immutable blockVerifier;
    /// @notice Groth16 verifier of the exit circuit: inputs (root, account, owner, amount).
    IVerifier public immutable exitVerifier;
    /// @notice Accounts below this index are reserved (created at genesis, never claimed).
    uint48 public immutable firstUserAccount;
    /// @notice keccak256 of the exit circuit's proving key file: the public artefact a user needs
    /// to prove an exit in desert mode (`zkperp operator deploy` publishes the file beside the
    /// deployment; `zkperp exit` refuses a key with another hash). Zero: none recorded.
    bytes32 public immutable exitProvingKeyHash;
    /// @notice The L1 block this rollup was deployed in (its events start there).
    uint256 public immutable deploymentBlock;
    /// @notice The name of the preset (protocol/params.py) the deployment was made for.
    string public preset;

    /// @param params The preset's sizes (scripts/deploy.py fills them from protocol/params.py).
    /// @param token_ The collateral token.
    /// @param blockVerifier_ The block circuit's verifier.
    /// @param exitVerifier_ The exit circuit's verifier.
    /// @param genesisStateRoot The state root of the empty exchange (batch 0).
    /// @param reservedOwners The owners of the reserved accounts 0 .. n-1 that the genesis state
    /// creates (address(0): nobody may deposit into it or force requests on it).
    /// The insurance fund (0) and the funding pool (2), when reserved, must have none.
    /// @param owner_ The governor.
    /// @param validators_ The initial validator set.
    /// @param preset_ The preset's name, for tools that rebuild the deployment from L1.
    /// @param exitProvingKeyHash_ keccak256 of the exit circuit's proving key file.
    constructor(
        Params memory params,
        IERC20 token_,
        IVerifier blockVerifier_,
        IVerifier exitVerifier_,
        uint256 genesisStateRoot,
        address[] memory reservedOwners,
        address owner_,
        address[] memory validators_,
        string memory preset_,
        bytes32 exitProvingKeyHash_
    ) Config(params) Governance(owner_, validators_) {
        if (
            address(token_).code.length == 0 || address(blockVerifier_).code.length == 0
                || address(exitVerifier_).code.length == 0
        ) revert InvalidParams();
        if (genesisStateRoot >= FIELD_ORDER) revert RootNotInField();
        if (reservedOwners.length >= MAX_ACCOUNTS) revert InvalidParams();
        firstUserAccount = uint48(reservedOwners.length);
        for (uint48 i = 0; i < reservedOwners.length; ++i) {
            if (_isUnownable(i) && reservedOwners[i] != address(0)) revert InvalidParams();
            accountOwners[i] = reservedOwners[i];
            emit AccountCreated(i, reservedOwners[i]);
        }
        exitProvingKeyHash = exitProvingKeyHash_;
        deploymentBlock = block.number;
        preset = preset_;
        token = token_;
        blockVerifier = blockVerifier_;
        exitVerifier = exitVerifier_;
        StoredBatchInfo memory genesis = StoredBatchInfo({
            batchNumber: 0,
            timestamp: uint64(block.timestamp),
            priorityRequests: 0,
            stateRoot: genesisStateRoot,
            dataHash: 0,
            challenge: 0,
            evaluation: 0,
            withdrawalsHash: keccak256("")
        });
        storedBatchHashes[0] = hashStoredBatchInfo(genesis);
        lastVerifiedStateRoot = genesisStateRoot;
        _emitCommitted(genesis, bytes32(0), "", "");
    }

    modifier nonReentrant() {
        if (locked) revert Reentrancy();
        locked = true;
        _;
        locked = false;
    }

    modifier notDesert() {
        if (desertMode) revert DesertModeActive();
        _;
    }

    modifier onlyAdmitted(uint8 opType) {
        if (!isForcedTypeAdmitted(opType)) revert TradingNotEnabled();
        _;
    }

    modifier onlyDesert() {
        if (!desertMode) revert DesertModeInactive();
        _;
    }

    // =========================================================================================
    // Deposits and forced requests: each enters the priority queue, bound to msg.sender
    // =========================================================================================

    /// @notice Deposits USDC into L2 account `accountIndex`; the first deposit into a user index
    /// creates the account and makes the caller its owner; later ones must come from the owner
    /// (a reserved account takes deposits from its genesis owner only).
    /// The amount credited is the rollup's measured balance increase (at most `amount`).
    /// @param accountIndex The L2 account (< 2**accountTreeDepth).
    /// @param amount USDC micro-units to pull with transferFrom (the caller approves first).
    function deposit(uint48 accountIndex, uint64 amount) external nonReentrant notDesert {
        if (amount < MIN_DEPOSIT) revert DepositTooSmall();
        _claimOrCheckOwner(accountIndex);
        uint256 before = token.balanceOf(address(this));
        _safeTokenCall(abi.encodeCall(IERC20.transferFrom, (msg.sender, address(this), amount)));
        uint256 received = token.balanceOf(address(this)) - before;
        uint64 credited = received < amount ? uint64(received) : amount;
        if (credited < MIN_DEPOSIT) revert DepositTooSmall();
        _enqueue(
            Operations.DEPOSIT,
            accountIndex,
            Operations.writeDepositRequest(accountIndex, msg.sender, credited)
        );
    }

    /// @notice Registers `pubkey` as the L2 signing key of the caller's account.
    /// @param accountIndex An account the caller owns.
    /// @param pubkey The compressed Jubjub public key (non-zero).
    function registerL2Key(uint48 accountIndex, bytes32 pubkey) external notDesert {
        if (pubkey == bytes32(0)) revert InvalidPubkey();
        _checkForcedRequest(accountIndex);
        _enqueue(
            Operations.REGISTER_KEY,
            accountIndex,
            Operations.writeRegisterKeyRequest(accountIndex, msg.sender, pubkey)
        );
    }

    /// @notice Forces a withdrawal of up to `amount` from the caller's account to the caller.
    /// @param accountIndex An account the caller owns.
    /// @param amount Requested USDC micro-units (> 0); the rules pay what the account can spare.
    function requestForcedWithdraw(uint48 accountIndex, uint64 amount) external notDesert {
        if (amount == 0) revert AmountOutOfRange();
        _checkForcedRequest(accountIndex);
        _enqueue(
            Operations.FORCED_WITHDRAW,
            accountIndex,
            Operations.writeForcedWithdrawRequest(accountIndex, msg.sender, amount)
        );
    }

    /// @notice Forces the cancellation of every open order of the caller's account. Reverts
    /// with TradingNotEnabled where the deployment does not prove it (Config).
    /// @param accountIndex An account the caller owns.
    function requestForcedCancelAll(uint48 accountIndex)
        external
        notDesert
        onlyAdmitted(Operations.FORCED_CANCEL_ALL)
    {
        _checkForcedRequest(accountIndex);
        _enqueue(
            Operations.FORCED_CANCEL_ALL,
            accountIndex,
            Operations.writeForcedCancelAllRequest(accountIndex, msg.sender)
        );
    }

    /// @notice Forces an order for the caller's account: a resting limit order, or with
    /// ORDER_FLAG_MARKET an immediate-or-cancel order no worse than `price`. Reverts with
    /// TradingNotEnabled where the deployment does not prove it (Config).
    /// @param accountIndex An account the caller owns.
    /// @param market Market id (< 2**marketTreeDepth).
    /// @param flags ORDER_FLAG_ASK (sell) | ORDER_FLAG_MARKET; no other bit.
    /// @param price Limit (or worst) price in ticks, 1 .. 2**priceBits - 1.
    /// @param size Size in lots (> 0).
    function requestForcedOrder(
        uint48 accountIndex,
        uint16 market,
        uint8 flags,
        uint32 price,
        uint48 size
    ) external notDesert onlyAdmitted(Operations.FORCED_ORDER) {
        if (
            market >= MAX_MARKETS || flags & ~Operations.ORDER_FLAGS_MASK != 0 || price == 0
                || price > MAX_PRICE || size == 0
        ) revert InvalidOrder();
        _checkForcedRequest(accountIndex);
        _enqueue(
            Operations.FORCED_ORDER,
            accountIndex,
            Operations.writeForcedOrderRequest(accountIndex, msg.sender, market, flags, price, size)
        );
    }

    /// @notice Forces the burn of `shares` liquidity-pool shares of the caller's account.
    /// Reverts with TradingNotEnabled where the deployment does not prove it (Config).
    /// @param accountIndex An account the caller owns.
    /// @param shares Shares to burn (> 0); the rules credit the collateral they are worth.
    function requestForcedBurn(uint48 accountIndex, uint64 shares)
        external
        notDesert
        onlyAdmitted(Operations.FORCED_BURN)
    {
        if (shares == 0) revert AmountOutOfRange();
        _checkForcedRequest(accountIndex);
        _enqueue(
            Operations.FORCED_BURN,
            accountIndex,
            Operations.writeForcedBurnRequest(accountIndex, msg.sender, shares)
        );
    }

    // =========================================================================================
    // Batches: commit -> verify -> execute; revert while unverified
    // =========================================================================================

    /// @notice Commits the batch after `lastBatch` (the last committed one): checks the batch
    /// number, the timestamp, the root and the L1 records (the priority requests they consume
    /// against the queue's hash chain), takes the batch's data from the transaction's first blob
    /// (opened at z with the point-evaluation precompile) or from the calldata pubdata
    /// (evaluated at z here), as the deployment's `blobData` says, and stores the hash of its
    /// info with the digest d of the data and the L1 records, z, and the folded evaluation e
    /// that the batch's proof must output (PROTOCOL 9.9).
    /// @param lastBatch The StoredBatchInfo of the last committed batch.
    /// @param newBatch The batch: number, timestamp, new state root, L1 records, z, its data.
    function commitBatch(StoredBatchInfo calldata lastBatch, CommitBatchInfo calldata newBatch)
        external
        onlyValidator
        notDesert
    {
        _commitBatch(lastBatch, newBatch);
    }

    /// @notice Commits, verifies and, where every batch before it is executed, executes the
    /// batch after `lastBatch` in one transaction: what commitBatch, verifyBatch and
    /// executeBatch do one after the other, with the same checks, events and storage, for
    /// about 70k gas less (one transaction instead of three; the stored info is checked once,
    /// the counters written once). The batch's L1 withdrawals, read from its L1 records, are
    /// credited to pending balances. Every committed batch must be verified already.
    /// @param lastBatch The StoredBatchInfo of the last committed (and verified) batch.
    /// @param newBatch The batch, as commitBatch takes it.
    /// @param proof Its Groth16 proof, as verifyBatch takes it.
    function commitVerifyExecuteBatch(
        StoredBatchInfo calldata lastBatch,
        CommitBatchInfo calldata newBatch,
        bytes calldata proof
    ) external onlyValidator notDesert nonReentrant {
        if (totalBatchesVerified != totalBatchesCommitted) revert WrongBatchNumber();
        StoredBatchInfo memory info = _commitBatch(lastBatch, newBatch);
        _verifyBatch(info, proof);
        if (totalBatchesExecuted + 1 != info.batchNumber) return; // executeBatch, in order
        bytes calldata records = newBatch.l1Records;
        for (uint256 off = 2; off < records.length; off += Blob.L1_RECORD_BYTES) {
            uint8 opType = uint8(records[off]);
            if (opType == Operations.WITHDRAW || opType == Operations.FORCED_WITHDRAW) {
                _creditWithdrawal(info.batchNumber, records, off);
            }
        }
        _markExecuted(info.batchNumber, info.priorityRequests);
    }

    /// @dev commitBatch's checks and storage; returns the info stored.
    function _commitBatch(StoredBatchInfo calldata lastBatch, CommitBatchInfo calldata newBatch)
        private
        returns (StoredBatchInfo memory info)
    {
        if (hashStoredBatchInfo(lastBatch) != storedBatchHashes[totalBatchesCommitted]) {
            revert BatchInfoMismatch();
        }
        if (newBatch.batchNumber != lastBatch.batchNumber + 1) revert WrongBatchNumber();
        _checkTimestamp(lastBatch.timestamp, newBatch.timestamp);
        if (newBatch.newStateRoot >= FIELD_ORDER || newBatch.challenge >= FIELD_ORDER) {
            revert RootNotInField();
        }
        uint256 z = newBatch.challenge;
        (bytes32 source, uint256 y) = blobData ? _openBlob(newBatch) : _evaluatePubdata(newBatch);
        bytes calldata l1Records = newBatch.l1Records;
        uint256 yL1 = Blob.evaluateRecords(l1Records, OPS_PER_BLOCK, z);
        (uint64 consumed, bytes32 withdrawalsHash) = _scanL1Records(l1Records);
        info = StoredBatchInfo({
            batchNumber: newBatch.batchNumber,
            timestamp: newBatch.timestamp,
            priorityRequests: consumed,
            stateRoot: newBatch.newStateRoot,
            dataHash: uint256(keccak256(abi.encodePacked(source, keccak256(l1Records))))
                % FIELD_ORDER,
            challenge: z,
            evaluation: addmod(y, mulmod(Blob.powerN(z), yL1, FIELD_ORDER), FIELD_ORDER),
            withdrawalsHash: withdrawalsHash
        });
        storedBatchHashes[info.batchNumber] = hashStoredBatchInfo(info);
        totalBatchesCommitted = info.batchNumber;
        totalCommittedPriorityRequests += consumed;
        _emitCommitted(info, source, l1Records, newBatch.pubdata);
    }

    /// @dev The blob path: the first blob's versioned hash and y = p(z), checked by the
    /// point-evaluation precompile; no calldata pubdata.
    function _openBlob(CommitBatchInfo calldata newBatch)
        private
        view
        returns (bytes32 versionedHash, uint256 y)
    {
        bytes calldata opening = newBatch.blobOpening;
        if (newBatch.pubdata.length != 0 || opening.length != 128) revert WrongDataPath();
        versionedHash = Blob.firstBlobHash();
        y = uint256(bytes32(opening[:32]));
        Blob.checkOpening(versionedHash, newBatch.challenge, y, opening[32:80], opening[80:]);
    }

    /// @dev The calldata path: keccak256 of the pubdata and y = p(z), computed here.
    function _evaluatePubdata(CommitBatchInfo calldata newBatch)
        private
        view
        returns (bytes32 dataHash, uint256 y)
    {
        bytes calldata pubdata = newBatch.pubdata;
        if (newBatch.blobOpening.length != 0) revert WrongDataPath();
        if (pubdata.length != OPS_PER_BLOCK * OP_BYTES) revert WrongPubdataLength();
        dataHash = keccak256(pubdata);
        y = Blob.evaluate(pubdata, newBatch.challenge);
    }

    /// @notice Verifies the next committed batch with the block verifier. The public inputs
    /// (last verified root, the batch's root, timestamp, data digest, challenge, evaluation)
    /// come from storage, never from the caller; anyone holding a valid proof may call.
    /// @param batch The StoredBatchInfo of batch totalBatchesVerified + 1.
    /// @param proof The Groth16 proof (512 bytes, EIP-2537 encoding).
    function verifyBatch(StoredBatchInfo calldata batch, bytes calldata proof)
        external
        notDesert
    {
        if (batch.batchNumber != totalBatchesVerified + 1 || batch.batchNumber > totalBatchesCommitted)
        {
            revert WrongBatchNumber();
        }
        StoredBatchInfo memory info = batch;
        if (hashStoredBatchInfo(info) != storedBatchHashes[info.batchNumber]) {
            revert BatchInfoMismatch();
        }
        _verifyBatch(info, proof);
    }

    /// @dev verifyBatch's proof check and storage, for `batch`, the next unverified batch.
    function _verifyBatch(StoredBatchInfo memory batch, bytes calldata proof) private {
        uint256[] memory inputs = new uint256[](6);
        inputs[0] = lastVerifiedStateRoot;
        inputs[1] = batch.stateRoot;
        inputs[2] = batch.timestamp;
        inputs[3] = batch.dataHash;
        inputs[4] = batch.challenge;
        inputs[5] = batch.evaluation;
        if (!blockVerifier.verifyProof(proof, inputs)) revert InvalidProof();
        totalBatchesVerified = batch.batchNumber;
        totalVerifiedPriorityRequests += batch.priorityRequests;
        lastVerifiedStateRoot = batch.stateRoot;
        emit BatchVerified(batch.batchNumber, batch.stateRoot);
    }

    /// @notice Executes the next verified batch: credits its L1 withdrawals to pending balances
    /// and removes the requests it consumed from the queue. Anyone may call, in desert mode
    /// too (a verified batch's withdrawals are already out of the state exits prove against).
    /// @param batch The StoredBatchInfo of batch totalBatchesExecuted + 1.
    /// @param withdrawals The batch's records of type 4 and 5, concatenated in pubdata order
    /// (protocol.pubdata.get_l1_withdrawals).
    function executeBatch(StoredBatchInfo calldata batch, bytes calldata withdrawals)
        external
        nonReentrant
    {
        if (batch.batchNumber != totalBatchesExecuted + 1) revert WrongBatchNumber();
        if (batch.batchNumber > totalBatchesVerified) revert BatchNotVerified();
        if (hashStoredBatchInfo(batch) != storedBatchHashes[batch.batchNumber]) {
            revert BatchInfoMismatch();
        }
        if (keccak256(withdrawals) != batch.withdrawalsHash) revert WithdrawalsMismatch();
        for (uint256 off = 0; off < withdrawals.length; off += OP_BYTES) {
            _creditWithdrawal(batch.batchNumber, withdrawals, off);
        }
        _markExecuted(batch.batchNumber, batch.priorityRequests);
    }

    /// @dev Credits the L1 withdrawal record (type 4 or 5) at data[off:] to its owner's pending
    /// balance.
    function _creditWithdrawal(uint64 batchNumber, bytes calldata data, uint256 off) private {
        uint64 amount = uint8(data[off]) == Operations.WITHDRAW
            ? Operations.readWithdrawAmount(data, off)
            : Operations.readForcedWithdrawAmount(data, off);
        if (amount != 0) {
            address receiver = Operations.readOwner(data, off);
            pendingBalances[receiver] += amount;
            emit WithdrawalPending(batchNumber, receiver, amount);
        }
    }

    /// @dev Batch `batchNumber` executed: its `priorityRequests` requests leave the queue.
    function _markExecuted(uint64 batchNumber, uint64 priorityRequests) private {
        firstPriorityRequestId += priorityRequests;
        totalBatchesExecuted = batchNumber;
        emit BatchExecuted(batchNumber);
    }

    /// @notice Drops committed, unverified batches, newest first; their priority requests
    /// become uncommitted again.
    /// @param batches The StoredBatchInfo of batches totalBatchesCommitted, ..., downwards.
    function revertBatches(StoredBatchInfo[] calldata batches) external onlyValidator notDesert {
        if (batches.length == 0) revert NothingToRevert();
        uint64 committed = totalBatchesCommitted;
        uint64 requests = 0;
        for (uint256 i = 0; i < batches.length; ++i) {
            if (committed <= totalBatchesVerified) revert BatchAlreadyVerified();
            if (hashStoredBatchInfo(batches[i]) != storedBatchHashes[committed]) {
                revert BatchInfoMismatch();
            }
            delete storedBatchHashes[committed];
            requests += batches[i].priorityRequests;
            --committed;
        }
        totalBatchesCommitted = committed;
        totalCommittedPriorityRequests -= requests;
        emit BatchesReverted(committed, uint64(batches.length));
    }

    /// @notice Pays `owner`'s whole pending balance to `owner` (anyone may trigger it; the
    /// tokens only ever go to `owner`). The balance is zeroed before the transfer.
    /// @param owner The L1 address to pay.
    function withdrawPendingBalance(address owner) external nonReentrant {
        uint256 amount = pendingBalances[owner];
        if (amount == 0) revert NothingToWithdraw();
        pendingBalances[owner] = 0;
        _safeTokenCall(abi.encodeCall(IERC20.transfer, (owner, amount)));
        emit PendingBalanceWithdrawn(owner, amount);
    }

    // =========================================================================================
    // Desert mode
    // =========================================================================================

    /// @notice Freezes the rollup for good once the oldest unexecuted priority request has
    /// expired (block.timestamp >= its expiresAt). Committed, unverified batches are dropped;
    /// exits then prove against the last verified root.
    function activateDesertMode() external notDesert {
        uint64 head = firstPriorityRequestId;
        if (head == totalPriorityRequests || block.timestamp < priorityRequests[head].expiresAt) {
            revert NoExpiredPriorityRequest();
        }
        desertMode = true;
        uint64 verified = totalBatchesVerified;
        if (totalBatchesCommitted > verified) {
            emit BatchesReverted(verified, totalBatchesCommitted - verified);
            totalBatchesCommitted = verified;
            totalCommittedPriorityRequests = totalVerifiedPriorityRequests;
        }
        desertRefundCursor = totalVerifiedPriorityRequests;
        emit DesertModeActivated(verified, lastVerifiedStateRoot);
    }

    /// @notice Desert mode: cancels the next `n` queued requests that no verified batch
    /// consumed, refunding each deposit among them to its depositor's pending balance. Pages
    /// go in queue order, each request exactly once; anyone may call.
    /// @param n How many requests this page cancels (> 0).
    /// @param requests Their request bytes, as PriorityRequestQueued carried them.
    function cancelOutstandingDeposits(uint64 n, bytes[] calldata requests)
        external
        nonReentrant
        onlyDesert
    {
        uint64 first = desertRefundCursor;
        if (n == 0 || requests.length != n || first + n > totalPriorityRequests) {
            revert WrongRequestCount();
        }
        bytes32 chainHash = first == 0 ? bytes32(0) : priorityRequests[first - 1].chainHash;
        for (uint64 i = 0; i < n; ++i) {
            bytes calldata request = requests[i];
            chainHash = keccak256(abi.encodePacked(chainHash, request));
            if (chainHash != priorityRequests[first + i].chainHash) revert RequestMismatch();
            if (uint8(request[0]) == Operations.DEPOSIT) {
                (address depositor, uint64 amount) = Operations.readDepositRequest(request);
                pendingBalances[depositor] += amount;
                emit DepositRefunded(first + i, depositor, amount);
            }
        }
        desertRefundCursor = first + n;
        emit PriorityRequestsCancelled(first, n);
    }

    /// @notice Desert mode: exits account `accountIndex`, crediting `amount` to `owner`'s
    /// pending balance, on an exit proof against the last verified state root. Once per
    /// account; anyone may submit (the funds only ever go to `owner`). The insurance fund and
    /// the funding pool never exit (ReservedAccount): the fund's value belongs to its share
    /// holders, the pool's balance backs the unsettled funding users' TAVs count (section 9.4).
    /// @param accountIndex The account.
    /// @param owner Its L1 owner, as the state records it.
    /// @param amount What the exit circuit computed the account is owed.
    /// @param proof The Groth16 exit proof (512 bytes, EIP-2537 encoding).
    function performDesert(uint48 accountIndex, address owner, uint64 amount, bytes calldata proof)
        external
        nonReentrant
        onlyDesert
    {
        if (accountIndex >= MAX_ACCOUNTS) revert AccountIndexOutOfRange();
        if (_isUnownable(accountIndex)) revert ReservedAccount();
        if (exited[accountIndex]) revert AlreadyExited();
        uint256[] memory inputs = new uint256[](4);
        inputs[0] = lastVerifiedStateRoot;
        inputs[1] = accountIndex;
        inputs[2] = uint160(owner);
        inputs[3] = amount;
        if (!exitVerifier.verifyProof(proof, inputs)) revert InvalidProof();
        exited[accountIndex] = true;
        pendingBalances[owner] += amount;
        emit DesertExit(accountIndex, owner, amount);
    }

    // =========================================================================================
    // Internals
    // =========================================================================================

    /// @dev The reserved accounts that nobody owns: the insurance fund and the funding pool.
    function _isUnownable(uint48 accountIndex) private view returns (bool) {
        return accountIndex < firstUserAccount
            && (accountIndex == INSURANCE_FUND || accountIndex == FUNDING_POOL);
    }

        function _claimOrCheckOwner(uint48 accountIndex) private {
        if (accountIndex >= MAX_ACCOUNTS) revert AccountIndexOutOfRange();
        address current = accountOwners[accountIndex];
        if (current == address(0) && accountIndex >= firstUserAccount) {
            accountOwners[accountIndex] = msg.sender;
            emit AccountCreated(accountIndex, msg.sender);
        } else if (current != msg.sender) {
            revert NotAccountOwner();
        }
    }

    /// @dev Forced requests: only the account's owner, at most one unexecuted per account.
    function _checkForcedRequest(uint48 accountIndex) private {
        if (accountIndex >= MAX_ACCOUNTS) revert AccountIndexOutOfRange();
        if (accountOwners[accountIndex] != msg.sender) revert NotAccountOwner();
        if (lastForcedRequest[accountIndex] > firstPriorityRequestId) revert ForcedRequestPending();
        lastForcedRequest[accountIndex] = totalPriorityRequests + 1;
    }

    function _enqueue(uint8 opType, uint48 accountIndex, bytes memory request) private {
        uint64 id = totalPriorityRequests;
        if (id - firstPriorityRequestId >= MAX_OPEN_PRIORITY_REQUESTS) revert PriorityQueueFull();
        bytes32 prev = id == 0 ? bytes32(0) : priorityRequests[id - 1].chainHash;
        bytes32 chainHash = keccak256(abi.encodePacked(prev, request));
        uint64 expiresAt = uint64(block.timestamp) + PRIORITY_EXPIRY;
        priorityRequests[id] = PriorityRequest(chainHash, expiresAt);
        totalPriorityRequests = id + 1;
        emit PriorityRequestQueued(
            id, opType, accountIndex, msg.sender, request, chainHash, expiresAt
        );
    }

    function _checkTimestamp(uint64 previous, uint64 timestamp) private view {
        if (timestamp < previous) revert TimestampNotMonotonic();
        if (
            timestamp >= 1 << TIMESTAMP_BITS || timestamp > block.timestamp + BATCH_TIMESTAMP_MAX_DRIFT
                || timestamp + BATCH_TIMESTAMP_MAX_AGE < block.timestamp
        ) revert TimestampOutOfRange();
    }

    /// @dev The priority requests the L1 records consume, checked against the queue's hash
    /// chain (9.2), and the keccak256 of their L1-withdrawal records in order. The entries'
    /// layout (whole, slots increasing, L1 types only) was checked by Blob.evaluateRecords.
    function _scanL1Records(bytes calldata l1Records)
        private
        view
        returns (uint64 consumed, bytes32 withdrawalsHash)
    {
        uint64 start = totalCommittedPriorityRequests;
        bytes32 chainHash = start == 0 ? bytes32(0) : priorityRequests[start - 1].chainHash;
        bytes memory withdrawals = new bytes(l1Records.length);
        uint256 withdrawalBytes = 0;
        for (uint256 off = 2; off < l1Records.length; off += Blob.L1_RECORD_BYTES) {
            uint8 opType = uint8(l1Records[off]);
            uint256 requestLength = Operations.requestBytes(opType);
            if (requestLength != 0) {
                chainHash = keccak256(abi.encodePacked(chainHash, l1Records[off:off + requestLength]));
                ++consumed;
            }
            if (opType == Operations.WITHDRAW || opType == Operations.FORCED_WITHDRAW) {
                assembly ("memory-safe") {
                    calldatacopy(
                        add(add(withdrawals, 32), withdrawalBytes),
                        add(l1Records.offset, off),
                        OP_BYTES
                    )
                }
                withdrawalBytes += OP_BYTES;
            }
        }
        if (consumed != 0) {
            if (start + consumed > totalPriorityRequests) revert TooManyPriorityRequests();
            if (priorityRequests[start + consumed - 1].chainHash != chainHash) {
                revert PriorityHashMismatch();
            }
        }
        assembly ("memory-safe") {
            mstore(withdrawals, withdrawalBytes)
        }
        withdrawalsHash = keccak256(withdrawals);
    }

    /// @dev Calls the token; reverts unless the call succeeded and returned nothing or true.
    function _safeTokenCall(bytes memory data) private {
        (bool ok, bytes memory ret) = address(token).call(data);
        if (!ok || (ret.length != 0 && (ret.length != 32 || abi.decode(ret, (uint256)) != 1))) {
            revert TokenTransferFailed();
        }
    }

    function _emitCommitted(
        StoredBatchInfo memory info,
        bytes32 sourceHash,
        bytes memory l1Records,
        bytes memory pubdata
    ) private {
        emit BatchCommitted(
            info.batchNumber,
            info.timestamp,
            info.priorityRequests,
            info.stateRoot,
            info.dataHash,
            info.challenge,
            info.evaluation,
            info.withdrawalsHash,
            sourceHash,
            l1Records,
            pubdata
        );
    }
}
