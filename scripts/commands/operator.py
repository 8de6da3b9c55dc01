"""`zkperp operator deploy | run | status`: the rollup with the real verifiers of the block and
exit circuits on the manifest's devnet, and the operator pipeline against it.

``deploy`` sets the circuits' keys up once (cached under build/keys, named by circuit digest),
generates and compiles their EIP-2537 verifiers, deploys the rollup with the genesis root of the
deployment's ``RollupConfig`` and writes build/rollup.json, which ``run``, ``status``,
``zkperp reconstruct`` and ``zkperp exit`` read, and beside it the exit circuit's proving key,
whose hash the rollup records (``scripts.deployment``: users exit with it). ``run`` steps the
operator (L1 watcher, block builder, prover, submitter) with rich progress bars until stopped
(or once with ``--once``).
"""

from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from protocol.params import get_preset
from scripts import chain, devnet
from scripts.commands.common import cli_errors
from scripts.deployment import (
    DEPLOYMENT_FILE,
    KEYS_DIR,
    Deployment,
    deploy_with_circuits,
    export_exit_key,
)
from scripts.paths import BUILD
from sequencer import progress as reports
from sequencer.genesis import RollupConfig
from sequencer.operator import L1Link, Operator
from sequencer.prover_worker import CircuitProvers
from sequencer.store import Store
from sequencer.submitter import get_l1_progress

OPERATOR_DB = BUILD / "operator.sqlite"

app = typer.Typer(help="Deploy the rollup with its circuits' verifiers and run the operator.")
console = Console()


class ProgressView:
    """A ProgressCallback drawing one rich bar per stage and batch."""

    def __init__(self, view: Progress) -> None:
        self.view = view
        self.tasks: dict[tuple[str, int], TaskID] = {}

    @staticmethod
    def make(console_: Console = console) -> Progress:
        return Progress(
            TextColumn("{task.description:<22}"),
            BarColumn(),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
            console=console_,
        )

    def __call__(self, p: reports.Progress) -> None:
        key = (p.stage, p.batch)
        task = self.tasks.get(key)
        if task is None:
            label = f"batch {p.batch} {p.stage}" if p.batch else p.stage
            task = self.tasks[key] = self.view.add_task(label, total=p.total, note="")
        self.view.update(task, completed=p.done, total=p.total, note=p.message)


@app.command("deploy")
@cli_errors
def deploy_command(
    preset: Annotated[str, typer.Option(help="minimal | devnet")] = "devnet",
    out: Annotated[Path, typer.Option(help="Where to write the deployment.")] = DEPLOYMENT_FILE,
) -> None:
    """Set the circuits' keys up (once; cached), deploy the rollup on the manifest's devnet."""
    manifest = devnet.read_manifest()
    if manifest is None or not devnet.is_alive(manifest):
        console.print("[red]error:[/red] no devnet is running; run `zkperp devnet up` first")
        raise typer.Exit(1)
    w3 = chain.connect(manifest["rpc_url"])
    fee_owner = bytes.fromhex(chain.accounts(w3)[0][2:])  # the validator: fees are the operator's
    config = RollupConfig(get_preset(preset), int(w3.eth.chain_id), fee_owner)
    with console.status("setting up (or loading) the block and exit circuits' keys"):
        provers = CircuitProvers.load(config.preset, config.chain_id, KEYS_DIR)
    deployment = deploy_with_circuits(w3, config, provers)
    deployment.write(out)
    key = export_exit_key(provers, out)
    console.print(f"rollup ({preset}) at {deployment.rollup}, USDC at {deployment.token} -> {out}")
    console.print(f"exit proving key (public; users exit with it) -> {key}")


def open_operator(
    deployment: Deployment, db: Path, confirmations: int, report: reports.ProgressCallback
) -> Operator:
    w3 = chain.connect(deployment.rpc_url)
    link = L1Link(
        w3, deployment.get_rollup(w3), deployment.validator, deployment.start_block, confirmations
    )
    provers = CircuitProvers.load(deployment.config.preset, deployment.config.chain_id, KEYS_DIR)
    return Operator.open(deployment.config, Store(db), link, provers, report)


@app.command("run")
@cli_errors
def run_command(
    deployment: Annotated[Path, typer.Option(help="The deployment file.")] = DEPLOYMENT_FILE,
    db: Annotated[Path, typer.Option(help="The operator's SQLite file.")] = OPERATOR_DB,
    confirmations: Annotated[
        int, typer.Option(help="L1 blocks on top of a request (0 on an automining devnet).")
    ] = 1,
    interval: Annotated[float, typer.Option(help="Seconds between idle polls.")] = 2.0,
    once: Annotated[bool, typer.Option(help="Stop when nothing is left to do.")] = False,
) -> None:
    """Run the operator: watch L1, build, prove and submit blocks, until Ctrl-C."""
    found = Deployment.read(deployment)
    with ProgressView.make() as view:
        operator = open_operator(found, db, confirmations, ProgressView(view))
        # The state just rebuilt lives as long as the process: keep the garbage collector from
        # scanning it again and again (about 10 % of the engine's time; docs/PERFORMANCE.md).
        gc.freeze()
        try:
            while True:
                if operator.step() is None:
                    if once:
                        break
                    time.sleep(interval)
        except KeyboardInterrupt:
            console.print("stopped; the operator's state is in " + str(db))


@app.command("status")
@cli_errors
def status_command(
    deployment: Annotated[Path, typer.Option(help="The deployment file.")] = DEPLOYMENT_FILE,
    db: Annotated[Path, typer.Option(help="The operator's SQLite file.")] = OPERATOR_DB,
) -> None:
    """Batches committed / verified / executed on L1, and the operator's mempool."""
    found = Deployment.read(deployment)
    w3 = chain.connect(found.rpc_url)
    l1 = get_l1_progress(found.get_rollup(w3))
    console.print(f"L1: committed {l1.committed}, verified {l1.verified}, executed {l1.executed}")
    store = Store(db)
    console.print(f"mempool: {len(store.get_pending_txs())} pending transaction(s)")
    for seq, error in sorted(store.get_dropped().items()):
        console.print(f"  dropped #{seq}: {error}")
