"""`zkperp operator deploy | run | status`: the rollup with the real verifiers of the block and
exit circuits on the manifest's devnet, and the operator pipeline against it.

``deploy`` sets the circuits' keys up once (cached under build/keys, named by circuit digest),
generates and compiles their EIP-2537 verifiers, deploys the rollup with the genesis root of the
deployment's ``RollupConfig`` and writes build/rollup.json, which ``run``, ``status``,
``zkperp reconstruct`` and ``zkperp exit`` read. ``run`` steps the operator (L1 watcher, block
builder, prover, submitter) with rich progress bars until stopped (or once with ``--once``).
"""

from __future__ import annotations

import gc
import json
import time
from dataclasses import dataclass
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
from sequencer.api import ApiServer, ServedOperator, serve_operator
from sequencer.genesis import RollupConfig
from sequencer.operator import L1Link, Operator
from sequencer.prover_worker import CircuitProvers
from sequencer.store import Store
from sequencer.submitter import get_l1_progress

DEPLOYMENT_FILE = BUILD / "rollup.json"
OPERATOR_DB = BUILD / "operator.sqlite"
KEYS_DIR = BUILD / "keys"
API_FILE = BUILD / "api.json"
API_PORT = 8700

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
    deployment: Deployment,
    db: Path,
    confirmations: int,
    report: reports.ProgressCallback,
    cls: type[Operator] = Operator,
) -> Operator:
    w3 = chain.connect(deployment.rpc_url)
    link = L1Link(
        w3, deployment.get_rollup(w3), deployment.validator, deployment.start_block, confirmations
    )
    provers = CircuitProvers.load(deployment.config.preset, deployment.config.chain_id, KEYS_DIR)
    return cls.open(deployment.config, Store(db), link, provers, report)


@app.command("run")
def run_command(
    deployment: Annotated[Path, typer.Option(help="The deployment file.")] = DEPLOYMENT_FILE,
    db: Annotated[Path, typer.Option(help="The operator's SQLite file.")] = OPERATOR_DB,
    confirmations: Annotated[
        int, typer.Option(help="L1 blocks on top of a request (0 on an automining devnet).")
    ] = 1,
    interval: Annotated[float, typer.Option(help="Seconds between idle polls.")] = 2.0,
    once: Annotated[bool, typer.Option(help="Stop when nothing is left to do.")] = False,
    api: Annotated[bool, typer.Option(help="Serve the HTTP/WebSocket API and explorer.")] = True,
    api_host: Annotated[str, typer.Option(help="The API's address (loopback by default).")] = (
        "127.0.0.1"
    ),
    api_port: Annotated[int, typer.Option(help="The API's port (0: any free one).")] = API_PORT,
) -> None:
    """Run the operator: watch L1, build, prove and submit blocks, until Ctrl-C."""
    found = Deployment.read(deployment)
    with ProgressView.make() as view:
        operator = open_operator(found, db, confirmations, ProgressView(view), ServedOperator)
        server = start_api(operator, api_host, api_port) if api else None
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
        finally:
            if server is not None:
                server.stop()
                API_FILE.unlink(missing_ok=True)


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
