"""`zkperp operator deploy | run | status`: the rollup with the real verifiers of the block and
exit circuits on the manifest's devnet, and the operator pipeline against it.

``deploy`` sets the circuits' keys up once (cached under build/keys, named by circuit digest),
generates and compiles their EIP-2537 verifiers, deploys the rollup with the genesis root of the
deployment's ``RollupConfig`` and writes build/rollup.json, which ``run``, ``status``,
``zkperp reconstruct`` and ``zkperp exit`` read, and beside it the exit circuit's proving key,
whose hash the rollup records (``scripts.deployment``: users exit with it). ``run`` steps the
operator (L1 watcher, block builder, prover, submitter) with rich progress bars until stopped
(or once with ``--once``), and logs every stage of every batch to stderr and to a rotating file
(build/operator.log, or ``--log-file``), so an unattended operator leaves a record; a step that
fails is logged with its traceback, the operator's states are rebuilt from its store, and it
tries again.

``run`` proves in its own process, one block at a time, unless asked for more: ``--provers N``
(N > 1) proves N consecutive blocks at once on Ray workers, Ray embedded in the operator's
process; ``--ray-address HOST:PORT`` joins a running Ray cluster instead
(``sequencer.ray_pool``; docs/PERFORMANCE.md measures both). ``--prices FILE`` replaces the
scripted devnet index-price feed by a file (``sequencer.price_feed``: CSV or JSON Lines of
timestamp, market, price); the feed is used once the block circuit proves pre-execution.
"""

from __future__ import annotations

import gc
import json
import logging
import sys
import time
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from protocol.blob import DataAvailability
from protocol.params import get_preset
from scripts import chain, devnet
from scripts.commands.common import CommandError, cli_errors
from scripts.deployment import (
    DEPLOYMENT_FILE,
    KEYS_DIR,
    Deployment,
    deploy_with_circuits,
    export_exit_key,
    get_data_path,
    get_validator_key,
)
from scripts.paths import BUILD
from sequencer import progress as reports
from sequencer.api import ApiServer, ServedOperator, serve_operator
from sequencer.genesis import RollupConfig
from sequencer.operator import L1Link, Operator
from sequencer.price_feed import FilePriceFeed, PriceFeed, PriceFeedError
from sequencer.proof_pool import BlockProver, ProofPool
from sequencer.prover_worker import CircuitProvers
from sequencer.store import Store
from sequencer.submitter import get_l1_progress

OPERATOR_DB = BUILD / "operator.sqlite"
LOG_FILE = BUILD / "operator.log"
LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
LOG_MAX_BYTES = 10 << 20  # then operator.log.1, ... .5
LOG_BACKUPS = 5
API_FILE = BUILD / "api.json"
API_PORT = 8700

log = logging.getLogger("zkperp.operator")

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
@cli_errors
def deploy_command(
    preset: Annotated[str, typer.Option(help="minimal | devnet")] = "devnet",
    out: Annotated[Path, typer.Option(help="Where to write the deployment.")] = DEPLOYMENT_FILE,
    data: Annotated[
        DataAvailability,
        typer.Option(help="Where batches post pubdata: EIP-4844 blobs, or calldata."),
    ] = DataAvailability.BLOBS,
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
    deployment = deploy_with_circuits(w3, config, provers, data)
    deployment.write(out)
    key = export_exit_key(provers, out)
    console.print(
        f"rollup ({preset}, pubdata in {data.value}) at {deployment.rollup}, "
        f"USDC at {deployment.token} -> {out}"
    )
    console.print(f"exit proving key (public; users exit with it) -> {key}")


def open_operator(
    deployment: Deployment,
    db: Path,
    confirmations: int,
    report: reports.ProgressCallback,
    cls: type[Operator] = Operator,
    provers: int = 1,
    ray_address: str | None = None,
    feed: PriceFeed | None = None,
) -> Operator:
    """The operator (a ``cls``) on ``db``, proving in this process, or on ``provers`` Ray
    workers (on Ray embedded here, or on the cluster at ``ray_address``)."""
    w3 = chain.connect(deployment.rpc_url)
    rollup = deployment.get_rollup(w3)
    key = get_validator_key(deployment.validator)
    link = L1Link(w3, rollup, deployment.validator, deployment.start_block, confirmations, key)
    data = get_data_path(rollup)
    if data is DataAvailability.BLOBS and key is None:
        raise CommandError(
            f"this deployment posts blobs, signed by the validator {deployment.validator}: "
            "set ZKPERP_VALIDATOR_KEY to its private key"
        )
    preset = deployment.config.preset
    circuits = CircuitProvers.load(preset, deployment.config.chain_id, KEYS_DIR)
    circuits.data = data
    prover: BlockProver | ProofPool = circuits
    if ray_address is not None or provers > 1:
        from sequencer.ray_pool import RayProofPool  # imports Ray: only when asked

        if ray_address is None:
            prover = RayProofPool.start_local(circuits, preset.name, KEYS_DIR, provers)
        else:
            prover = RayProofPool.join(ray_address, circuits, preset.name, KEYS_DIR, provers)
        log.info("proving on %d Ray worker(s) %s", provers, ray_address or "on this machine")
    return cls.open(deployment.config, Store(db), link, prover, report, feed)


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
    api: Annotated[bool, typer.Option(help="Serve the HTTP/WebSocket API and explorer.")] = True,
    api_host: Annotated[str, typer.Option(help="The API's address (loopback by default).")] = (
        "127.0.0.1"
    ),
    api_port: Annotated[int, typer.Option(help="The API's port (0: any free one).")] = API_PORT,
    prices: Annotated[
        Path | None,
        typer.Option(
            help="Index prices: CSV timestamp,market,price or JSON Lines (default: the scripted"
            " devnet feed; docs/PROTOCOL.md 8.23)."
        ),
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
    feed = None if prices is None else load_price_file(prices, found.config)
    configure_logging(log_file, level)
    with ProgressView.make() as view:
        operator = open_operator(
            found, db, confirmations, ProgressView(view), ServedOperator, provers, ray_address,
            feed,
        )  # fmt: skip
        log.info("operator started on %s: %d block(s) in %s", found.rollup,
                 operator.state.block_number, db)  # fmt: skip
        server = start_api(operator, api_host, api_port) if api else None
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
        finally:
            if server is not None:
                server.stop()
                API_FILE.unlink(missing_ok=True)
    if outcome == "failed":
        raise typer.Exit(1)


def load_price_file(path: Path, config: RollupConfig) -> FilePriceFeed:
    """The ``--prices`` file for the deployment's markets; one clear error if it is bad."""
    try:
        return FilePriceFeed.load(path, len(config.markets), config.preset.price_bits)
    except PriceFeedError as e:
        raise CommandError(str(e)) from None


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


def start_api(operator: Operator, host: str, port: int) -> ApiServer:
    """Serves the API over ``operator``, prints its URL and records it in build/api.json
    (where the command line's wallet commands find it)."""
    assert isinstance(operator, ServedOperator)
    server = serve_operator(operator, host, port)
    API_FILE.parent.mkdir(parents=True, exist_ok=True)
    API_FILE.write_text(json.dumps({"url": server.url}))
    console.print(f"API at {server.url}  (explorer {server.url}/, OpenAPI {server.url}/docs)")
    return server


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
