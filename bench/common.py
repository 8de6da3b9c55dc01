"""Shared helpers for the benchmarks: repeat, take the median, print figures and ratios.

These machines are noisy, so every figure is a median of several runs, and a comparison with a
peer (snarkjs, a plain implementation) is printed as a ratio from the same process run.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(fn: Callable[[], object], repeat: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` over ``repeat`` runs, after ``warmup`` unmeasured runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def rate(count: int, seconds: float) -> float:
    """Operations per second."""
    return count / seconds if seconds > 0 else float("inf")


def print_row(label: str, value: float, unit: str, peer: float | None = None) -> None:
    """One result line; with ``peer``, also the peer's figure and ours / peer."""
    line = f"{label:<48} {value:>14,.3f} {unit}"
    if peer is not None:
        line += f"   peer {peer:,.3f} {unit}   ratio {value / peer:.2f}"
    print(line, flush=True)
