"""`zkperp demo`: the README's main command."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from protocol.params import get_preset
from scripts import chain, devnet
from scripts.compile import compile_project

console = Console()


def demo(
    preset: Annotated[str, typer.Option(help="minimal | devnet | mainnet")] = "devnet",
) -> None:
    """Devnet up, contracts deployed, and (as the parts land) the whole rollup scenario."""
    params = get_preset(preset)
    console.rule(f"zkperp demo ({params.name} preset)")
    with devnet.running() as net:
        console.print(f"devnet at {net.rpc_url}, chain {net.chain_id}")
        w3 = chain.connect(net.rpc_url)
        artifacts = compile_project()
        console.print(f"compiled {len(artifacts)} contracts: {', '.join(sorted(artifacts))}")
        counter = chain.deploy(w3, artifacts["Counter"])
        console.print(f"deployed Counter at {counter.address}")
        console.print(
            "[yellow]the rollup scenario is not built yet: only the toolchain ran[/yellow]"
        )
