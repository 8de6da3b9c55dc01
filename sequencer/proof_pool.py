"""How the operator gets its blocks proven: one at a time in its own process, or many at once.

A block's witness depends on the state before it, so witnesses are built one after another, in
the operator's process, on its proving state. The proof that follows depends on nothing but
that witness, so the proofs of consecutive sealed blocks can run side by side. A ``ProofPool``
does exactly that split: ``start_block`` builds the block's witness here (leaving the state
after the block) and starts its proof; the ``PendingProof`` it returns gives the proof when
asked. The operator keeps up to ``capacity`` proofs in flight and submits them to L1 in order.

``InProcessPool`` wraps a ``BlockProver`` (the in-process prover, or a test's): it proves at
once, in ``start_block``, one block at a time (capacity 1). ``sequencer.ray_pool`` proves on
Ray workers. ``get_proof_pool`` is where the operator takes either.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from protocol.block import Block
from protocol.state import State
from sequencer.progress import ProgressCallback


class BlockProver(Protocol):
    """Proves one block: reads the paths from ``state`` (the state before ``block``), leaves
    ``state`` after it, and returns the 512-byte proof ``verifyBatch`` takes."""

    def prove_block(self, state: State, block: Block, report: ProgressCallback) -> bytes: ...


class PendingProof(Protocol):
    """A block's proof, started."""

    def result(self) -> bytes:
        """The proof, waiting for it if need be; raises what made the proof fail."""
        ...


@runtime_checkable
class ProofPool(Protocol):
    """Proves up to ``capacity`` consecutive blocks at once."""

    @property
    def capacity(self) -> int: ...

    def start_block(self, state: State, block: Block, report: ProgressCallback) -> PendingProof:
        """Builds ``block``'s witness from ``state`` (leaving ``state`` after the block) and
        starts its proof."""
        ...


class ReadyProof:
    """A proof already made."""

    def __init__(self, proof: bytes) -> None:
        self.proof = proof

    def result(self) -> bytes:
        return self.proof


class FailedProof:
    """A proof that failed before it could start (the witness, or the prover, raised)."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def result(self) -> bytes:
        raise self.error


class InProcessPool:
    """A ``BlockProver`` as a pool of one: ``start_block`` proves the block there and then."""

    capacity = 1

    def __init__(self, prover: BlockProver) -> None:
        self.prover = prover

    def start_block(self, state: State, block: Block, report: ProgressCallback) -> PendingProof:
        try:
            return ReadyProof(self.prover.prove_block(state, block, report))
        except Exception as e:
            return FailedProof(e)


def get_proof_pool(prover: BlockProver | ProofPool) -> ProofPool:
    """``prover`` itself if it is a pool; a ``BlockProver`` proves one block at a time here."""
    if isinstance(prover, ProofPool):
        return prover
    return InProcessPool(prover)
