"""Until the block circuit lands: a block prover on the contract tests' stand-in circuit (real
Groth16 over the three real public inputs, checking nothing else)."""

from __future__ import annotations

from protocol import pubdata
from protocol.block import Block, process_block
from protocol.commitment import update_state_root
from protocol.state import State
from scripts.compile import Artifact
from sequencer.progress import ProgressCallback
from tests.contracts.support import get_provers


class StandInBlockProver:
    def __init__(self) -> None:
        self.block, self.exit = get_provers()

    @property
    def verifiers(self) -> tuple[Artifact, Artifact]:
        return self.block.verifier, self.exit.verifier

    def prove_block(self, state: State, block: Block, report: ProgressCallback) -> bytes:
        old = update_state_root(state)
        result = process_block(state, block)
        commitment = pubdata.compute_commitment(block.timestamp, b"".join(result.records))
        return self.block.prove([old, update_state_root(state), commitment])


class StandInExitProver:
    def __init__(self) -> None:
        self.exit = get_provers()[1]

    def prove_exit(self, state: State, account: int) -> tuple[bytes, int, bytes]:
        found = state.accounts[account]
        root = update_state_root(state)
        owner = int.from_bytes(found.owner, "big")
        return (
            found.owner,
            found.collateral,
            self.exit.prove([root, account, owner, found.collateral]),
        )
