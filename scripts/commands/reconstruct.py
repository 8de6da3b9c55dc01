"""`zkperp reconstruct`: rebuild the last verified state from L1 alone and check its root."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from scripts import chain
from scripts.commands.common import (
    CommandError,
    DeploymentOption,
    RollupOption,
    RpcOption,
    cli_errors,
    locate,
)
from scripts.reconstruct import Reconstruction, ReconstructionError, reconstruct

console = Console()


def show_accounts(rebuilt: Reconstruction) -> Table:
    table = Table(title=f"accounts after batch {rebuilt.batch_number}")
    for column in ("account", "owner (L1)", "collateral (USDC)", "nonce", "L2 key"):
        table.add_column(column, justify="right" if column != "owner (L1)" else "left")
    for index, account in sorted(rebuilt.state.accounts.items()):
        if account.collateral == 0 and account.owner == bytes(20):
            continue
        table.add_row(
            str(index),
            "0x" + account.owner.hex(),
            f"{account.collateral / 1e6:,.6f}",
            str(account.nonce),
            "yes" if account.has_key() else "no",
        )
    return table


@cli_errors
def reconstruct_command(
    deployment: DeploymentOption = None, rollup: RollupOption = None, rpc: RpcOption = None
) -> None:
    """Rebuild the state of the last verified batch from L1 data and check its root."""
    found = locate(deployment, rollup, rpc)
    w3 = chain.connect(found.rpc_url)
    try:
        rebuilt = reconstruct(w3, found.get_rollup(w3), found.config)
    except ReconstructionError as e:
        raise CommandError(f"reconstruction failed: {e}") from None
    console.print(show_accounts(rebuilt))
    console.print(
        f"replayed {len(rebuilt.batches)} batch(es) from L1 calldata; state root "
        f"{rebuilt.state_root:#066x} = the contract's last verified root [green]✓[/green]"
    )
