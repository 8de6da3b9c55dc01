"""`zkperp prove NAME`, `zkperp verify DIR`, `zkperp verifier solidity NAME`.

Keys are cached under build/keys/, named by circuit, preset and circuit digest: the first
`prove` or `verifier` of a circuit runs setup, later ones load the key.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from circuits.catalog import UnknownCircuitError, build_circuit
from circuits.r1cs import ConstraintSystem
from protocol.params import UnknownPresetError, get_preset
from prover.backend import BACKEND_NAMES, DEFAULT_BACKEND, UnknownBackendError, get_backend
from prover.encoding import MalformedEncodingError, read_proof_dir, write_proof_dir
from prover.groth16 import Prover, verify
from prover.keys import KeyFileError, KeyMismatchError, ProvingKey
from prover.setup import load_or_setup
from prover.solidity import generate_verifier
from scripts.paths import BUILD

KEYS_DIR = BUILD / "keys"
console = Console()
verifier_app = typer.Typer(help="Generate verifier contracts for the toolkit's circuits.")

PresetOption = Annotated[str, typer.Option(help="minimal | devnet | mainnet")]
BackendOption = Annotated[str, typer.Option(help=" | ".join(BACKEND_NAMES))]


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(1)


def _circuit_and_key(
    name: str, preset: str, setup: bool = False
) -> tuple[ConstraintSystem, list[int], ProvingKey]:
    """The circuit, its sample witness (empty with ``setup``) and its key (cached)."""
    try:
        cs, witness = build_circuit(name, get_preset(preset), setup=setup)
        pk = load_or_setup(cs, name, preset, KEYS_DIR)
    except (UnknownCircuitError, UnknownPresetError, KeyFileError, KeyMismatchError) as e:
        raise _fail(str(e)) from None
    return cs, witness or [], pk


def prove(
    name: Annotated[str, typer.Argument(help="A toolkit circuit: poseidon, merkle, signature.")],
    out: Annotated[Path, typer.Option(help="Directory for proof.json, public.json, vk.json.")],
    preset: PresetOption = "minimal",
    backend: BackendOption = DEFAULT_BACKEND,
) -> None:
    """Prove circuit NAME (setting up its key first if none is cached)."""
    t0 = time.perf_counter()
    cs, witness, pk = _circuit_and_key(name, preset)
    t1 = time.perf_counter()
    try:
        proof = Prover(pk, get_backend(backend)).prove(cs, witness)
    except UnknownBackendError as e:
        raise _fail(str(e)) from None
    t2 = time.perf_counter()
    write_proof_dir(out, pk.vk, proof, cs.public_inputs(witness))
    console.print(f"{name} ({preset}): {len(cs.constraints)} constraints, {cs.num_wires} wires")
    console.print(f"circuit + key {t1 - t0:.2f} s, prove {t2 - t1:.2f} s -> {out}")


def verify_dir(
    directory: Annotated[Path, typer.Argument(help="A directory written by `zkperp prove`.")],
    backend: BackendOption = DEFAULT_BACKEND,
) -> None:
    """Verify DIR's proof.json against its vk.json and public.json."""
    try:
        vk, proof, inputs = read_proof_dir(directory)
        valid = verify(vk, inputs, proof, get_backend(backend))
    except (MalformedEncodingError, UnknownBackendError) as e:
        raise _fail(str(e)) from None
    if not valid:
        raise _fail(f"the proof in {directory} is INVALID")
    console.print(f"the proof in {directory} is valid ({len(inputs)} public inputs)")


@verifier_app.command("solidity")
def verifier_solidity(
    name: Annotated[str, typer.Argument(help="A toolkit circuit: poseidon, merkle, signature.")],
    out: Annotated[Path, typer.Option(help="The .sol file to write.")],
    preset: PresetOption = "minimal",
    contract: Annotated[str, typer.Option(help="Contract name.")] = "Groth16Verifier",
) -> None:
    """Write the EIP-2537 Solidity verifier of circuit NAME's verifying key."""
    _, _, pk = _circuit_and_key(name, preset, setup=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(generate_verifier(pk.vk, contract))
    console.print(f"{contract} ({pk.num_public} public inputs) -> {out}")
