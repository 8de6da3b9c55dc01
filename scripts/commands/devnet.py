"""`zkperp devnet up | status | down`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from scripts import devnet

app = typer.Typer(help="Run the local Anvil devnet (Prague, EIP-2537 precompiles).")
console = Console()


@app.command()
def up(
    port: Annotated[int | None, typer.Option(help="Loopback port (default: a free one).")] = None,
    state: Annotated[
        Path | None, typer.Option(help="Load the chain from FILE if it exists; save on exit.")
    ] = None,
) -> None:
    """Start the devnet in the background and write build/devnet.json."""
    try:
        net = devnet.up(port=port, state_file=state)
    except devnet.DevnetError as e:
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1) from None
    console.print(f"rpc_url:  {net.rpc_url}")
    console.print(f"chain_id: {net.chain_id}")
    console.print(f"pid:      {net.pid}")


@app.command()
def status() -> None:
    """Say whether the devnet of build/devnet.json is running."""
    manifest = devnet.read_manifest()
    if manifest is None:
        console.print("devnet: not running (no build/devnet.json)")
        raise typer.Exit(1)
    if not devnet.is_alive(manifest):
        console.print(f"devnet: not answering at {manifest['rpc_url']} (stale manifest)")
        raise typer.Exit(1)
    console.print(
        f"devnet: running at {manifest['rpc_url']} (chain {manifest['chain_id']}, "
        f"pid {manifest['pid']})"
    )
    for name, info in manifest.get("contracts", {}).items():
        console.print(f"  {name}: {info.get('address')}")


@app.command()
def down() -> None:
    """Stop the devnet and remove build/devnet.json."""
    try:
        manifest = devnet.down()
    except devnet.DevnetError as e:
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1) from None
    console.print(f"devnet at {manifest['rpc_url']} stopped")
