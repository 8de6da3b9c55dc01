"""Prover benchmark: the block circuit's witness and proof phase by phase, Groth16 proving time
against snarkjs 0.7.6, and the gas of the generated Solidity verifier.

The block (``--block devnet``, the default): the catalog's sample block at the preset, its
witness built, then proved; every phase of the proof is then run alone (the constraint rows with
the check, the QAP's transforms, each MSM), and the proof's time is printed against the sum of
its own MSMs (the floor the curve library sets), and witness plus proof in constraints/s.

For 2^12, 2^14 and 2^16 constraints (sized so that the evaluation domain is exactly that, in
our prover and in snarkjs alike), two circuits: a dense synthetic one (random full-width wire
values, three terms per linear combination) and the toolkit's Merkle-update circuit repeated to
size. Both provers prove the same constraint system and witness: snarkjs reads them from the
iden3 .r1cs / .wtns export, with a BLS12-381 powers of tau made here (never downloaded) and
cached under build/snarkjs/. snarkjs is timed inside a node process after a warm-up proof (key
and witness in memory), as ours is timed with the key already decoded; the two take turns.

    .venv/bin/python bench/prover.py [--block devnet] [--sizes 12 14 16] [--repeat 3]
                                     [--no-snarkjs] [--gas] [--quick]

``--quick`` (what the tests run, from a fresh clone): the same steps on small circuits (the
Merkle update for the block, one 2^10 circuit against snarkjs), once each.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder heads sys.path and the file itself would shadow the
# `prover` package; bench is an installed package, so that entry can go.
if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import json
import random
import statistics
import subprocess
import time
from collections.abc import Callable
from typing import Any

from bench.common import median_seconds, print_row
from circuits.catalog import build_circuit, build_witness
from circuits.iden3 import write_r1cs, write_wtns
from circuits.r1cs import Builder, ConstraintSystem
from protocol.field import R
from protocol.params import get_preset
from prover.arkworks import to_scalars
from prover.backend import get_backend
from prover.groth16 import Prover
from prover.ntt import Domain
from prover.qap import constraint_evaluations, domain_for
from prover.setup import load_or_setup
from prover.transform import get_transform
from scripts.paths import BUILD, ROOT, SNARKJS

KEYS = BUILD / "keys"
SNARKJS_DIR = BUILD / "snarkjs"
Circuit = tuple[ConstraintSystem, list[int]]


# -- circuits ----------------------------------------------------------------------------------


def dense_circuit(log_size: int, seed: int = 1) -> Circuit:
    """``2^log_size - 2`` constraints (one public output) with random full-width values."""
    rng = random.Random(seed)
    b = Builder(witness=True)
    wires = [b.private(f"x{i}", rng.randrange(R)) for i in range(3)]
    for i in range((1 << log_size) - 3):
        left = wires[-1] * rng.randrange(R) + wires[-2] * rng.randrange(R) + wires[-3]
        right = wires[-1] + wires[-3] * rng.randrange(R) + rng.randrange(R)
        wires.append(b.mul(left, right, f"dense{i}"))
    b.expose("out", wires[-1])
    cs, witness = b.finalize()
    assert witness is not None
    return cs, witness


def public_inputs_circuit(num_public: int) -> Circuit:
    """The smallest circuit with ``num_public`` inputs: ``y * y`` and ``x_i * y``."""
    b = Builder(witness=True)
    y = b.private("y", 7)
    b.mul(y, y, "y_squared")
    for i in range(num_public):
        b.mul(b.public(f"x{i}", i + 2), y, f"x{i}_times_y")
    cs, witness = b.finalize()
    assert witness is not None
    return cs, witness


def merkle_circuit(log_size: int) -> Circuit:
    """The toolkit's Merkle-update circuit repeated as often as the domain 2^log_size allows."""
    minimal = get_preset("minimal")

    def rows(repeat: int) -> int:
        cs, _ = build_circuit("merkle", minimal, setup=True, repeat=repeat)
        return len(cs.constraints) + cs.num_public + 1

    one, two = rows(1), rows(2)
    cs, witness = build_circuit(
        "merkle", minimal, repeat=1 + ((1 << log_size) - one) // (two - one)
    )
    assert witness is not None
    return cs, witness


# -- our prover --------------------------------------------------------------------------------


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def profile(prover: Prover, cs: ConstraintSystem, witness: list[int]) -> dict[str, float]:
    """Each phase of a proof run alone, one after the other (the real prover overlaps the MSMs
    with the transforms, so its wall time is less than the sum)."""
    be, domain = prover.backend, Domain(prover.pk.log_size)
    rows: tuple[list[int], ...] = ()
    evals: tuple[list[int], ...] = ()
    h_scalars: list[int] = []

    def check() -> None:
        nonlocal rows
        rows = cs.checked_rows(witness)

    def pad() -> None:
        nonlocal evals
        a, b, c = rows
        evals = constraint_evaluations(cs, witness, domain, (a, b, c))

    def transform() -> None:
        nonlocal h_scalars
        h_scalars = prover.transform.quotient_on_coset(*evals)

    def g1_msm_of(query: Any) -> Callable[[], object]:
        return lambda: be.g1_msm(*query.scalars(witness))

    phases: dict[str, Callable[[], object]] = {
        "constraint rows + check": check,
        "padding to the domain": pad,
        f"QAP transforms ({prover.transform.name})": transform,
        "scalar conversion (witness)": lambda: to_scalars(witness),
        "MSM A (G1)": g1_msm_of(prover.a),
        "MSM B (G1)": g1_msm_of(prover.b1),
        "MSM C (G1)": g1_msm_of(prover.c),
        "MSM B (G2)": lambda: be.g2_msm(*prover.b2.scalars(witness)),
        "MSM H (G1)": lambda: be.g1_msm(prover.h, h_scalars),
    }
    return {label: timed(fn) for label, fn in phases.items()}


def print_profile(phases: dict[str, float], proof_seconds: float) -> float:
    """Print the phases and the proof's time against its own MSMs; return that ratio."""
    for phase, seconds in phases.items():
        print_row(f"  {phase}", seconds, "s")
    msms = sum(v for k, v in phases.items() if k.startswith("MSM"))
    ratio = proof_seconds / msms
    print_row("  sum of the MSMs", msms, "s")
    print(f"  proof / sum of its MSMs: {ratio:.2f} (target <= 1.15)", flush=True)
    return ratio


# -- snarkjs -----------------------------------------------------------------------------------

NODE_PROVE = """
const snarkjs = require(process.argv[1]);
const fs = require("fs");
const mem = (f) => ({ type: "mem", data: new Uint8Array(fs.readFileSync(f)) });
(async () => {
  const zkey = mem(process.argv[2]), wtns = mem(process.argv[3]);
  const times = [];
  for (let i = 0; i < Number(process.argv[4]) + 1; i++) {
    const t0 = process.hrtime.bigint();
    await snarkjs.groth16.prove(zkey, wtns);
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  console.log(JSON.stringify(times.slice(1)));
  process.exit(0);
})();
"""


def snarkjs(*args: str) -> None:
    subprocess.run(["node", str(SNARKJS), *args], check=True, capture_output=True, cwd=ROOT)


def powers_of_tau(power: int) -> Path:
    """A BLS12-381 powers of tau for domains up to 2^power, with one local contribution, prepared
    for phase 2, cached under build/snarkjs/ (a cached larger one serves too; making the 2^16
    one takes about half an hour on two busy cores, so a fresh machine pays for it once)."""
    cached = [p for p in SNARKJS_DIR.glob("pot*_final.ptau") if _ptau_power(p) >= power]
    if cached:
        return min(cached, key=_ptau_power)
    final = SNARKJS_DIR / f"pot{power}_final.ptau"
    if not final.exists():
        SNARKJS_DIR.mkdir(parents=True, exist_ok=True)
        new, mid = SNARKJS_DIR / f"pot{power}_0000.ptau", SNARKJS_DIR / f"pot{power}_0001.ptau"
        snarkjs("powersoftau", "new", "bls12-381", str(power), str(new))
        entropy = f"-e=zkperp bench {random.randrange(1 << 128)}"
        snarkjs("powersoftau", "contribute", str(new), str(mid), "--name=bench", entropy)
        snarkjs("powersoftau", "prepare", "phase2", str(mid), str(final) + ".tmp")
        Path(str(final) + ".tmp").replace(final)  # a run cut short leaves no half file behind
    return final


def _ptau_power(path: Path) -> int:
    return int(path.name.removeprefix("pot").split("_")[0])


def snarkjs_files(cs: ConstraintSystem, witness: list[int]) -> tuple[Path, Path]:
    """The circuit's .zkey (setup cached by digest) and the witness's .wtns."""
    SNARKJS_DIR.mkdir(parents=True, exist_ok=True)
    stem = SNARKJS_DIR / cs.digest().hex()[:16]
    r1cs, zkey, wtns = (stem.with_suffix(s) for s in (".r1cs", ".zkey", ".wtns"))
    if not zkey.exists():
        write_r1cs(cs, r1cs)
        ptau = powers_of_tau(domain_for(cs).log_size)
        snarkjs("groth16", "setup", str(r1cs), str(ptau), str(zkey) + ".tmp")
        Path(str(zkey) + ".tmp").replace(zkey)
    write_wtns(witness, wtns)
    return zkey, wtns


def snarkjs_prove_seconds(zkey: Path, wtns: Path) -> float:
    """One snarkjs proof, timed in a node process after one warm-up proof."""
    script = ["node", "-e", NODE_PROVE, str(ROOT / "node_modules/snarkjs/build/main.cjs")]
    out = subprocess.run(
        [*script, str(zkey), str(wtns), "1"], check=True, capture_output=True, text=True
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])[0])


def compare(
    prover: Prover, cs: ConstraintSystem, witness: list[int], repeat: int
) -> tuple[float, float]:
    """Medians of ours and snarkjs's proving times, the two taken in turns so that the load
    of this shared machine weighs on both alike."""
    zkey, wtns = snarkjs_files(cs, witness)
    prover.prove(cs, witness)  # warm-up
    ours, peer = [], []
    for _ in range(repeat):
        ours.append(timed(lambda: prover.prove(cs, witness)))
        peer.append(snarkjs_prove_seconds(zkey, wtns))
    return statistics.median(ours), statistics.median(peer)


# -- verifier gas ------------------------------------------------------------------------------


def verifier_gas(num_public: int) -> int:
    """Gas of one verifyProof transaction for a circuit with ``num_public`` inputs."""
    from prover.encoding import proof_to_bytes
    from prover.solidity import generate_verifier
    from scripts import chain, devnet
    from scripts.compile import compile_sources

    cs, witness = public_inputs_circuit(num_public)
    pk = load_or_setup(cs, f"bench-toy{num_public}", "minimal", KEYS)
    proof = proof_to_bytes(Prover(pk).prove(cs, witness))
    name = f"Toy{num_public}Verifier"
    artifact = compile_sources({f"{name}.sol": generate_verifier(pk.vk, name)})[name]
    with devnet.running() as net:
        w3 = chain.connect(net.rpc_url)
        verifier = chain.deploy(w3, artifact)
        call = verifier.functions.verifyProof(proof, cs.public_inputs(witness))
        assert call.call()
        receipt = w3.eth.wait_for_transaction_receipt(call.transact({"gas": 1_000_000}))
        return int(receipt["gasUsed"])


# -- main --------------------------------------------------------------------------------------


def bench_circuit(
    label: str, cs: ConstraintSystem, witness: list[int], args: argparse.Namespace
) -> None:
    log = domain_for(cs).log_size
    t0 = time.perf_counter()
    pk = load_or_setup(cs, f"bench-{label}", "minimal", KEYS)
    print(
        f"\n{label}: {len(cs.constraints)} constraints, {cs.num_wires} wires, domain 2^{log} "
        f"(key ready in {time.perf_counter() - t0:.1f} s)",
        flush=True,
    )
    prover = Prover(pk, get_backend())
    if args.no_snarkjs:
        ours, peer = median_seconds(lambda: prover.prove(cs, witness), args.repeat), None
    else:
        ours, peer = compare(prover, cs, witness, args.repeat)
    print_row(f"{label} prove (ours vs snarkjs)", ours, "s", peer)
    print_profile(profile(prover, cs, witness), ours)


def bench_block(
    preset_name: str, repeat: int, name: str = "block", reference: bool = False
) -> None:
    """A catalog circuit (the block) at ``preset_name``: witness, proof, phases, the proof
    against its MSMs, and witness plus proof in constraints/s."""
    preset = get_preset(preset_name)
    cs, witness = build_circuit(name, preset)
    assert witness is not None
    t0 = time.perf_counter()
    pk = load_or_setup(cs, name, preset.name, KEYS)
    print(
        f"\n{name} ({preset.name}): {len(cs.constraints):,} constraints, {cs.num_wires:,} wires, "
        f"domain 2^{pk.log_size} (key ready in {time.perf_counter() - t0:.1f} s)",
        flush=True,
    )
    whole = median_seconds(lambda: build_circuit(name, preset), repeat, warmup=0)
    build = median_seconds(lambda: build_witness(name, preset), repeat, warmup=0)
    assert build_witness(name, preset) == witness
    prover = Prover(pk, get_backend())
    proof = median_seconds(lambda: prover.prove(cs, witness), repeat)
    print_row("witness, the circuit built whole with values", whole, "s")
    print_row("witness, values only (the system cached)", build, "s", whole)
    if reference:
        pure = Prover(pk, get_backend(), get_transform("pure"))
        before = median_seconds(lambda: pure.prove(cs, witness), 1, warmup=0)
        print_row("proof with the pure-Python NTT (reference)", before, "s")
    print_row("proof (check, transforms, MSMs)", proof, "s")
    print_profile(profile(prover, cs, witness), proof)
    speed = len(cs.constraints) / (build + proof)
    print(f"  witness + proof: {speed:,.0f} constraints/s (target >= 25,000)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--block", default="devnet", help="the block circuit's preset, or none")
    parser.add_argument("--sizes", type=int, nargs="*", default=[12, 14, 16])
    parser.add_argument("--reference", action="store_true", help="also prove on the pure NTT")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--circuits", nargs="+", default=["dense", "merkle"])
    parser.add_argument("--no-snarkjs", action="store_true")
    parser.add_argument("--gas", action="store_true", help="only the verifier gas table")
    parser.add_argument("--quick", action="store_true", help="a small run of every part")
    args = parser.parse_args()
    block = "block"
    if args.quick:
        block, args.block, args.sizes, args.repeat = "merkle", "minimal", [10], 1
        args.circuits = ["dense"]
    if args.gas:
        for n in (1, 2, 4, 8):
            print_row(f"verifyProof gas, {n} public input(s)", verifier_gas(n), "gas")
        return
    if args.block != "none":
        bench_block(args.block, args.repeat, block, args.reference)
    builders = {"dense": dense_circuit, "merkle": merkle_circuit}
    for log in args.sizes:
        for kind in args.circuits:
            cs, witness = builders[kind](log)
            bench_circuit(f"{kind}-2^{log}", cs, witness, args)


if __name__ == "__main__":
    main()
