"""The operator: L1 watcher -> block builder -> witness builder + prover -> L1 submitter.

It keeps two states. The *live* state is where the builder applies each new block as soon as it
is sealed (what users see); the *proving* state lags behind it, after the last block whose
witness was built, and is what the witness builder reads the Merkle paths from. Both start
from the same genesis and replay the same blocks, and every proven block's root must equal the
one the builder sealed.

A step: take confirmed L1 requests; seal a block if anything is waiting (each market's
pre-execution at the feed's index prices first, once the block circuit proves it:
``sequencer.price_feed``; then priority requests; as many blocks as the prover proves at
once, ``ProofPool.capacity``); then take every sealed block that L1 has not executed through
prove -> commit -> verify -> execute: in one transaction (``commitVerifyExecuteBatch``) where
the block's proof is made and every earlier block verified (the in-process prover's case), in
three otherwise (a proof still running on a Ray worker, or a one-call L1 refused). The store
records each sealed block (and each proof) before it is sent, and the contract's counters say
which step a batch needs next, so ``Operator.open`` on the same file after a crash rebuilds the
same states and goes on where L1 is.

A sealed block that cannot be settled as it is gets taken back, with every block after it, and
sealed again from the same log (``retake_blocks``):

- a block not yet committed whose timestamp ``commitBatch`` would refuse as too old (the
  operator was down for a day): nothing of it is on L1, so it is re-sealed with a fresh time;
- a block whose proof failed (the prover raised, or ``verifyBatch`` refused the proof): the
  committed, unverified batches from it on are reverted on L1 (``revertBatches``) and re-sealed.
  A block that fails again after that loses its L2 transactions (dropped, with the proof's
  error), so one transaction the circuit cannot prove never stalls the rollup.

Proofs run ahead of L1 (``sequencer.proof_pool``): the witnesses of the next ``capacity`` blocks
are built one after another on the proving state, which runs ahead of L1 by as many blocks, and
their proofs run side by side (on Ray workers, ``sequencer.ray_pool``), while L1 still sees
each batch committed, verified and executed in order, once. On a pool of workers, a block's
witness is built while the proof of the one before it runs. Proofs in flight belong to the
blocks as sealed: taking blocks back (or rebuilding after a failed step) forgets them.

Each stage of a batch is logged (``zkperp.operator``, ``zkperp.prover``): sealed, dropped
transactions, witness, proved, committed, verified, executed, reverted, re-sealed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from web3 import Web3
from web3.contract import Contract

from protocol.block import process_block
from protocol.commitment import update_state_root
from sequencer.builder import SealedBlock, build_block, replay_block
from sequencer.genesis import RollupConfig
from sequencer.mempool import Mempool
from sequencer.price_feed import PriceFeed, ScriptedFeed, SignedPrice, sign_prices
from sequencer.progress import Progress, ProgressCallback, ignore_progress
from sequencer.proof_pool import (
    BlockProver,
    FailedProof,
    PendingProof,
    ProofPool,
    ReadyProof,
    get_proof_pool,
)
from sequencer.store import Store
from sequencer.submitter import (
    BATCH_TIMESTAMP_MAX_AGE_S,
    L1Progress,
    StoredBatchInfo,
    SubmitError,
    Submitter,
    get_l1_progress,
    get_stored_info,
)
from sequencer.watcher import L1Watcher

CONFIG_KEY = "rollup.config"
STALE_MARGIN_S = 15 * 60  # re-seal a block this long before commitBatch would refuse its time
MAX_PROOF_ATTEMPTS = 2  # a block that fails this often is re-sealed without its L2 transactions

log = logging.getLogger("zkperp.operator")


class OperatorError(RuntimeError):
    """The operator's store, the rules and L1 disagree; the message says where."""


class RetakeBlock(Exception):
    """Block ``number`` cannot be settled as sealed; it and the blocks after it are taken back
    and sealed again (``proof_failed``: because its proof failed)."""

    def __init__(self, number: int, reason: str, proof_failed: bool) -> None:
        super().__init__(f"block {number}: {reason}")
        self.number = number
        self.reason = reason
        self.proof_failed = proof_failed


@dataclass
class L1Link:
    """How the operator reaches L1: the node, the rollup contract, the validator account (and
    its key, which the blob path needs), and the L1 block the rollup was deployed in (where the
    watcher starts)."""

    w3: Web3
    rollup: Contract
    sender: str
    start_block: int = 0
    confirmations: int = 1
    key: str | None = None  # the sender's private key: the blob path signs its transactions


class Operator:
    """See the module docstring. ``open`` is the constructor to use."""

    def __init__(
        self, config: RollupConfig, store: Store, l1: L1Link,
        prover: BlockProver | ProofPool,
        report: ProgressCallback = ignore_progress,
        feed: PriceFeed | None = None,
    ) -> None:  # fmt: skip
        self.config = config
        self.feed = feed or ScriptedFeed(tuple(m.index_price for m in config.markets))
        self.store = store
        self.l1 = l1
        self.prover = prover
        self.report = report
        self.mempool = Mempool(store)
        self.watcher = L1Watcher(l1.w3, l1.rollup, store, l1.confirmations, l1.start_block)
        self.submitter = Submitter(l1.w3, l1.rollup, l1.sender, key=l1.key)
        self.state = config.make_genesis()
        self.proving_state = config.make_genesis()
        self.unfinished: list[SealedBlock] = []  # sealed, not yet executed on L1
        self.proofs: dict[int, PendingProof] = {}  # started, by block number; the proving
        # state is after the last of them
        self.proof_failures: dict[int, int] = {}  # block number -> failed proofs in a row

    @classmethod
    def open(
        cls, config: RollupConfig, store: Store, l1: L1Link,
        prover: BlockProver | ProofPool,
        report: ProgressCallback = ignore_progress,
        feed: PriceFeed | None = None,
    ) -> Operator:  # fmt: skip
        """An operator on ``store``, its states rebuilt by replaying the blocks sealed there."""
        known = store.get_meta(CONFIG_KEY)
        if known is None:
            store.set_meta(CONFIG_KEY, config.to_json())
        elif RollupConfig.from_json(known) != config:
            raise OperatorError(f"{store.path} belongs to another deployment")
        genesis_root = get_stored_info(l1.rollup, 0).state_root
        if genesis_root != config.compute_genesis_root():
            raise OperatorError("the rollup on L1 was not deployed with this genesis")
        operator = cls(config, store, l1, prover, report, feed)
        operator.replay()
        return operator

    # -- replay ---------------------------------------------------------------------------------

    def replay(self) -> None:
        """Rebuilds both states from the store's sealed blocks (the proving state up to what
        L1 has executed; the later blocks are left to ``settle``)."""
        executed = get_l1_progress(self.l1.rollup).executed
        for record in self.store.get_blocks():
            sealed = replay_block(self.state, self.store, record)
            if record.number <= executed:
                process_block(self.proving_state, sealed.block)
            else:
                self.unfinished.append(sealed)

    def rebuild(self) -> None:
        """Both states again from genesis and the store, as a restarted operator has them
        (after blocks were taken back, or a step failed half-way)."""
        self.state = self.config.make_genesis()
        self.proving_state = self.config.make_genesis()
        self.unfinished = []
        self.proofs = {}
        self.replay()

    # -- one step -------------------------------------------------------------------------------

    @property
    def next_request_id(self) -> int:
        """The oldest priority request no sealed block consumed."""
        return sum(r.priority_count for r in self.store.get_blocks())

    @property
    def pool(self) -> ProofPool:
        return get_proof_pool(self.prover)

    def step(self) -> SealedBlock | None:
        """Takes L1 requests, seals blocks while anything waits (as many as the prover proves
        at once), and settles every unfinished block on L1. Returns the last block sealed, if
        any."""
        new = self.watcher.poll()
        if new:
            self.report(Progress("watch", 0, len(new), len(new), f"{len(new)} L1 request(s)"))
        sealed = self.seal_block()
        while sealed is not None and len(self.unfinished) < self.pool.capacity:
            more = self.seal_block()
            if more is None:
                break
            sealed = more
        self.settle()
        return sealed

    def seal_block(self, verb: str = "sealed") -> SealedBlock | None:
        """Builds, applies and records the next block, if there is anything to put in it."""
        slots = self.config.preset.ops_per_block
        requests = self.store.get_requests(self.next_request_id, self.config.preset.operation_slots)
        txs = self.mempool.get_pending()
        if not requests and not txs:
            return None
        number = self.state.block_number + 1
        timestamp = max(self.state.timestamp, self._get_l1_time())
        prices = self.get_index_prices(timestamp)
        sealed = build_block(self.state, number, timestamp, requests, txs, prices)
        self.store.add_block(sealed.record, sealed.dropped, sealed.records)
        self.unfinished.append(sealed)
        used = slots - sum(1 for r in sealed.records if r[0] == 0)
        message = f"{used}/{slots} slots, {len(sealed.dropped)} dropped"
        self.report(Progress("build", number, 1, 1, message))
        log.info(
            "block %d %s at %d: %d L1 request(s), %d L2 transaction(s), %d dropped",
            number, verb, timestamp, sealed.priority_count, len(sealed.record.l2_seqs),
            len(sealed.dropped),
        )  # fmt: skip
        for seq, error in sorted(sealed.dropped.items()):
            log.warning("block %d dropped transaction #%d: %s", number, seq, error)
        return sealed

    def get_index_prices(self, timestamp: int) -> tuple[SignedPrice, ...]:
        """The feed's index price per market for a block at ``timestamp``, signed by the
        oracle at that time (its pre-executions take those of the markets whose turn it is:
        ``sequencer.builder``)."""
        current = [market.data.index_price for market in self.state.markets]
        prices = self.feed.get_index_prices(timestamp, current)
        return sign_prices(self.config.oracle_key, self.config.chain_id, prices, timestamp)

    def settle(self) -> None:
        """prove -> commit -> verify -> execute every unfinished block, oldest first; a block
        that cannot be settled as sealed is taken back and sealed again."""
        while self.unfinished:
            try:
                self._settle(self.unfinished[0])
            except RetakeBlock as failure:
                self.retake_blocks(failure)
                continue
            done = self.unfinished.pop(0)
            self.proofs.pop(done.number, None)

    def _settle(self, sealed: SealedBlock) -> None:
        n = sealed.number
        l1 = get_l1_progress(self.l1.rollup)
        self._start_proofs(l1.verified)
        if n > l1.committed:
            if not self._settle_in_one_call(sealed, l1):
                self._commit(sealed)
            l1 = get_l1_progress(self.l1.rollup)
        info = get_stored_info(self.l1.rollup, n)
        if n > l1.verified:
            self._verify(sealed, info)
        if n > l1.executed:
            self.submitter.execute(info, sealed.pubdata)
            self.report(Progress("execute", n, 1, 1, "executed"))
            log.info("block %d executed", n)

    def _settle_in_one_call(self, sealed: SealedBlock, l1: L1Progress) -> bool:
        """Commits, verifies and executes block ``n`` in one transaction where its proof is made
        already and every earlier block is verified (``commitVerifyExecuteBatch``, about 70k
        gas less than the three calls); returns whether it did. Otherwise, or where L1 refuses
        the call (which then changes nothing there), the separate calls follow: commit now,
        verify once the proof is there, and revert on L1 if it is refused."""
        n = sealed.number
        if n != l1.verified + 1 or not isinstance(self.proofs.get(n), ReadyProof):
            return False
        self._check_fresh(sealed)
        proof = self._get_proof(n)
        last = get_stored_info(self.l1.rollup, n - 1)
        self.report(Progress("commit", n, 0, 1, "commitVerifyExecuteBatch"))
        try:
            self.submitter.commit(
                last, n, sealed.block.timestamp, sealed.state_root, sealed.pubdata, proof
            )
        except SubmitError as e:
            log.warning("block %d: one call refused (%s); committing and verifying apart", n, e)
            return False
        self.proof_failures.pop(n, None)
        for stage, done in (("commit", "committed"), ("verify", "verified")):
            self.report(Progress(stage, n, 1, 1, done))
        if l1.executed + 1 == n:
            self.report(Progress("execute", n, 1, 1, "executed"))
        log.info("block %d committed, verified and executed in one call", n)
        return True

    def _check_fresh(self, sealed: SealedBlock) -> None:
        """Takes the block back where commitBatch would soon refuse its timestamp."""
        now = self._get_l1_time()
        if sealed.block.timestamp + BATCH_TIMESTAMP_MAX_AGE_S < now + STALE_MARGIN_S:
            age = now - sealed.block.timestamp
            raise RetakeBlock(sealed.number, f"sealed {age} s ago, too old for commitBatch", False)

    def _commit(self, sealed: SealedBlock) -> None:
        n = sealed.number
        self._check_fresh(sealed)
        last = get_stored_info(self.l1.rollup, n - 1)
        self.report(Progress("commit", n, 0, 1, "commitBatch"))
        self.submitter.commit(last, n, sealed.block.timestamp, sealed.state_root, sealed.pubdata)
        self.report(Progress("commit", n, 1, 1, "committed"))
        log.info("block %d committed", n)

    def _verify(self, sealed: SealedBlock, info: StoredBatchInfo) -> None:
        n = sealed.number
        proof = self._get_proof(n)
        self.report(Progress("verify", n, 0, 1, "verifyBatch"))
        try:
            self.submitter.verify(info, proof)
        except SubmitError as e:
            raise RetakeBlock(n, f"L1 refused its proof: {e}", True) from e
        self.proof_failures.pop(n, None)
        self.report(Progress("verify", n, 1, 1, "verified"))
        log.info("block %d verified", n)

    def _start_proofs(self, verified: int) -> None:
        """Builds the witnesses of the unfinished blocks, in order, and starts their proofs,
        up to the pool's capacity ahead (a block L1 verified, or whose proof is stored, only
        moves the proving state on). Stops at a block whose proof could not start."""
        pool = self.pool
        for sealed in self.unfinished[: pool.capacity]:
            pending = self.proofs.get(sealed.number)
            if isinstance(pending, FailedProof):
                return
            if pending is None:
                self.proofs[sealed.number] = self._start_proof(pool, sealed, verified)

    def _start_proof(self, pool: ProofPool, sealed: SealedBlock, verified: int) -> PendingProof:
        n = sealed.number
        stored = None if n <= verified else self.store.get_proof(n)
        if n <= verified or stored is not None:
            process_block(self.proving_state, sealed.block)
            pending: PendingProof = ReadyProof(stored or b"")
        else:
            pending = pool.start_block(self.proving_state, sealed.block, self.report)
            if isinstance(pending, FailedProof):
                return pending
        if update_state_root(self.proving_state) != sealed.state_root:
            error = OperatorError(f"block {n}: the proven state's root is not the sealed root")
            return FailedProof(error)
        return pending

    def _get_proof(self, n: int) -> bytes:
        """Block ``n``'s proof (stored once made); a prover that fails, whatever the reason,
        makes the block be taken back."""
        try:
            proof = self.proofs[n].result()
        except OperatorError:
            raise
        except Exception as e:
            reason = f"the prover failed: {type(e).__name__}: {e}"
            raise RetakeBlock(n, reason, True) from e
        if self.store.get_proof(n) is None:
            self.store.set_proof(n, proof)
        return proof

    # -- taking blocks back ---------------------------------------------------------------------

    def retake_blocks(self, failure: RetakeBlock) -> None:
        """Takes back block ``failure.number`` and every block after it (reverting those
        committed on L1), then seals as many blocks again from the same log and queue."""
        n = failure.number
        log.log(
            logging.ERROR if failure.proof_failed else logging.WARNING,
            "block %d taken back: %s", n, failure.reason,
        )  # fmt: skip
        l1 = get_l1_progress(self.l1.rollup)
        if l1.verified >= n:  # someone else proved it meanwhile: nothing to take back
            self.rebuild()
            return
        if l1.committed >= n:
            self._revert_on_l1(n, l1.committed, failure.reason)
        taken = self.store.discard_blocks_from(n)
        hopeless = failure.proof_failed and self._count_proof_failure(n)
        l2_seqs = taken[0].l2_seqs if taken else ()
        if hopeless and l2_seqs:
            self.store.drop_txs(l2_seqs, n, f"ProofFailed: {failure.reason}")
            for seq in l2_seqs:
                log.warning("block %d dropped transaction #%d: its block failed %d proofs",
                            n, seq, MAX_PROOF_ATTEMPTS)  # fmt: skip
        self.rebuild()
        for _ in taken:
            if self.seal_block("re-sealed") is None:
                break
        if hopeless and not l2_seqs:  # the same requests must come first: try again later
            raise OperatorError(
                f"block {n} of L1 requests alone failed {MAX_PROOF_ATTEMPTS} proofs"
            )

    def _revert_on_l1(self, first: int, last: int, reason: str) -> None:
        infos = [get_stored_info(self.l1.rollup, k) for k in range(last, first - 1, -1)]
        self.report(Progress("revert", first, 0, 1, "revertBatches"))
        self.submitter.revert(infos)
        self.report(Progress("revert", first, 1, 1, "reverted"))
        log.warning("batches %d..%d reverted on L1 (%s)", first, last, reason)

    def _count_proof_failure(self, n: int) -> bool:
        """Counts a failed proof of block ``n``; True once it failed MAX_PROOF_ATTEMPTS times
        in a row (the count starts again)."""
        failures = self.proof_failures[n] = self.proof_failures.get(n, 0) + 1
        if failures < MAX_PROOF_ATTEMPTS:
            return False
        del self.proof_failures[n]
        return True

    def _get_l1_time(self) -> int:
        return int(self.l1.w3.eth.get_block("latest")["timestamp"])
