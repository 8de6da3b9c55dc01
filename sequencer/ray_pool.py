"""Block proofs on Ray workers: a ``ProofPool`` (``sequencer.proof_pool``) of Ray actors.

Each worker is a Ray actor that builds the block circuit once (setup mode: the same system the
operator's witnesses satisfy), reads the proving key from the keys folder (by circuit digest;
a worker never sets a key up of its own) and proves the witnesses it is sent. The operator
builds each block's witness in its own process, in order, and sends it to the least busy
worker, so the witness of block N+1 is built while block N is proven.

A worker that dies while it holds a block (killed, out of memory, its node lost) fails that
block's task with ``RayActorError``; the pending proof sends the same witness to another
worker (Ray restarts the dead one) and the operator, waiting for its proofs in block order,
never sees the difference. After ``MAX_WORKER_DEATHS`` deaths on one block, the block fails as
any failed proof does. Nothing reaches L1 from here: the operator submits, in order, once.

``RayProofPool.start_local`` runs Ray embedded in this process (a local instance on
127.0.0.1, no dashboard); ``RayProofPool.join`` connects to a running cluster
(``ray start --head`` on one machine, ``ray start --address`` on the others), whose nodes have
this package installed and the keys folder at the same path.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import RayActorError, RayTaskError, WorkerCrashedError

from protocol.block import Block
from protocol.params import get_preset
from protocol.state import State
from prover.groth16 import Prover
from prover.keys import read_key
from prover.setup import key_path
from sequencer.progress import ProgressCallback, heartbeat
from sequencer.prover_worker import CircuitProvers, prove_checked
from sequencer.witness import get_block_system

MAX_WORKER_DEATHS = 3  # deaths of the worker proving one block before the block fails
LOCAL_OBJECT_STORE_BYTES = 256 << 20  # witnesses only (a devnet one is a few MiB)

log = logging.getLogger("zkperp.prover")


class WorkerLostError(RuntimeError):
    """The workers proving a block died ``MAX_WORKER_DEATHS`` times."""


@dataclass(frozen=True)
class ProofDone:
    """What a worker returns: the proof, the seconds it took, when it was done (the worker's
    wall clock) and the worker's process id."""

    proof: bytes
    seconds: float
    finished_at: float
    pid: int


class BlockProofWorker:
    """A Ray actor: the block circuit of ``preset``/``chain_id`` and the prover on its key."""

    def __init__(self, preset: str, chain_id: int, keys_dir: str) -> None:
        cs = get_block_system(get_preset(preset), chain_id)
        path = key_path(Path(keys_dir), "block", preset, cs)
        self.cs = cs
        self.prover = Prover(read_key(path, cs.digest()))

    def get_pid(self) -> int:
        return os.getpid()

    def prove(self, batch: int, witness: list[int]) -> ProofDone:
        start = time.monotonic()
        proof = prove_checked(self.prover, self.cs, witness, "block")
        return ProofDone(proof, time.monotonic() - start, time.time(), os.getpid())


@dataclass
class PoolEvent:
    """One thing the pool saw happen to a block (for logs, tests and benchmarks)."""

    kind: str  # "sent" (the witness built here, to a worker), "proved", "died" (its worker)
    batch: int
    at: float  # wall clock
    worker: int  # index in the pool
    pid: int = 0  # the worker's process, where known


class RayProofPool:
    """Proves blocks on ``workers`` Ray actors; see the module docstring."""

    def __init__(
        self, provers: CircuitProvers, preset: str, keys_dir: Path, workers: int,
        worker_class: type[BlockProofWorker] = BlockProofWorker,
    ) -> None:  # fmt: skip
        if workers < 1:
            raise ValueError(f"a pool needs at least one worker, not {workers}")
        self.provers = provers
        actor = ray.remote(num_cpus=1, max_restarts=-1)(worker_class)
        args = (preset, provers.chain_id, str(keys_dir.resolve()))
        self.workers: list[Any] = [actor.remote(*args) for _ in range(workers)]
        self.in_flight: list[list[Any]] = [[] for _ in range(workers)]  # task refs per worker
        self.events: list[PoolEvent] = []

    @classmethod
    def start_local(
        cls, provers: CircuitProvers, preset: str, keys_dir: Path, workers: int
    ) -> RayProofPool:
        """A pool on Ray embedded in this process (started unless it runs already)."""
        if not ray.is_initialized():
            ray.init(
                num_cpus=workers,
                include_dashboard=False,
                object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                _node_ip_address="127.0.0.1",
                configure_logging=False,
            )
        return cls(provers, preset, keys_dir, workers)

    @classmethod
    def join(
        cls, address: str, provers: CircuitProvers, preset: str, keys_dir: Path, workers: int
    ) -> RayProofPool:
        """A pool on the Ray cluster at ``address`` (``host:port`` of its head)."""
        if not ray.is_initialized():
            ray.init(address=address, configure_logging=False)
        return cls(provers, preset, keys_dir, workers)

    @property
    def capacity(self) -> int:
        """Blocks in flight: one per worker, and the next one's witness ready."""
        return len(self.workers) + 1

    def get_worker_pids(self) -> list[int]:
        """The workers' process ids (waits for them to start)."""
        return [int(pid) for pid in ray.get([w.get_pid.remote() for w in self.workers])]

    def start_block(self, state: State, block: Block, report: ProgressCallback) -> RayProof:
        """Builds ``block``'s witness here and sends it to the least busy worker."""
        _, witness = self.provers.build_block_witness(state, block, report)
        pending = RayProof(self, block.number, ray.put(witness), report)
        pending.send(avoid=None)
        return pending

    def send(self, batch: int, witness: Any, avoid: int | None) -> tuple[int, Any]:
        """Sends a witness to the worker with the fewest unfinished tasks (not ``avoid``,
        where another is left): its index and the task."""
        for refs in self.in_flight:
            if refs:  # keep the unfinished ones
                refs[:] = ray.wait(refs, num_returns=len(refs), timeout=0)[1]
        candidates = [i for i in range(len(self.workers)) if i != avoid] or [0]
        index = min(candidates, key=lambda i: len(self.in_flight[i]))
        task = self.workers[index].prove.remote(batch, witness)
        self.in_flight[index].append(task)
        self.events.append(PoolEvent("sent", batch, time.time(), index))
        return index, task

    def close(self) -> None:
        """Stops the workers (Ray itself is left as it is)."""
        for worker in self.workers:
            ray.kill(worker)
        self.workers = []


class RayProof:
    """One block's proof on a pool's worker; ``result`` sends it elsewhere if the worker dies."""

    def __init__(self, pool: RayProofPool, batch: int, witness: Any, report: ProgressCallback):
        self.pool = pool
        self.batch = batch
        self.witness = witness  # an object reference: sent again as it is
        self.report = report
        self.worker = -1
        self.task: Any = None
        self.deaths = 0

    def send(self, avoid: int | None) -> None:
        self.worker, self.task = self.pool.send(self.batch, self.witness, avoid)

    def result(self) -> bytes:
        expected = self.pool.provers.block.get_expected_seconds()
        with heartbeat(self.report, "prove", self.batch, expected):
            done = self._wait()
        self.pool.provers.block.record_time(done.seconds)
        self.pool.events.append(PoolEvent("proved", self.batch, done.finished_at, self.worker,
                                          done.pid))  # fmt: skip
        log.info("block proof of batch %d made in %.1f s by worker %d (pid %d)",
                 self.batch, done.seconds, self.worker, done.pid)  # fmt: skip
        return done.proof

    def _wait(self) -> ProofDone:
        while True:
            try:
                done: ProofDone = ray.get(self.task)
                return done
            except (RayActorError, WorkerCrashedError) as e:
                self._worker_died(e)
            except RayTaskError as e:  # the proof itself failed: what the prover raised
                raise (e.cause if isinstance(e.cause, Exception) else e) from e

    def _worker_died(self, error: Exception) -> None:
        self.deaths += 1
        self.pool.events.append(PoolEvent("died", self.batch, time.time(), self.worker))
        if self.deaths >= MAX_WORKER_DEATHS:
            raise WorkerLostError(f"the workers proving batch {self.batch} died {self.deaths} "
                                  f"times; last: {type(error).__name__}")  # fmt: skip
        log.warning("batch %d: prover worker %d died (%s); proving it on another",
                    self.batch, self.worker, type(error).__name__)  # fmt: skip
        self.send(avoid=self.worker)
