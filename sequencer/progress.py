"""Progress reports: what the operator is doing and how far along it is, through a callback.

Stages, in the order a batch goes through them: ``watch`` (L1 requests taken), ``build`` (a
block sealed), ``witness`` (per operation), ``prove`` (heartbeats while the Groth16 prover
runs, with the elapsed time against the expected time), ``commit``, ``verify``, ``execute``;
and ``revert`` when batches are reverted on L1 to be sealed again (``sequencer.operator``).
The CLI draws them as rich progress bars; tests collect them in a list.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    stage: str
    batch: int
    done: float  # in units of ``total``
    total: float
    message: str = ""


ProgressCallback = Callable[[Progress], None]


def ignore_progress(progress: Progress) -> None:
    """The default callback: reports nothing."""


@contextmanager
def heartbeat(
    report: ProgressCallback, stage: str, batch: int, expected_s: float, every_s: float = 0.5
) -> Iterator[None]:
    """Reports ``stage`` every ``every_s`` seconds while the block runs (elapsed seconds out of
    ``expected_s``, never past 99% until it is done), then 100%."""
    stop = threading.Event()
    start = time.monotonic()

    def beat() -> None:
        while not stop.wait(every_s):
            elapsed = time.monotonic() - start
            done = min(elapsed, 0.99 * expected_s)
            report(Progress(stage, batch, done, expected_s, f"{elapsed:.0f} s"))

    thread = threading.Thread(target=beat, name=f"{stage}-heartbeat", daemon=True)
    report(Progress(stage, batch, 0.0, expected_s, "started"))
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
    elapsed = time.monotonic() - start
    report(Progress(stage, batch, expected_s, expected_s, f"done in {elapsed:.1f} s"))
