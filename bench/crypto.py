"""Cryptographic core: Poseidon (plain, optimized in Python, native), sparse-Merkle updates, EdDSA.

Run: ``.venv/bin/python bench/crypto.py [--quick]`` (results in docs/PERFORMANCE.md; ``--quick``
is a small run of every part, what the tests run).
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable

from bench.common import median_seconds, print_row, rate
from protocol import eddsa, native, poseidon
from protocol.field import R
from protocol.params import PRESETS
from protocol.smt import SparseMerkleTree

RNG = random.Random(20261124)
HASHES = 200  # per timed run
BATCH = 256  # leaf updates per block-like batch
SIGNATURES = 20


def permutation_rate(perm: Callable[[list[int]], list[int]], states: list[list[int]]) -> float:
    return rate(len(states), median_seconds(lambda: [perm(s) for s in states]))


def bench_poseidon(hashes: int = HASHES) -> None:
    for width, name in ((3, "hash2"), (5, "hash4")):
        states = [[RNG.randrange(R) for _ in range(width)] for _ in range(hashes)]
        plain = permutation_rate(poseidon.permute_plain, states)
        ints = permutation_rate(poseidon.permute_int, states)
        python = permutation_rate(poseidon.permute_python, states)
        number = "gmpy2" if poseidon.GMP else "int"
        label = f"poseidon t={width} ({name})"
        print_row(f"{label} permute_plain", plain, "perm/s")
        print_row(f"{label} permute_int, vs plain", ints, "perm/s", peer=plain)
        print_row(f"{label} permute_python ({number}), vs int", python, "perm/s", ints)
        if poseidon.BACKEND == "native":
            fast = permutation_rate(poseidon.permute, states)
            print_row(f"{label} permute (native), vs python", fast, "perm/s", python)


def timed_updates(depth: int, count: int, batched: bool) -> float:
    """Seconds for ``count`` leaf updates, rehashed once at the end or after each update."""
    indices = RNG.sample(range(1 << depth), count)
    leaves = [RNG.randrange(1, R) for _ in indices]

    def run() -> None:
        tree = SparseMerkleTree(depth)
        for index, leaf in zip(indices, leaves, strict=True):
            tree.set(index, leaf)
            if not batched:
                tree.root()
        tree.root()

    return median_seconds(run, repeat=3)


def bench_smt(batch: int = BATCH) -> None:
    for preset in PRESETS.values():
        depth = preset.account_tree_depth
        count = min(batch, 1 << depth)
        batched = rate(count, timed_updates(depth, count, batched=True))
        single = rate(count, timed_updates(depth, count, batched=False))
        print_row(f"smt {preset.name} (depth {depth}) batch of {count}", batched, "updates/s")
        print_row(f"smt {preset.name} (depth {depth}) root after each", single, "updates/s")


def bench_eddsa(signatures: int = SIGNATURES) -> None:
    keys = [eddsa.SecretKey.from_seed(RNG.randbytes(32)) for _ in range(signatures)]
    jobs = [(k, RNG.randrange(R)) for k in keys]
    signed = [(k.public_key, m, eddsa.sign(k, m)) for k, m in jobs]
    signing = median_seconds(lambda: [eddsa.sign(k, m) for k, m in jobs])
    verifying = median_seconds(lambda: [eddsa.verify(*s) for s in signed])
    reference = median_seconds(lambda: [eddsa.verify_reference(*s) for s in signed])
    core = "native" if native.NATIVE is not None else "no native core"
    print_row("eddsa sign", rate(len(jobs), signing), "sig/s")
    print_row(
        "eddsa verify_reference (jubjub.py arithmetic)", rate(len(signed), reference), "sig/s"
    )
    print_row(
        f"eddsa verify ({core}), vs reference",
        rate(len(signed), verifying),
        "sig/s",
        peer=rate(len(signed), reference),
    )


def bench_kernels(hashes: int = HASHES, signatures: int = SIGNATURES) -> None:
    """The native core's field multiplications, each in turn: ``adx`` (mulx/adcx/adox assembly,
    where the CPU has BMI2 and ADX) against ``portable`` (C on ``__int128``)."""
    core = native.NATIVE
    if core is None or len(core.kernels()) < 2:
        return
    states = [[RNG.randrange(R) for _ in range(5)] for _ in range(hashes)]
    key = eddsa.SecretKey.from_seed(RNG.randbytes(32))
    signed = [(key.public_key, m, eddsa.sign(key, m)) for m in range(signatures)]
    rates: dict[str, tuple[float, float]] = {}
    default = core.kernel()
    try:
        for kernel in core.kernels():
            core.set_kernel(kernel)
            perms = permutation_rate(core.permute, states)
            sigs = rate(len(signed), median_seconds(lambda: [eddsa.verify(*s) for s in signed]))
            rates[kernel] = (perms, sigs)
    finally:
        core.set_kernel(default)
    print_row(
        "poseidon t=5 native, adx vs portable", rates["adx"][0], "perm/s", rates["portable"][0]
    )
    print_row(
        "eddsa verify, one key, adx vs portable", rates["adx"][1], "sig/s", rates["portable"][1]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small run (what the tests run)")
    quick = parser.parse_args().quick
    bench_poseidon(20 if quick else HASHES)
    bench_smt(16 if quick else BATCH)
    bench_eddsa(2 if quick else SIGNATURES)
    bench_kernels(20 if quick else HASHES, 2 if quick else SIGNATURES)


if __name__ == "__main__":
    main()
