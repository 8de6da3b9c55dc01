"""`zkperp operator deploy | run | status`: the rollup with the real verifiers of the block and
exit circuits on the manifest's devnet, and the operator pipeline against it.

``deploy`` sets the circuits' keys up once (cached under build/keys, named by circuit digest),
generates and compiles their EIP-2537 verifiers, deploys the rollup with the genesis root of the
deployment's ``RollupConfig`` and writes build/rollup.json, which ``run``, ``status``,
``zkperp reconstruct`` and ``zkperp exit`` read. ``run`` steps the operator (L1 watcher, block
builder, prover, submitter) with rich progress bars until stopped (or once with ``--once``),
and logs every stage of every batch to stderr and to a rotating file (build/operator.log, or
``--log-file``), so an unattended operator leaves a record; a step that fails is logged with
its traceback, the operator's states are rebuilt from its store, and it tries again.

``run`` proves in its own process, one block at a time, unless asked for more: ``--provers N``
(N > 1) proves N consecutive blocks at once on Ray workers, Ray embedded in the operator's
process; ``--ray-address HOST:PORT`` joins a running Ray cluster instead
(``sequencer.ray_pool``; docs/PERFORMANCE.md measures both).
"""

from __future__ import annotations

import gc
import json
import logging
import sys
import time
from dataclasses import dataclass
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from web3 import Web3
from web3.contract import Contract

from protocol.params import get_preset
from scripts import chain, devnet
from scripts.compile import compile_project, compile_sources
from scripts.deploy import deploy_rollup
from scripts.paths import BUILD
from sequencer import progress as reports
from sequencer.genesis import RollupConfig
from sequencer.operator import L1Link, Operator
from sequencer.proof_pool import BlockProver, ProofPool
from sequencer.prover_worker import CircuitProvers
from sequencer.store import Store
from sequencer.submitter import get_l1_progress

DEPLOYMENT_FILE = BUILD / "rollup.json"
OPERATOR_DB = BUILD / "operator.sqlite"
KEYS_DIR = BUILD / "keys"
LOG_FILE = BUILD / "operator.log"
LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
LOG_MAX_BYTES = 10 << 20  # then operator.log.1, ... .5
LOG_BACKUPS = 5

log = logging.getLogger("zkperp.operator")

app = typer.Typer(help="Deploy the rollup with its circuits' verifiers and run the operator.")
console = Console()


@dataclass(frozen=True)
class Deployment:
    """What build/rollup.json records of a deployment."""

    rpc_url: str
    config: RollupConfig
    rollup: str
    token: str
    validator: str
    start_block: int  # the first L1 block the rollup's events can be in

    def write(self, path: Path = DEPLOYMENT_FILE) -> None:
        body = {
            "rpc_url": self.rpc_url,
            "config": json.loads(self.config.to_json()),
            "rollup": self.rollup,
            "token": self.token,
            "validator": self.validator,
            "start_block": self.start_block,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(body, indent=2))

    @classmethod
    def read(cls, path: Path = DEPLOYMENT_FILE) -> Deployment:
        if not path.exists():
            console.print(f"[red]error:[/red] no {path}; run `zkperp operator deploy` first")
            raise typer.Exit(1)
        body = json.loads(path.read_text())
        config = RollupConfig.from_json(json.dumps(body.pop("config")))
        return cls(config=config, **body)

    def get_rollup(self, w3: Web3) -> Contract:
        abi = compile_project()["Rollup"].abi
        return w3.eth.contract(address=Web3.to_checksum_address(self.rollup), abi=abi)

    def get_token(self, w3: Web3) -> Contract:
        abi = compile_project()["TestUSDC"].abi
        return w3.eth.contract(address=Web3.to_checksum_address(self.token), abi=abi)


def deploy_with_circuits(w3: Web3, config: RollupConfig, provers: CircuitProvers) -> Deployment:
    """Deploys the rollup for ``config`` with the real verifiers of ``provers``' circuits."""
    sources = provers.generate_verifiers()
    artifacts = compile_sources({f"{name}.sol": text for name, text in sources.items()})
    validator = chain.accounts(w3)[0]
    start = int(w3.eth.block_number) + 1
    deployed = deploy_rollup(
        w3,
        config.preset,
        artifacts["BlockVerifier"],
        artifacts["ExitVerifier"],
        genesis_state_root=config.compute_genesis_root(),
    )
    url = str(getattr(w3.provider, "endpoint_uri", ""))
    return Deployment(url, config, deployed.rollup, deployed.token, validator, start)


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


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (while rich draws its bars on a
    terminal, that is its proxy, which prints the line above the bars)."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


def configure_logging(
    log_file: Path, level: int = logging.INFO, max_bytes: int = LOG_MAX_BYTES
) -> None:
    """The ``zkperp`` loggers write to stderr and to ``log_file``, rotated at ``max_bytes``
    (replacing what an earlier call set up)."""
    logger = logging.getLogger("zkperp")
    for old in [h for h in logger.handlers if getattr(h, "zkperp", False)]:
        logger.removeHandler(old)
        old.close()
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handlers: list[logging.Handler] = [
        StderrHandler(),
        RotatingFileHandler(
            log_file, maxBytes=max_bytes, backupCount=LOG_BACKUPS, encoding="utf-8"
        ),
    ]
    for handler in handlers:
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler.zkperp = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(level)


@app.command("deploy")
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
    console.print(f"rollup ({preset}) at {deployment.rollup}, USDC at {deployment.token} -> {out}")


def open_operator(
    deployment: Deployment, db: Path, confirmations: int, report: reports.ProgressCallback,
    provers: int = 1, ray_address: str | None = None,
) -> Operator:  # fmt: skip
    """The operator on ``db``, proving in this process, or on ``provers`` Ray workers (on
    Ray embedded here, or on the cluster at ``ray_address``)."""
    w3 = chain.connect(deployment.rpc_url)
    link = L1Link(
        w3, deployment.get_rollup(w3), deployment.validator, deployment.start_block, confirmations
    )
    preset = deployment.config.preset
    circuits = CircuitProvers.load(preset, deployment.config.chain_id, KEYS_DIR)
    prover: BlockProver | ProofPool = circuits
    if ray_address is not None or provers > 1:
        from sequencer.ray_pool import RayProofPool  # imports Ray: only when asked

        if ray_address is None:
            prover = RayProofPool.start_local(circuits, preset.name, KEYS_DIR, provers)
        else:
            prover = RayProofPool.join(ray_address, circuits, preset.name, KEYS_DIR, provers)
        log.info("proving on %d Ray worker(s) %s", provers, ray_address or "on this machine")
    return Operator.open(deployment.config, Store(db), link, prover, report)


@app.command("run")
def run_command(
    deployment: Annotated[Path, typer.Option(help="The deployment file.")] = DEPLOYMENT_FILE,
    db: Annotated[Path, typer.Option(help="The operator's SQLite file.")] = OPERATOR_DB,
    confirmations: Annotated[
        int, typer.Option(help="L1 blocks on top of a request (0 on an automining devnet).")
    ] = 1,
    interval: Annotated[float, typer.Option(help="Seconds between idle polls.")] = 2.0,
    once: Annotated[bool, typer.Option(help="Stop when nothing is left to do.")] = False,
    log_file: Annotated[
        Path, typer.Option(help="The log (also on stderr), rotated at 10 MiB, 5 kept.")
    ] = LOG_FILE,
    log_level: Annotated[str, typer.Option(help="DEBUG | INFO | WARNING | ERROR")] = "INFO",
    provers: Annotated[
        int, typer.Option(help="Blocks proven at once: over 1, on Ray workers (Ray embedded).")
    ] = 1,
    ray_address: Annotated[
        str | None, typer.Option(help="Prove on the Ray cluster at HOST:PORT (--provers workers).")
    ] = None,
) -> None:
    """Run the operator: watch L1, build, prove and submit blocks, until Ctrl-C."""
    level = logging.getLevelName(log_level.upper())
    if not isinstance(level, int):
        console.print(f"[red]error:[/red] no log level {log_level!r}")
        raise typer.Exit(1)
    if provers < 1:
        console.print(f"[red]error:[/red] --provers must be at least 1, not {provers}")
        raise typer.Exit(1)
    found = Deployment.read(deployment)
    configure_logging(log_file, level)
    with ProgressView.make() as view:
        operator = open_operator(found, db, confirmations, ProgressView(view), provers, ray_address)
        log.info("operator started on %s: %d block(s) in %s", found.rollup,
                 operator.state.block_number, db)  # fmt: skip
        # The state just rebuilt lives as long as the process: keep the garbage collector from
        # scanning it again and again (about 10 % of the engine's time; docs/PERFORMANCE.md).
        gc.freeze()
        outcome = "busy"
        try:
            while True:
                outcome = run_step(operator, rebuild=outcome == "failed")
                if once and outcome != "busy":
                    break
                if outcome != "busy":
                    time.sleep(interval)
        except KeyboardInterrupt:
            log.info("stopped; the operator's state is in %s", db)
            console.print("stopped; the operator's state is in " + str(db))
            return
    if outcome == "failed":
        raise typer.Exit(1)


def run_step(operator: Operator, rebuild: bool) -> str:
    """One step, after rebuilding the operator's states from its store if ``rebuild`` (the
    last step failed half-way): "busy" if it sealed a block, "idle" if there was nothing to
    do, "failed" if it raised (logged with the traceback)."""
    try:
        if rebuild:
            operator.rebuild()
        return "idle" if operator.step() is None else "busy"
    except Exception:
        log.exception("the step failed; the next one starts from the store, as after a restart")
        return "failed"


@app.command("status")
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
