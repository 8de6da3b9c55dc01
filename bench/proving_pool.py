"""Proven operations per second: the operator's proving pipeline, in process and on Ray workers.

Blocks full of deposits (every slot used) are proven from genesis the way the operator proves
them (``Operator._start_proofs``): witnesses built in order on one proving state, up to the
pool's capacity of proofs in flight, results taken in block order. First in this process (the
default operator: one block at a time), then on a local Ray instance with each worker count
(workers started and their keys loaded before the clock starts). No L1 here: commit, verify and
execute are serial and measured apart (docs/PERFORMANCE.md). It also times the witnesses
alone, the serial part of proving: with proofs spread over enough workers, one block per
witness time is the most the operator proves.

    .venv/bin/python bench/proving_pool.py [--preset minimal] [--blocks 4] [--workers 1 2] [--quick]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder heads sys.path; bench is an installed package.
if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import os
import time
from collections import deque

from protocol.block import Block
from protocol.ops.deposit import Deposit
from protocol.params import Preset, get_preset
from protocol.state import State, make_genesis
from scripts.devnet import CHAIN_ID
from scripts.paths import BUILD
from sequencer.progress import ignore_progress
from sequencer.proof_pool import InProcessPool, PendingProof, ProofPool
from sequencer.prover_worker import CircuitProvers

KEYS_DIR = BUILD / "keys"
DEPOSIT = 1_000_000


def make_blocks(preset: Preset, count: int) -> list[Block]:
    """``count`` blocks, each a deposit to accounts 3, 4, ... in every operation slot (the
    market slots after them stay noops: the state has no market)."""
    accounts = range(3, 3 + preset.operation_slots)
    assert accounts[-1] < preset.max_accounts
    ops = tuple(Deposit(a, a.to_bytes(20, "big"), DEPOSIT) for a in accounts)
    return [Block(n, 1_000 + n, ops) for n in range(1, count + 1)]


def prove_all(pool: ProofPool, state: State, blocks: list[Block]) -> float:
    """Seconds to prove ``blocks`` from ``state`` with ``pool``, as the operator does."""
    start = time.perf_counter()
    pending: deque[PendingProof] = deque()
    for block in blocks:
        if len(pending) == pool.capacity:
            pending.popleft().result()
        pending.append(pool.start_block(state, block, ignore_progress))
    while pending:
        pending.popleft().result()
    return time.perf_counter() - start


def witness_seconds(provers: CircuitProvers, state: State, blocks: list[Block]) -> float:
    """Seconds per block to build the witnesses alone: the serial part of proving."""
    start = time.perf_counter()
    for block in blocks:
        provers.build_block_witness(state, block)
    return (time.perf_counter() - start) / len(blocks)


def report(label: str, blocks: list[Block], seconds: float) -> None:
    ops = sum(len(b.operations) for b in blocks)
    print(f"{label:<24} {len(blocks)} blocks, {ops} ops in {seconds:7.1f} s: "
          f"{len(blocks) / seconds:6.3f} blocks/s, {ops / seconds:6.3f} proven ops/s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="minimal")
    parser.add_argument("--blocks", type=int, default=4)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument(
        "--quick", action="store_true", help="one minimal block, in process (what the tests run)"
    )
    args = parser.parse_args()
    if args.quick:
        args.preset, args.blocks, args.workers = "minimal", 1, []
    preset = get_preset(args.preset)
    provers = CircuitProvers.load(preset, CHAIN_ID, KEYS_DIR)
    blocks = make_blocks(preset, args.blocks)
    print(
        f"{preset.name}: {preset.operation_slots} ops per block (and {preset.market_slots} "
        f"market slots); {os.cpu_count()} CPUs here"
    )
    witness = witness_seconds(provers, make_genesis(preset, CHAIN_ID, ()), blocks)
    seconds = prove_all(InProcessPool(provers), make_genesis(preset, CHAIN_ID, ()), blocks)
    report("in process", blocks, seconds)
    per_block = seconds / len(blocks)
    print(f"witness alone {witness:.2f} s of {per_block:.2f} s per block in process: at most "
          f"{per_block / witness:.1f} workers busy, whatever the machine")  # fmt: skip
    if not args.workers:
        return
    import ray

    from sequencer.ray_pool import RayProofPool

    ray.init(num_cpus=max(args.workers), include_dashboard=False,
             _node_ip_address="127.0.0.1", configure_logging=False)  # fmt: skip
    try:
        for workers in args.workers:
            pool = RayProofPool(provers, preset.name, KEYS_DIR, workers)
            pool.get_worker_pids()  # started, key loaded
            seconds = prove_all(pool, make_genesis(preset, CHAIN_ID, ()), blocks)
            pool.close()
            report(f"Ray, {workers} worker(s)", blocks, seconds)
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
