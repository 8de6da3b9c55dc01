"""The prover worker: the witness builder (``sequencer.witness``) and the Groth16 prover on the
block and exit circuits, with their keys set up once and cached (``prover.setup``, named by
circuit digest, so a changed circuit never meets a stale key).

A block proof reports its stages through the progress callback: ``witness`` (the paths and
values of every slot), ``prove`` (heartbeats while the prover runs, against the time the last
proof of the same circuit took, or an estimate from the domain size the first time), and every
proof is checked with ``prover.groth16.verify`` before it goes to L1.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from circuits.exit import build_exit_circuit
from circuits.r1cs import ConstraintSystem
from protocol.blob import DataAvailability
from protocol.block import Block
from protocol.params import Preset
from protocol.state import State
from prover.encoding import proof_to_bytes
from prover.groth16 import Prover, verify
from prover.keys import ProvingKey
from prover.setup import load_or_setup
from prover.solidity import generate_verifier
from sequencer.progress import Progress, ProgressCallback, heartbeat, ignore_progress
from sequencer.witness import build_block_inputs, build_exit_witness, get_block_system

SECONDS_PER_DOMAIN_POINT = 2e-4  # first-proof estimate on this 2-core machine, refined after

log = logging.getLogger("zkperp.prover")


class ProofError(RuntimeError):
    """A proof the prover made does not verify (never sent to L1)."""


@dataclass
class CircuitProver:
    """One circuit's key, decoded once, and the measured time of its last proof."""

    name: str
    key: ProvingKey
    prover: Prover
    timings: Path  # a small JSON file: circuit digest -> seconds of the last proof

    @classmethod
    def load(cls, cs: ConstraintSystem, name: str, preset: Preset, keys_dir: Path) -> CircuitProver:
        key = load_or_setup(cs, name, preset.name, keys_dir)
        return cls(name, key, Prover(key), keys_dir / "timings.json")

    def get_expected_seconds(self) -> float:
        known = self._read_timings().get(self.key.circuit_digest.hex())
        return float(known) if known else SECONDS_PER_DOMAIN_POINT * (1 << self.key.log_size)

    def prove(self, cs: ConstraintSystem, witness: list[int], report: ProgressCallback,
              batch: int) -> bytes:  # fmt: skip
        """The proof (EIP-2537 bytes) of ``witness``, checked against the verifying key."""
        start = time.monotonic()
        with heartbeat(report, "prove", batch, self.get_expected_seconds()):
            proof = prove_checked(self.prover, cs, witness, self.name)
        seconds = time.monotonic() - start
        self.record_time(seconds)
        log.info("%s proof of batch %d made in %.1f s", self.name, batch, seconds)
        return proof

    def _read_timings(self) -> dict[str, float]:
        return json.loads(self.timings.read_text()) if self.timings.exists() else {}

    def record_time(self, seconds: float) -> None:
        """Remembers ``seconds`` as the time of this circuit's last proof."""
        timings = self._read_timings()
        timings[self.key.circuit_digest.hex()] = round(seconds, 2)
        fd, tmp = tempfile.mkstemp(prefix=".timings.", suffix=".tmp", dir=self.timings.parent)
        with os.fdopen(fd, "w") as out:  # a file of its own: provers in other processes too
            os.fchmod(out.fileno(), 0o644)  # as a plain write leaves it, not mkstemp's 0600
            out.write(json.dumps(timings, indent=1))
        os.replace(tmp, self.timings)


def prove_checked(prover: Prover, cs: ConstraintSystem, witness: list[int], name: str) -> bytes:
    """The proof (EIP-2537 bytes) of ``witness``, refused (ProofError) unless it verifies
    against the key's verifying key: what goes to L1 has been checked where it was made."""
    proof = prover.prove(cs, witness)
    if not verify(prover.pk.vk, cs.public_inputs(witness), proof):
        raise ProofError(f"the {name} proof does not verify")
    return proof_to_bytes(proof)


class ExitCircuitProver:
    """The exit circuit's prover alone (what a user leaving in desert mode needs)."""

    def __init__(self, preset: Preset, exit_: CircuitProver) -> None:
        self.preset = preset
        self.exit = exit_

    @classmethod
    def load(cls, preset: Preset, keys_dir: Path) -> ExitCircuitProver:
        cs, _ = build_exit_circuit(preset)
        return cls(preset, CircuitProver.load(cs, "exit", preset, keys_dir))

    def prove_exit(self, state: State, account: int) -> tuple[bytes, int, bytes]:
        """``(owner, amount, proof)`` for ``account`` in ``state`` (the last verified one),
        owner and amount as the circuit exposes them."""
        cs, witness = build_exit_circuit(self.preset, build_exit_witness(state, account))
        assert witness is not None  # witness mode
        _, _, owner, amount = cs.public_inputs(witness)
        proof = self.exit.prove(cs, witness, ignore_progress, 0)
        return owner.to_bytes(20, "big"), amount, proof


class CircuitProvers:
    """The block and exit provers of one deployment (its preset and chain id): a
    ``BlockProver`` for the operator and an ``ExitProver`` for the escape hatch."""

    def __init__(self, chain_id: int, block: CircuitProver, exit_: ExitCircuitProver) -> None:
        self.chain_id = chain_id
        self.block = block
        self.exit = exit_
        # where the deployment posts pubdata: the digest the block witness carries depends on it
        self.data = DataAvailability.CALLDATA

    @classmethod
    def load(cls, preset: Preset, chain_id: int, keys_dir: Path) -> CircuitProvers:
        """Loads both keys from ``keys_dir``, setting up (and caching) any that is missing."""
        block = CircuitProver.load(get_block_system(preset, chain_id), "block", preset, keys_dir)
        return cls(chain_id, block, ExitCircuitProver.load(preset, keys_dir))

    def generate_verifiers(self) -> dict[str, str]:
        """Solidity sources of the two verifiers, by contract name."""
        return {
            "BlockVerifier": generate_verifier(self.block.key.vk, "BlockVerifier"),
            "ExitVerifier": generate_verifier(self.exit.exit.key.vk, "ExitVerifier"),
        }

    def prove_exit(self, state: State, account: int) -> tuple[bytes, int, bytes]:
        return self.exit.prove_exit(state, account)

    def prove_block(
        self, state: State, block: Block, report: ProgressCallback = ignore_progress
    ) -> bytes:
        """Applies ``block`` to ``state`` (the state before it) and proves it."""
        cs, witness = self.build_block_witness(state, block, report)
        return self.block.prove(cs, witness, report, block.number)

    def build_block_witness(
        self, state: State, block: Block, report: ProgressCallback = ignore_progress
    ) -> tuple[ConstraintSystem, list[int]]:
        """Applies ``block`` to ``state`` (the state before it) and returns the block circuit
        with its witness: the serial half of a proof (``sequencer.ray_pool`` ships the rest)."""
        n = block.number
        report(Progress("witness", n, 0, 1, f"{len(block.operations)} operations"))
        cs, witness = build_block_inputs(state, block, self.data)
        report(Progress("witness", n, 1, 1, f"{cs.num_wires:,} wires"))
        log.info("block %d witness built: %d wires", n, cs.num_wires)
        return cs, witness
