"""Engine benchmark: orders per second through the rules, and the sealing stage apart.

Workload (``--orders``, default 100,000): 10,000 funded accounts, 8 markets, the ``mainnet``
preset's widths and depths; a mix of resting limit orders near the mid (55 %), cancels of a
resting order (25 %) and crossing orders (20 %: IOC limits and market orders that take one or
more makers, each maker a step, with the claims counted inside the order). Every order passes
every rule: nonce, expiry, field and band checks, matching, fees, the valid-risk-change rule on
both sides of every fill, open-interest and open-order limits. Signatures are verified at
admission, before the engine (``Config.check_signatures`` off here; ``bench/crypto.py`` measures
verification), exactly as the sequencer's API does. Nothing on this path hashes.

Sealing (the witness stage) is timed apart: ``update_state_root`` over the leaves a block of the
workload dirtied, reported as leaf updates per second (the median of ``--seal-repeat`` runs, and
where the native core is built, the same runs without it in a child process and the ratio) and
blocks sealed per second.

The engine is the compiled one when ``make setup`` built it for these sources, else the
interpreted rules; ``ZKPERP_ENGINE=pure`` or ``compiled`` chooses (``protocol/__init__.py``), and
the first line printed says which ran.

Orders per second count the CPU time spent inside the engine (``time.process_time``, less the
timer's own system call), which is what one dedicated core gives; latencies are wall clock, so
on a shared machine their tail includes time the process waited for a core. Prints figures,
then, last, ``orders/s: N``.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import subprocess
import sys
import time

import protocol
from bench.common import print_row, rate
from protocol import native
from protocol.accounts import FIRST_USER_ACCOUNT
from protocol.block import (
    process_block_header,
    process_operation,
    process_operation_with_claims,
)
from protocol.commitment import update_state_root
from protocol.errors import InvalidTransaction
from protocol.markets import MarketParams
from protocol.ops.cancel_order import CancelOrder
from protocol.ops.create_order import CreateOrder, OrderKind, TimeInForce
from protocol.ops.deposit import Deposit
from protocol.ops.register_key import decode_pubkey
from protocol.params import MAINNET
from protocol.state import State, make_genesis

ACCOUNTS, MARKETS, MID = 10_000, 8, 100_000
FAR = (1 << 40) - 1
PARAMS = MarketParams(price_band=100_000, impact_notional=10**8, max_open_interest=1 << 40)
KEY = bytes.fromhex("6ea6c27284a761e9ebb444268b9a0dec00807431a44a2351936929ff47aa7871")


def make_state(accounts: int) -> State:
    """Genesis, then ``accounts`` deposits and key registrations (one key decoded once)."""
    preset = MAINNET.with_overrides(ops_per_block=1 << 20)
    state = make_genesis(preset, 1, [(PARAMS, MID)] * MARKETS, check_signatures=False)
    process_block_header(state, 1, 1_000)
    key = decode_pubkey(KEY)
    assert key is not None
    with state.transaction():
        for index in range(FIRST_USER_ACCOUNT, FIRST_USER_ACCOUNT + accounts):
            process_operation(state, Deposit(index, index.to_bytes(20, "big"), 10**12))
            state.set_account_field(state.accounts[index], "pubkey", (key.x, key.y))
    return state


class Workload:
    """Draws the next order of the mix against the current state (not timed)."""

    def __init__(self, state: State, seed: int) -> None:
        self.state, self.rng = state, random.Random(seed)
        self.accounts = len(state.accounts) - FIRST_USER_ACCOUNT

    def next(self) -> object:
        rng, state = self.rng, self.state
        account = FIRST_USER_ACCOUNT + rng.randrange(self.accounts)
        nonce, market = state.accounts[account].nonce, rng.randrange(MARKETS)
        roll = rng.random()
        if roll < 0.25 and state.accounts[account].orders:
            _, m, key = min(state.accounts[account].orders)
            return CancelOrder(account, nonce, FAR, m, key)
        is_ask = rng.random() < 0.5
        size = rng.randrange(1, 20)
        if roll < 0.80:
            offset = rng.randrange(1, 200)
            price = MID + offset if is_ask else MID - offset
            return CreateOrder(account, nonce, FAR, market, is_ask, size, price)
        if roll < 0.90:
            price = MID - 200 if is_ask else MID + 200
            return CreateOrder(
                account, nonce, FAR, market, is_ask, size, price, time_in_force=TimeInForce.IOC
            )
        worst = 1 if is_ask else 2 * MID
        return CreateOrder(
            account,
            nonce,
            FAR,
            market,
            is_ask,
            size,
            worst,
            kind=OrderKind.MARKET,
            time_in_force=TimeInForce.IOC,
        )


def measure_timer_overhead(samples: int = 20_000) -> int:
    """CPU ns an empty window of ``run_orders`` reads (``process_time_ns`` is a system call,
    about 1 us here): the median, subtracted per order so that the timer is not counted."""
    wall, process = time.perf_counter_ns, time.process_time_ns
    windows = []
    for _ in range(samples):
        c0 = process()
        wall()
        wall()
        windows.append(process() - c0)
    return int(statistics.median(windows))


def run_orders(state: State, count: int, seed: int) -> tuple[float, list[int], int]:
    """Processes ``count`` orders; returns the engine's CPU seconds, per-order wall-clock
    latencies (ns) and the number the rules rejected. CPU time is what one dedicated core
    would spend (this machine's two cores are shared, so wall time includes waiting); the
    wall-clock window sits inside the CPU one, so neither latency nor CPU counts the other
    timer's system call, and the CPU window's own cost is subtracted."""
    workload, latencies, rejected, cpu = Workload(state, seed), [], 0, 0
    wall, process = time.perf_counter_ns, time.process_time_ns
    overhead = measure_timer_overhead()
    for _ in range(count):
        op = workload.next()
        c0 = process()
        t0 = wall()
        try:
            process_operation_with_claims(state, op)  # type: ignore[arg-type]
        except InvalidTransaction:
            rejected += 1
        t1 = wall()
        cpu += process() - c0 - overhead
        latencies.append(t1 - t0)
    return cpu / 1e9, latencies, rejected


def dirty_leaves(state: State) -> int:
    d = state.dirty
    return len(d.accounts) + len(d.positions) + len(d.orders) + len(d.triggers) + len(d.markets)


def measure_sealing(
    accounts: int, blocks: int, block_orders: int, seed: int
) -> tuple[float, float]:
    """Sealing on its own state (the cost of a leaf depends on the tree depths, not on how many
    leaves exist): the first root is built untimed, then each block's dirty leaves are. Returns
    the CPU seconds and the leaves rehashed."""
    state = make_state(accounts)
    run_orders(state, 20 * accounts, seed)
    update_state_root(state)
    leaves = seconds = 0.0
    for b in range(blocks):
        run_orders(state, block_orders, seed + 1 + b)
        leaves += dirty_leaves(state)
        t0 = time.process_time()
        update_state_root(state)
        seconds += time.process_time() - t0
    return seconds, leaves


def measure_sealing_reference(args: list[int]) -> float:
    """Leaf updates / s of ``measure_sealing(*args)`` with the native core left out
    (``ZKPERP_NATIVE=pure``: Poseidon on gmpy2 or ints), in a child process."""
    code = f"from bench.engine import measure_sealing as m; s, n = m(*{args!r}); print(n / s)"
    env = {**os.environ, "ZKPERP_NATIVE": "pure"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"the reference sealing run failed: {done.stderr[-2000:]}")
    return float(done.stdout.split()[-1])


def bench_sealing(accounts: int, blocks: int, block_orders: int, repeat: int) -> None:
    """Median of ``repeat`` sealing runs, and the same runs without the native core (the
    reference) where it is built: their ratio, taken in this run."""
    runs = [measure_sealing(accounts, blocks, block_orders, seed=3 + 7 * r) for r in range(repeat)]
    speeds = [rate(int(leaves), seconds) for seconds, leaves in runs]
    speed = statistics.median(speeds)
    peer = None
    if native.NATIVE is not None:
        jobs = [[accounts, blocks, block_orders, 3 + 7 * r] for r in range(repeat)]
        peer = statistics.median(measure_sealing_reference(job) for job in jobs)
    core = "native" if native.NATIVE is not None else "no native core"
    label = f"sealing: leaf updates / s ({block_orders}-order blocks, {core})"
    print_row(label, speed, "leaves/s", peer=peer)
    for s in speeds:
        print_row("  run", s, "leaves/s")
    seconds, leaves = runs[0]
    print_row("sealing: blocks sealed / s", rate(blocks, seconds), "blocks/s")
    print_row("sealing: dirty leaves per order", leaves / (blocks * block_orders), "leaves")


def measure(orders: int, seed: int) -> tuple[float, list[int], int, int]:
    """One run on a fresh state: a 20,000-order warm-up that fills the books, then ``orders``
    measured; returns orders/s, sorted per-order latencies (ns), rejections, resting orders."""
    state = make_state(ACCOUNTS)
    run_orders(state, 20_000, seed)
    gc.freeze()  # as `zkperp operator run` does once its state is rebuilt
    seconds, latencies, rejected = run_orders(state, orders, seed + 1)
    gc.unfreeze()
    resting = sum(len(m.book.orders) for m in state.markets)
    return rate(orders, seconds), sorted(latencies), rejected, resting


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seal-accounts", type=int, default=100)
    parser.add_argument("--seal-blocks", type=int, default=3)
    parser.add_argument("--seal-block-orders", type=int, default=50)
    parser.add_argument("--seal-repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a small run (what the tests run)")
    args = parser.parse_args()
    if args.quick:
        args.orders, args.repeat = 2_000, 1
        args.seal_accounts, args.seal_blocks, args.seal_block_orders = 20, 1, 20
        args.seal_repeat = 1
    runs = sorted((measure(args.orders, 2 * r + 1) for r in range(args.repeat)), key=lambda r: r[0])
    speed, latencies, rejected, resting = runs[len(runs) // 2]  # the median run
    engine = f"compiled ({protocol.ENGINE.name})" if protocol.ENGINE else "interpreted"
    print(f"engine: {engine} (ZKPERP_ENGINE={os.environ.get('ZKPERP_ENGINE', 'auto')})")
    print_row(f"orders per run ({ACCOUNTS:,} accounts, {MARKETS} markets)", args.orders, "orders")
    print_row("orders rejected by the rules (median run)", rejected, "orders")
    print_row("resting orders at the end (median run)", resting, "orders")
    print_row("latency p50", latencies[len(latencies) // 2] / 1e3, "us")
    print_row("latency p99", latencies[int(0.99 * len(latencies))] / 1e3, "us")
    print_row(
        f"orders/s, median of {args.repeat} runs", statistics.median(r[0] for r in runs), "orders/s"
    )
    for run in runs:
        print_row("  run", run[0], "orders/s")
    bench_sealing(args.seal_accounts, args.seal_blocks, args.seal_block_orders, args.seal_repeat)
    print(f"orders/s: {int(speed)}", flush=True)


if __name__ == "__main__":
    main()
