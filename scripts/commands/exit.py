"""`zkperp exit --account N` and `zkperp desert activate | refund`: the escape hatch.

``exit`` rebuilds the last verified state from L1 alone (``scripts.reconstruct``), proves the
account's balance with the exit circuit (its key set up once, cached under build/keys), submits
``performDesert`` and pulls the owner's pending balance with ``withdrawPendingBalance``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from scripts import chain
from scripts.commands.operator import DEPLOYMENT_FILE, KEYS_DIR, Deployment
from scripts.exit import (
    ExitError,
    activate_desert_mode,
    execute_verified_batches,
    exit_account,
    refund_deposits,
    withdraw_pending_balance,
)
from scripts.reconstruct import ReconstructionError, reconstruct
from sequencer.prover_worker import ExitCircuitProver

console = Console()
desert_app = typer.Typer(help="Desert mode: activate it once a request is overdue, refund.")

DeploymentOption = Annotated[Path, typer.Option(help="The deployment file.")]
SenderOption = Annotated[
    str | None, typer.Option(help="The node account that sends (default: its first one).")
]
USDC = 1_000_000


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(1)


def exit_command(
    account: Annotated[int, typer.Option(help="The L2 account to exit.")],
    deployment: DeploymentOption = DEPLOYMENT_FILE,
    sender: SenderOption = None,
) -> None:
    """Exit ACCOUNT in desert mode: rebuild the state from L1, prove, performDesert, withdraw."""
    found = Deployment.read(deployment)
    w3 = chain.connect(found.rpc_url)
    rollup = found.get_rollup(w3)
    if not rollup.functions.desertMode().call():
        raise _fail("desert mode is not active (`zkperp desert activate` once a request expires)")
    sender = sender or chain.accounts(w3)[0]
    try:
        with console.status("rebuilding the last verified state from L1"):
            rebuilt = reconstruct(w3, rollup, found.config)
        if account not in rebuilt.state.accounts:
            raise _fail(f"account {account} does not exist in batch {rebuilt.batch_number}")
        for number in execute_verified_batches(w3, rollup, rebuilt, sender):
            console.print(f"executed verified batch {number} (its withdrawals are paid so)")
        with console.status("proving the account's balance with the exit circuit"):
            prover = ExitCircuitProver.load(found.config.preset, KEYS_DIR)
            result = exit_account(w3, rollup, rebuilt, account, prover, sender)
        paid = withdraw_pending_balance(w3, rollup, result.owner, sender)
    except (ExitError, ReconstructionError) as e:
        raise _fail(str(e)) from None
    console.print(
        f"account {account} exited with {result.amount / USDC:,.6f} USDC for {result.owner} "
        f"(performDesert: {result.gas:,} gas); {paid / USDC:,.6f} USDC paid out on L1"
    )


@desert_app.command("activate")
def activate_command(
    deployment: DeploymentOption = DEPLOYMENT_FILE, sender: SenderOption = None
) -> None:
    """Freeze the rollup for good, once the oldest unexecuted priority request has expired."""
    found = Deployment.read(deployment)
    w3 = chain.connect(found.rpc_url)
    try:
        started = activate_desert_mode(w3, found.get_rollup(w3), sender or chain.accounts(w3)[0])
    except ExitError as e:
        raise _fail(str(e)) from None
    console.print("desert mode activated" if started else "desert mode was already active")


@desert_app.command("refund")
def refund_command(
    deployment: DeploymentOption = DEPLOYMENT_FILE, sender: SenderOption = None
) -> None:
    """Cancel the requests no verified batch consumed; refund their deposits (pending balances)."""
    found = Deployment.read(deployment)
    w3 = chain.connect(found.rpc_url)
    try:
        refunded = refund_deposits(w3, found.get_rollup(w3), sender or chain.accounts(w3)[0])
    except ExitError as e:
        raise _fail(str(e)) from None
    for owner, amount in refunded.items():
        console.print(f"refunded {amount / USDC:,.6f} USDC to {owner} (pending balance)")
    if not refunded:
        console.print("no deposit to refund")
