"""`zkperp exit --account N` and `zkperp desert activate | refund`: the escape hatch.

Each reads the deployment from its file (``--deployment``, build/rollup.json by default) or, with
``--rollup ADDRESS --rpc URL``, from L1 alone. ``exit`` rebuilds the last verified state from L1
(``scripts.reconstruct``), proves the account's balance with the exit circuit, using the
deployment's published exit proving key (checked against the hash the rollup records; never a
fresh setup), submits ``performDesert`` and pulls the owner's pending balance with
``withdrawPendingBalance``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from scripts import chain
from scripts.commands.common import (
    CommandError,
    DeploymentOption,
    RollupOption,
    RpcOption,
    cli_errors,
    locate,
    parse_sender,
)
from scripts.deployment import DEPLOYMENT_FILE, load_exit_prover
from scripts.exit import (
    ExitError,
    activate_desert_mode,
    check_exit_allowed,
    execute_verified_batches,
    exit_account,
    refund_deposits,
    withdraw_pending_balance,
)
from scripts.reconstruct import ReconstructionError, reconstruct

console = Console()
desert_app = typer.Typer(help="Desert mode: activate it once a request is overdue, refund.")

SenderOption = Annotated[
    str | None, typer.Option(help="The node account that sends (default: its first one).")
]
USDC = 1_000_000


@cli_errors
def exit_command(
    account: Annotated[int, typer.Option(help="The L2 account to exit.", min=0)],
    deployment: DeploymentOption = None,
    rollup: RollupOption = None,
    rpc: RpcOption = None,
    exit_key: Annotated[
        Path | None,
        typer.Option(help="The exit proving key published with the deployment (*.exit-key)."),
    ] = None,
    sender: SenderOption = None,
) -> None:
    """Exit ACCOUNT in desert mode: rebuild the state from L1, prove, performDesert, withdraw."""
    try:
        check_exit_allowed(account)
    except ExitError as e:
        raise CommandError(str(e)) from None
    found = locate(deployment, rollup, rpc)
    w3 = chain.connect(found.rpc_url)
    contract = found.get_rollup(w3)
    sender = parse_sender(w3, sender)
    if not contract.functions.desertMode().call():
        raise CommandError(
            "desert mode is not active (`zkperp desert activate` once a request expires)"
        )
    key_home = None if rollup is not None else (deployment or DEPLOYMENT_FILE)
    prover = load_exit_prover(found.config, contract, exit_key, key_home)
    try:
        with console.status("rebuilding the last verified state from L1"):
            rebuilt = reconstruct(w3, contract, found.config)
        if account not in rebuilt.state.accounts:
            raise CommandError(f"account {account} does not exist in batch {rebuilt.batch_number}")
        for number in execute_verified_batches(w3, contract, rebuilt, sender):
            console.print(f"executed verified batch {number} (its withdrawals are paid so)")
        with console.status("proving the account's balance with the exit circuit"):
            result = exit_account(w3, contract, rebuilt, account, prover, sender)
        paid = withdraw_pending_balance(w3, contract, result.owner, sender)
    except (ExitError, ReconstructionError) as e:
        raise CommandError(str(e)) from None
    valued = f", {result.positions} open position(s) at the marks" if result.positions else ""
    console.print(
        f"account {account} exited with {result.amount / USDC:,.6f} USDC for {result.owner} "
        f"(performDesert: {result.gas:,} gas{valued}); {paid / USDC:,.6f} USDC paid out on L1"
    )


@desert_app.command("activate")
@cli_errors
def activate_command(
    deployment: DeploymentOption = None,
    rollup: RollupOption = None,
    rpc: RpcOption = None,
    sender: SenderOption = None,
) -> None:
    """Freeze the rollup for good, once the oldest unexecuted priority request has expired."""
    found = locate(deployment, rollup, rpc)
    w3 = chain.connect(found.rpc_url)
    contract = found.get_rollup(w3)
    sender = parse_sender(w3, sender)
    try:
        started = activate_desert_mode(w3, contract, sender)
    except ExitError as e:
        raise CommandError(str(e)) from None
    if not started:
        raise CommandError(
            "desert mode is already active: nothing to activate; refund queued deposits with "
            "`zkperp desert refund` and exit with `zkperp exit --account N`"
        )
    console.print("desert mode activated")


@desert_app.command("refund")
@cli_errors
def refund_command(
    deployment: DeploymentOption = None,
    rollup: RollupOption = None,
    rpc: RpcOption = None,
    sender: SenderOption = None,
) -> None:
    """Cancel the requests no verified batch consumed; refund their deposits (pending balances)."""
    found = locate(deployment, rollup, rpc)
    w3 = chain.connect(found.rpc_url)
    contract = found.get_rollup(w3)
    sender = parse_sender(w3, sender)
    try:
        refunded = refund_deposits(w3, contract, sender)
    except ExitError as e:
        raise CommandError(str(e)) from None
    for owner, amount in refunded.items():
        console.print(f"refunded {amount / USDC:,.6f} USDC to {owner} (pending balance)")
    if not refunded:
        console.print("no deposit to refund")
